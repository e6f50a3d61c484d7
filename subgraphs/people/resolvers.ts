/**
 * The people subgraph: beneficiaries and their intake, read from every city
 * concurrently and paged across cities with an opaque cursor.
 */
import type { GraphQLResolverMap } from '@apollo/subgraph';
import type { Where } from '../../adapters/port.ts';
import { badInput } from '../../schema/errors.ts';
import type { Beneficiary } from '../../schema/records.ts';
import type { SubgraphContext } from '../shared/context.ts';
import { idOf, loadRecord, refOf } from '../shared/records.ts';
import { month, monthRange, type MonthRangeInput } from '../shared/scalars.ts';
import { walk, type WalkArgs } from '../shared/walk.ts';
import { suppressTable } from '../../access/suppression.ts';
import { citiesForRow, countCities, editionCities, parseRowKey, parseTotalsKey, TOTAL, type Period, type ReportRow, type ReportTotalsRef } from '../shared/report.ts';
import { IntakeChannel } from '../../schema/code-lists.ts';
import { breakdown, personDimensions, personValues, type OpenPeriod } from '../shared/breakdown.ts';
import { monthsBetween, wholeMonths, type BreakdownArgs } from '../shared/figures.ts';
import { askCities, coverageOf } from '../shared/fan-out.ts';

/** A city's valid beneficiaries taken in charge in the period. */
async function intakesIn(ctx: SubgraphContext, city: string, period: OpenPeriod) {
  const range = { ...(period.from ? { from: period.from } : {}), ...(period.to ? { to: period.to } : {}) };
  return ctx.fleet.adapter(city)!.list('beneficiaries', { offset: 0, limit: Infinity, where: period.from || period.to ? { 'intake.date': range } : {} }, ctx.call);
}

/** Most pairs of cities a movers answer lists. */
const MAX_PAIRS = 100;

async function movers(ctx: SubgraphContext, asked: { from?: string | null; to?: string | null; top?: number | null }) {
  const args = wholeMonths(asked);
  const top = args.top ?? 10;
  if (!Number.isInteger(top) || top < 1 || top > MAX_PAIRS) throw badInput(`top must be between 1 and ${MAX_PAIRS}; got ${top}`);
  if (args.from && args.to && args.from > args.to) throw badInput(`from (${args.from}) is after to (${args.to})`);
  const cities = ctx.fleet.citiesServing('people');
  const fan = await askCities(ctx, cities, (city) => intakesIn(ctx, city, { from: args.from ?? null, to: args.to ?? null }));
  // Each person's intakes, in date order: a move is from one city to the next.
  const stays = new Map<string, Array<{ city: string; date: string }>>();
  for (const a of fan.answers) {
    for (const b of a.value.items) {
      const list = stays.get(b.personKey) ?? [];
      list.push({ city: b.city, date: b.intake.date });
      stays.set(b.personKey, list);
    }
  }
  const { persons, pairs } = movesOf(stays);
  const coverage = coverageOf(ctx, 'people', cities, fan.failures);
  coverage.rejected = fan.answers.reduce((n, a) => n + a.value.rejected, 0);
  return {
    persons,
    pairs: [...pairs]
      .map(([pair, count]) => {
        const [from, to] = pair.split('>') as [string, string];
        return { from: { code: from }, to: { code: to }, persons: count };
      })
      .sort((a, b) => b.persons - a.persons || a.from.code.localeCompare(b.from.code) || a.to.code.localeCompare(b.to.code))
      .slice(0, top),
    coverage,
  };
}

/** The channels of the programme's "taken in charge" indicator. */
const TAKEN_IN_CHARGE_CHANNELS: ReadonlySet<string> = new Set(['MOBILE_UNIT', 'ONE_STOP_SHOP']);

interface PeopleFigures {
  beneficiaries: number;
  takenInCharge: number;
  byChannel: Array<{ channel: string; count: number }>;
  /** Pseudonyms of the people counted, for the persons counted once across cities. */
  personKeys: ReadonlySet<string>;
  /** By month (`YYYY-MM`) of each person's first intake in the period: the people, and those of them taken in charge. */
  byMonth: ReadonlyMap<string, { beneficiaries: number; takenInCharge: number }>;
  /** Each person's intake dates in the period, for the moves between cities. */
  intakeDates: ReadonlyMap<string, readonly string[]>;
}

