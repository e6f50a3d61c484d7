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
import { countCities, editionCities, parseRowKey, parseTotalsKey, type Period, type ReportRow, type ReportTotalsRef } from '../shared/report.ts';
import { IntakeChannel } from '../../schema/code-lists.ts';

/** The channels of the programme's "taken in charge" indicator. */
const TAKEN_IN_CHARGE_CHANNELS: ReadonlySet<string> = new Set(['MOBILE_UNIT', 'ONE_STOP_SHOP']);

interface PeopleFigures {
  beneficiaries: number;
  takenInCharge: number;
  byChannel: Array<{ channel: string; count: number }>;
  /** Pseudonyms of the people counted, for the persons counted once across cities. */
  personKeys: ReadonlySet<string>;
}

/** One city's people figures for a period: every valid record taken in charge in it, each person once. */
async function peopleFigures(ctx: SubgraphContext, city: string, period: Period): Promise<{ value: PeopleFigures; rejected: number }> {
  const page = await ctx.fleet.adapter(city)!.list('beneficiaries', { offset: 0, limit: Infinity, where: { 'intake.date': { from: period.from, to: period.to } } }, ctx.call);
  const persons = new Set<string>();
  const taken = new Set<string>();
  const byChannel = new Map<string, Set<string>>(IntakeChannel.options.map((c) => [c, new Set()]));
  for (const b of page.items) {
    persons.add(b.personKey);
    if (TAKEN_IN_CHARGE_CHANNELS.has(b.intake.channel)) taken.add(b.personKey);
    byChannel.get(b.intake.channel)!.add(b.personKey);
  }
  return {
    value: {
      beneficiaries: persons.size,
      takenInCharge: taken.size,
      byChannel: [...byChannel].map(([channel, set]) => ({ channel, count: set.size })),
      personKeys: persons,
    },
    rejected: page.rejected,
  };
}

const countPeople = (ctx: SubgraphContext, period: Period, cities: readonly string[]) =>
  countCities(ctx, 'people', 'people', period, cities, (city, p) => peopleFigures(ctx, city, p));

/** A row's people figures; null figures when the city could not be counted. */
async function rowFigures(ctx: SubgraphContext, row: ReportRow) {
  const counted = await countPeople(ctx, row, [row.city]);
  return { figures: counted.values.get(row.city) ?? null, coverage: counted.coverage };
}

async function totalsFigures(ctx: SubgraphContext, totals: ReportTotalsRef) {
  const counted = await countPeople(ctx, totals, editionCities(ctx, totals.edition));
  const all = [...counted.values.values()];
  const sum = (f: (x: PeopleFigures) => number) => all.reduce((n, x) => n + f(x), 0);
  const unique = new Set<string>();
  for (const x of all) for (const k of x.personKeys) unique.add(k);
  return {
    beneficiaries: sum((x) => x.beneficiaries),
    takenInCharge: sum((x) => x.takenInCharge),
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
    beneficiaries: (row: ReportRow, _: unknown, ctx: SubgraphContext) => rowFigures(ctx, row).then((r) => r.figures?.beneficiaries ?? null),
    takenInCharge: (row: ReportRow, _: unknown, ctx: SubgraphContext) => rowFigures(ctx, row).then((r) => r.figures?.takenInCharge ?? null),
    takenInChargeByChannel: (row: ReportRow, _: unknown, ctx: SubgraphContext) => rowFigures(ctx, row).then((r) => r.figures?.byChannel ?? null),
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
