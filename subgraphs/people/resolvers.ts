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
import { citiesForRow, countCities, editionCities, parseRowKey, parseTotalsKey, shownCell, TOTAL, type Period, type ReportRow, type ReportTotalsRef } from '../shared/report.ts';
import { IntakeChannel } from '../../schema/code-lists.ts';
import { breakdown, personDimensions, personValues, type OpenPeriod } from '../shared/breakdown.ts';
import type { BreakdownArgs } from '../shared/figures.ts';
import { askCities, coverageOf } from '../shared/fan-out.ts';

/** A city's valid beneficiaries taken in charge in the period. */
async function intakesIn(ctx: SubgraphContext, city: string, period: OpenPeriod) {
  const range = { ...(period.from ? { from: period.from } : {}), ...(period.to ? { to: period.to } : {}) };
  return ctx.fleet.adapter(city)!.list('beneficiaries', { offset: 0, limit: Infinity, where: period.from || period.to ? { 'intake.date': range } : {} }, ctx.call);
}

/** Most pairs of cities a movers answer lists. */
const MAX_PAIRS = 100;

async function movers(ctx: SubgraphContext, args: { from?: string | null; to?: string | null; top?: number | null }) {
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
  const coverage = coverageOf(ctx, 'people', cities, fan.failures);
  coverage.rejected = fan.answers.reduce((n, a) => n + a.value.rejected, 0);
  return {
    persons,
    pairs: [...pairs]
      .map(([pair, set]) => {
        const [from, to] = pair.split('>') as [string, string];
        return { from: { code: from }, to: { code: to }, persons: set.size };
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
}

/** One city's people figures for a period: every valid record taken in charge in it, each person once, counted by the adapter. */
async function peopleFigures(ctx: SubgraphContext, city: string, period: Period): Promise<{ value: PeopleFigures; rejected: number }> {
  const counts = await ctx.fleet.adapter(city)!.count(
    'beneficiaries',
    { where: { 'intake.date': { from: period.from, to: period.to } }, by: ['personKey', 'intake.channel'] },
    ctx.call,
  );
  const persons = new Set<string>();
  const taken = new Set<string>();
  const byChannel = new Map<string, Set<string>>(IntakeChannel.options.map((c) => [c, new Set()]));
  for (const { key } of counts.groups) {
    const [personKey, channel] = key as [string, string];
    persons.add(personKey);
    if (TAKEN_IN_CHARGE_CHANNELS.has(channel)) taken.add(personKey);
    byChannel.get(channel)?.add(personKey);
  }
  return {
    value: {
      beneficiaries: persons.size,
      takenInCharge: taken.size,
      byChannel: [...byChannel].map(([channel, set]) => ({ channel, count: set.size })),
      personKeys: persons,
    },
    rejected: counts.rejected,
  };
}

const countPeople = (ctx: SubgraphContext, period: Period, cities: readonly string[]) =>
  countCities(ctx, 'people', 'people', period, cities, (city, p) => peopleFigures(ctx, city, p));

/** One column of people figures: per city counted, its value. */
const column = (values: ReadonlyMap<string, PeopleFigures>, figure: 'beneficiaries' | 'takenInCharge') => new Map([...values].map(([city, f]) => [city, f[figure]]));

/** A row's people figures; null figures when the city could not be counted. */
async function rowFigures(ctx: SubgraphContext, row: ReportRow) {
  const counted = await countPeople(ctx, row, citiesForRow(ctx, row));
  const own = counted.values.get(row.city) ?? null;
  return {
    beneficiaries: shownCell(ctx, 'CityReport.beneficiaries', row.city, column(counted.values, 'beneficiaries')),
    takenInCharge: shownCell(ctx, 'CityReport.takenInCharge', row.city, column(counted.values, 'takenInCharge')),
    byChannel: own?.byChannel ?? null,
    coverage: (await countPeople(ctx, row, [row.city])).coverage,
  };
}

async function totalsFigures(ctx: SubgraphContext, totals: ReportTotalsRef) {
  const counted = await countPeople(ctx, totals, editionCities(ctx, totals.edition));
  const all = [...counted.values.values()];
  const sum = (f: (x: PeopleFigures) => number) => all.reduce((n, x) => n + f(x), 0);
  const unique = new Set<string>();
  for (const x of all) for (const k of x.personKeys) unique.add(k);
  return {
    beneficiaries: shownCell(ctx, 'ReportTotals.beneficiaries', TOTAL, column(counted.values, 'beneficiaries')),
    takenInCharge: shownCell(ctx, 'ReportTotals.takenInCharge', TOTAL, column(counted.values, 'takenInCharge')),
    byChannel: IntakeChannel.options.map((channel) => ({ channel, count: sum((x) => x.byChannel.find((c) => c.channel === channel)!.count) })),
    uniquePersons: unique.size,
    coverage: counted.coverage,
  };
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
    __resolveReference: (ref: { key: string }) => parseTotalsKey(ref.key),
    beneficiaries: (t: ReportTotalsRef, _: unknown, ctx: SubgraphContext) => totalsFigures(ctx, t).then((r) => r.beneficiaries),
    takenInCharge: (t: ReportTotalsRef, _: unknown, ctx: SubgraphContext) => totalsFigures(ctx, t).then((r) => r.takenInCharge),
    takenInChargeByChannel: (t: ReportTotalsRef, _: unknown, ctx: SubgraphContext) => totalsFigures(ctx, t).then((r) => r.byChannel),
    uniquePersons: (t: ReportTotalsRef, _: unknown, ctx: SubgraphContext) => totalsFigures(ctx, t).then((r) => r.uniquePersons),
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