/** One city's people figures for a period: every valid record taken in charge in it, each person once, counted by the adapter. */
async function peopleFigures(ctx: SubgraphContext, city: string, period: Period): Promise<{ value: PeopleFigures; rejected: number }> {
  const counts = await ctx.fleet.adapter(city)!.count(
    'beneficiaries',
    { where: { 'intake.date': { from: period.from, to: period.to } }, by: ['personKey', 'intake.channel', 'intake.date'] },
    ctx.call,
  );
  const persons = new Set<string>();
  const taken = new Set<string>();
  const byChannel = new Map<string, Set<string>>(IntakeChannel.options.map((c) => [c, new Set()]));
  const dates = new Map<string, string[]>();
  for (const { key } of counts.groups) {
    const [personKey, channel, date] = key as [string, string, string];
    persons.add(personKey);
    if (TAKEN_IN_CHARGE_CHANNELS.has(channel)) taken.add(personKey);
    byChannel.get(channel)?.add(personKey);
    const list = dates.get(personKey) ?? [];
    list.push(date);
    dates.set(personKey, list);
  }
  const byMonth = new Map<string, { beneficiaries: number; takenInCharge: number }>();
  for (const [personKey, list] of dates) {
    list.sort();
    const m = month(list[0]!)!;
    const cell = byMonth.get(m) ?? { beneficiaries: 0, takenInCharge: 0 };
    cell.beneficiaries++;
    if (taken.has(personKey)) cell.takenInCharge++;
    byMonth.set(m, cell);
  }
  return {
    value: {
      beneficiaries: persons.size,
      takenInCharge: taken.size,
      byChannel: [...byChannel].map(([channel, set]) => ({ channel, count: set.size })),
      personKeys: persons,
      byMonth,
      intakeDates: dates,
    },
    rejected: counts.rejected,
  };
}

const countPeople = (ctx: SubgraphContext, period: Period, cities: readonly string[]) =>
  countCities(ctx, 'people', 'people', period, cities, (city, p) => peopleFigures(ctx, city, p));

interface MonthFigures {
  month: string;
  beneficiaries: number | null;
  takenInCharge: number | null;
}

interface PeopleTable {
  /** People taken in charge, by city and under TOTAL, as the caller may see them. */
  b: Map<string, number | null>;
  /** Those taken in charge by a mobile unit or a one-stop-shop, likewise. */
  t: Map<string, number | null>;
  /** Every month of the period, over the cities counted. */
  months: MonthFigures[];
}

/**
 * The people figures of a report, as the caller may see them. For the
 * dashboard role they are one published table: per city and per month, the
 * people taken in charge (B) are those taken in charge by a mobile unit or a
 * one-stop-shop (T) and those only by referral (R = B - T, never shown but as
 * good as shown), with the totals of each column, which the cities and the
 * months share: all of it passes through suppression together, so that no
 * withheld count can be worked back out of the others, by row or by column,
 * from the cities or from the months. The months join the table only when
 * every city of `cities` was counted (otherwise they are withheld whole), so
 * that the table is the same whichever of its fields a query asks for.
 */
function peopleTable(ctx: SubgraphContext, period: Period, cities: readonly string[], values: ReadonlyMap<string, PeopleFigures>): PeopleTable {
  const b = new Map<string, number | null>();
  const t = new Map<string, number | null>();
  let sumB = 0;
  let sumT = 0;
  for (const [city, f] of values) {
    b.set(city, f.beneficiaries);
    t.set(city, f.takenInCharge);
    sumB += f.beneficiaries;
    sumT += f.takenInCharge;
  }
  b.set(TOTAL, sumB);
  t.set(TOTAL, sumT);
  const exactMonths = monthsBetween(period.from, period.to).map((m) => {
    let beneficiaries = 0;
    let takenInCharge = 0;
    for (const f of values.values()) {
      const cell = f.byMonth.get(m);
      beneficiaries += cell?.beneficiaries ?? 0;
      takenInCharge += cell?.takenInCharge ?? 0;
    }
    return { month: m, beneficiaries, takenInCharge };
  });
  if (ctx.caller.role !== 'dashboard') return { b, t, months: exactMonths };

  const complete = cities.every((c) => values.has(c));
  const cells: Record<string, number> = {};
  const relations: Array<{ total: string; parts: string[] }> = [];
  const row = (key: string, beneficiaries: number, takenInCharge: number) => {
    cells[`B:${key}`] = beneficiaries;
    cells[`T:${key}`] = takenInCharge;
    cells[`R:${key}`] = beneficiaries - takenInCharge;
    relations.push({ total: `B:${key}`, parts: [`T:${key}`, `R:${key}`] });
  };
  for (const key of b.keys()) row(key, b.get(key)!, t.get(key)!);
  const counted = [...values.keys()];
  for (const col of ['B', 'T', 'R']) relations.push({ total: `${col}:${TOTAL}`, parts: counted.map((c) => `${col}:${c}`) });
  if (complete) {
    for (const m of exactMonths) row(`month:${m.month}`, m.beneficiaries, m.takenInCharge);
    for (const col of ['B', 'T', 'R']) relations.push({ total: `${col}:${TOTAL}`, parts: exactMonths.map((m) => `${col}:month:${m.month}`) });
  }
  const { values: shown } = suppressTable({ cells, relations }, { threshold: ctx.suppressionThreshold });
  for (const key of b.keys()) {
    b.set(key, shown[`B:${key}`] ?? null);
    t.set(key, shown[`T:${key}`] ?? null);
  }
  const months = exactMonths.map((m) => ({
    month: m.month,
    beneficiaries: complete ? (shown[`B:month:${m.month}`] ?? null) : null,
    takenInCharge: complete ? (shown[`T:month:${m.month}`] ?? null) : null,
  }));
  return { b, t, months };
}

/** A row's people figures; null figures when the city could not be counted, or withheld from the dashboard. */
async function rowFigures(ctx: SubgraphContext, row: ReportRow) {
  const cities = citiesForRow(ctx, row);
  const counted = await countPeople(ctx, row, cities);
  const own = counted.values.get(row.city) ?? null;
  const { b, t } = peopleTable(ctx, row, cities, counted.values);
  const beneficiaries = b.get(row.city) ?? null;
  const takenInCharge = t.get(row.city) ?? null;
  if (own && beneficiaries === null) ctx.suppressed.add('CityReport.beneficiaries');
  if (own && takenInCharge === null) ctx.suppressed.add('CityReport.takenInCharge');
  return { beneficiaries, takenInCharge, byChannel: own?.byChannel ?? null, coverage: (await countPeople(ctx, row, [row.city])).coverage };
}

async function totalsFigures(ctx: SubgraphContext, totals: ReportTotalsRef) {
  const cities = editionCities(ctx, totals.edition);
  const counted = await countPeople(ctx, totals, cities);
  const all = [...counted.values.values()];
  const sum = (f: (x: PeopleFigures) => number) => all.reduce((n, x) => n + f(x), 0);
  const unique = new Set<string>();
  for (const x of all) for (const k of x.personKeys) unique.add(k);
  const { b, t, months } = peopleTable(ctx, totals, cities, counted.values);
  let uniquePersons: number | null = unique.size;
  // Persons counted in two cities are the total less the persons counted once: a small difference is a small count.
  const twice = sum((x) => x.beneficiaries) - unique.size;
  if (ctx.caller.role === 'dashboard' && twice > 0 && twice < ctx.suppressionThreshold) {
    uniquePersons = null;
    ctx.suppressed.add('ReportTotals.uniquePersons');
  }
  return {
    beneficiaries: b.get(TOTAL) ?? null,
    takenInCharge: t.get(TOTAL) ?? null,
    byChannel: IntakeChannel.options.map((channel) => ({ channel, count: sum((x) => x.byChannel.find((c) => c.channel === channel)!.count) })),
    uniquePersons,
    months,
    coverage: counted.coverage,
  };
}

/**
 * The moves between the edition's cities of the persons taken in charge in
 * more than one of them in the period: each person's intakes in date order,
 * a move from one city to the next (as `movers` counts them). For the
 * dashboard role the pairs are one published table whose total is the moves
 * in all, so that the pairs left out (those under the threshold) cannot be
 * worked back out of it; and nothing is published while a city is missing.
 */
async function reportMovers(ctx: SubgraphContext, totals: ReportTotalsRef, top: number) {
  if (!Number.isInteger(top) || top < 1 || top > MAX_PAIRS) throw badInput(`top must be between 1 and ${MAX_PAIRS}; got ${top}`);
  const cities = editionCities(ctx, totals.edition);
  const counted = await countPeople(ctx, totals, cities);
  const stays = new Map<string, Array<{ city: string; date: string }>>();
  for (const [city, f] of counted.values) {
    for (const [key, dates] of f.intakeDates) {
      const list = stays.get(key) ?? [];
      for (const date of dates) list.push({ city, date });
      stays.set(key, list);
    }
  }
  const { persons, pairs } = movesOf(stays);
  const exact = [...pairs].map(([pair, count]) => {
    const [from, to] = pair.split('>') as [string, string];
    return { pair, from: { code: from }, to: { code: to }, persons: count };
  });
  const ordered = (list: typeof exact) =>
    list
      .sort((a, b) => b.persons - a.persons || a.from.code.localeCompare(b.from.code) || a.to.code.localeCompare(b.to.code))
      .slice(0, top)
      .map(({ pair: _, ...rest }) => rest);
  if (ctx.caller.role !== 'dashboard') return { persons, pairs: ordered(exact) };
  if (!cities.every((c) => counted.values.has(c))) {
    ctx.suppressed.add('ReportMovers.persons');
    return { persons: null, pairs: [] };
  }
  const MOVES = '@moves';
  const cells: Record<string, number> = { [MOVES]: exact.reduce((n, p) => n + p.persons, 0) };
  for (const p of exact) cells[p.pair] = p.persons;
  const relations = exact.length ? [{ total: MOVES, parts: exact.map((p) => p.pair) }] : [];
  const { values: shown, withheld } = suppressTable({ cells, relations }, { threshold: ctx.suppressionThreshold });
  if (Object.keys(withheld).some((k) => k !== MOVES)) ctx.suppressed.add('ReportMovers.pairs');
  // Persons who moved are at most the moves: when those are withheld, so are they.
  const personsShown = shown[MOVES] === null ? null : persons;
  if (personsShown === null && persons > 0) ctx.suppressed.add('ReportMovers.persons');
  return { persons: personsShown, pairs: ordered(exact.filter((p) => shown[p.pair] !== null)) };
}

/** Persons in more than one city, and per pair of cities (`from>to`) the persons who moved from one to the other. */
function movesOf(stays: ReadonlyMap<string, Array<{ city: string; date: string }>>): { persons: number; pairs: Map<string, number> } {
  let persons = 0;
  const pairs = new Map<string, Set<string>>();
  for (const [key, list] of stays) {
    if (new Set(list.map((x) => x.city)).size < 2) continue;
    persons++;
    list.sort((x, y) => x.date.localeCompare(y.date) || x.city.localeCompare(y.city));
    for (let i = 1; i < list.length; i++) {
      if (list[i]!.city === list[i - 1]!.city) continue;
      const pair = `${list[i - 1]!.city}>${list[i]!.city}`;
      pairs.set(pair, (pairs.get(pair) ?? new Set()).add(key));
    }
  }
  return { persons, pairs: new Map([...pairs].map(([pair, set]) => [pair, set.size])) };
}

interface BeneficiaryFilter {
  cities?: string[] | null;
  intakeChannels?: string[] | null;
  intakeStatuses?: string[] | null;
  intakeMonths?: MonthRangeInput | null;
}

/** The filter as conditions on canonical fields. */
export function beneficiaryWhere(filter: BeneficiaryFilter | null | undefined): Where {
  const where: Record<string, Where[string]> = {};
  if (filter?.intakeChannels) where['intake.channel'] = [...filter.intakeChannels].sort();
  if (filter?.intakeStatuses) where['intake.status'] = [...filter.intakeStatuses].sort();
  const months = monthRange(filter?.intakeMonths, 'intakeMonths');
  if (months) where['intake.date'] = months;
  return where;
}

export const peopleResolvers: GraphQLResolverMap<SubgraphContext> = {
  Query: {
    beneficiaryFigures: (_: unknown, args: BreakdownArgs, ctx: SubgraphContext) =>
      breakdown(ctx, {
        domain: 'people',
        what: 'beneficiaries',
        allowed: personDimensions,
        args,
        facts: async (city, period) => {
          const page = await intakesIn(ctx, city, period);
          return {
            facts: page.items.map((b) => ({ city, personKey: b.personKey, values: { ...personValues(b), MONTH: month(b.intake.date)! } })),
            rejected: page.rejected,
          };
        },
      }),
    movers: (_: unknown, args: { from?: string | null; to?: string | null; top?: number | null }, ctx: SubgraphContext) => movers(ctx, args),
    beneficiaries: (_: unknown, args: WalkArgs & { filter?: BeneficiaryFilter | null }, ctx: SubgraphContext) =>
      walk(ctx, { entity: 'beneficiaries', domain: 'people', label: 'beneficiaries', requestedCities: args.filter?.cities, where: beneficiaryWhere(args.filter), args }),

    beneficiary: (_: unknown, args: { id: string }, ctx: SubgraphContext) => {
      const ref = refOf(ctx, 'beneficiaries', args.id);
      // An operator is told the same for another city's id as for a made-up one: whether a record exists elsewhere is not theirs to learn.
      if (ctx.caller.role === 'operator' && ref?.city !== ctx.caller.city) throw badInput(`id is not the id of a beneficiary of ${ctx.caller.city}`);
      if (!ref) throw badInput('id is not a beneficiary id this graph issued');
      return loadRecord(ctx, 'beneficiaries', ref.city, ref.localId);
    },
  },

  CityReport: {
    __resolveReference: (ref: { key: string }, ctx: SubgraphContext) => parseRowKey(ctx, ref.key),
    beneficiaries: (row: ReportRow, _: unknown, ctx: SubgraphContext) => rowFigures(ctx, row).then((r) => r.beneficiaries),
    takenInCharge: (row: ReportRow, _: unknown, ctx: SubgraphContext) => rowFigures(ctx, row).then((r) => r.takenInCharge),
    takenInChargeByChannel: (row: ReportRow, _: unknown, ctx: SubgraphContext) => rowFigures(ctx, row).then((r) => r.byChannel),
    peopleCoverage: (row: ReportRow, _: unknown, ctx: SubgraphContext) => rowFigures(ctx, row).then((r) => r.coverage),
  },
  ReportTotals: {
    __resolveReference: (ref: { key: string }, ctx: SubgraphContext) => parseTotalsKey(ctx, ref.key),
    beneficiaries: (t: ReportTotalsRef, _: unknown, ctx: SubgraphContext) => totalsFigures(ctx, t).then((r) => r.beneficiaries),
    takenInCharge: (t: ReportTotalsRef, _: unknown, ctx: SubgraphContext) => totalsFigures(ctx, t).then((r) => r.takenInCharge),
    takenInChargeByChannel: (t: ReportTotalsRef, _: unknown, ctx: SubgraphContext) => totalsFigures(ctx, t).then((r) => r.byChannel),
    uniquePersons: (t: ReportTotalsRef, _: unknown, ctx: SubgraphContext) => totalsFigures(ctx, t).then((r) => r.uniquePersons),
    intakesByMonth: async (t: ReportTotalsRef, _: unknown, ctx: SubgraphContext) => {
      const { months } = await totalsFigures(ctx, t);
      if (months.some((m) => m.beneficiaries === null)) ctx.suppressed.add('MonthIntakes.beneficiaries');
      if (months.some((m) => m.takenInCharge === null)) ctx.suppressed.add('MonthIntakes.takenInCharge');
      return months;
    },
    movers: (t: ReportTotalsRef, args: { top?: number | null }, ctx: SubgraphContext) => reportMovers(ctx, t, args.top ?? 10),
    peopleCoverage: (t: ReportTotalsRef, _: unknown, ctx: SubgraphContext) => totalsFigures(ctx, t).then((r) => r.coverage),
  },

  Beneficiary: {
    __resolveReference: (ref: { id: string }, ctx: SubgraphContext) => {
      const r = refOf(ctx, 'beneficiaries', ref.id);
      // Another city's record is no operator's to resolve, however it is named.
      if (!r || (ctx.caller.role === 'operator' && r.city !== ctx.caller.city)) return null;
      return loadRecord(ctx, 'beneficiaries', r.city, r.localId);
    },
    id: (b: Beneficiary, _: unknown, ctx: SubgraphContext) => idOf(ctx, 'beneficiaries', b),
    city: (b: Beneficiary) => ({ code: b.city }),
    birthYear: (b: Beneficiary) => Number(b.birthDate.slice(0, 4)),
    // The intake carries its record's city and id: the rules and the audit trail need them.
    intake: (b: Beneficiary) => ({ ...b.intake, city: b.city, localId: b.localId }),
  },
  Intake: {
    month: (i: { date: string }) => month(i.date),
  },
};
