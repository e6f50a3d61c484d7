/**
 * The people subgraph: beneficiaries and their intake, read from every city
 * concurrently and paged across cities with an opaque cursor.
 */
import type { GraphQLResolverMap } from '@apollo/subgraph';
import type { Where } from '../../adapters/port.ts';
import type { Caller } from '../../access/caller.ts';
import { badInput, forbidden } from '../../schema/errors.ts';
import type { Beneficiary } from '../../schema/records.ts';
import type { SubgraphContext } from '../shared/context.ts';
import { askCities, citiesToAsk, coverageOf } from '../shared/fan-out.ts';
import { idOf, loadRecord, refOf, staleness, withLastGood } from '../shared/records.ts';
import { month } from '../shared/scalars.ts';
import { filterDigest, readPage, type Cursor } from './paging.ts';

/** Largest page an analyst may ask for. */
export const MAX_PAGE_SIZE = 500;

interface BeneficiaryFilter {
  cities?: string[] | null;
  intakeChannels?: string[] | null;
  intakeStatuses?: string[] | null;
}

function whereOf(filter: BeneficiaryFilter | null | undefined): Where {
  const where: Record<string, string[]> = {};
  if (filter?.intakeChannels) where['intake.channel'] = [...filter.intakeChannels].sort();
  if (filter?.intakeStatuses) where['intake.status'] = [...filter.intakeStatuses].sort();
  return where;
}

/** Who a cursor is issued to: a cursor of one role or city is refused for another. */
function cursorBinding(caller: Caller): string {
  return caller.role === 'operator' ? `operator|${caller.city}` : caller.role;
}

/** The cities an operator may list: their own. Asking for another city is refused, not quietly narrowed. */
function operatorCities(caller: Caller, requested: readonly string[] | null | undefined): readonly string[] | null | undefined {
  if (caller.role !== 'operator') return requested;
  const others = (requested ?? []).filter((c) => c !== caller.city);
  if (others.length) throw forbidden(`Operators of ${caller.city} may list only that city's beneficiaries; asked for ${others.slice(0, 5).join(', ')}`);
  return requested ?? [caller.city!];
}

export const peopleResolvers: GraphQLResolverMap<SubgraphContext> = {
  Query: {
    async beneficiaries(_: unknown, args: { filter?: BeneficiaryFilter | null; first?: number | null; after?: string | null; maxStaleness?: number | null }, ctx: SubgraphContext) {
      const maxStaleness = staleness(args.maxStaleness);
      const first = args.first ?? 100;
      if (!Number.isInteger(first) || first < 0 || first > MAX_PAGE_SIZE) {
        throw badInput(`first must be between 0 and ${MAX_PAGE_SIZE}; got ${first}`);
      }
      ctx.claimRecords(first);
      const { cities, unknown } = citiesToAsk(ctx.fleet.citiesServing('people'), operatorCities(ctx.caller, args.filter?.cities));
      if (unknown.length) throw badInput(`Unknown city code(s), not in the registry: ${unknown.join(', ')}`, { cities: unknown });
      const where = whereOf(args.filter);
      const filtered = Object.keys(where).length > 0;
      const digest = filterDigest(cities, where);
      let start: Cursor = { city: cities[0] ?? '', offset: 0, filter: digest, skipped: [], totals: {} };
      if (args.after) {
        const c = ctx.cursors.decode(args.after, cursorBinding(ctx.caller));
        if ('refused' in c) throw badInput(c.refused);
        if (c.filter !== digest) throw badInput('after was issued for a different filter: page with the same filter, or start again without after');
        start = c;
      }
      const adapter = (city: string) => ctx.fleet.adapter(city)!;
      // Each read's good answer is kept: a caller who accepts stale data gets it when the city fails.
      const stale = new Map<string, Date>();
      const kept = <T>(city: string, what: string, fn: () => Promise<T>) => withLastGood(ctx, city, `beneficiaries|${city}|${digest}|${what}`, maxStaleness, stale, fn);
      // A city's slice comes with its total.
      const read = (city: string, offset: number, limit: number) =>
        kept(city, `${offset}+${limit}`, () => adapter(city).list('beneficiaries', { offset, limit, where }, ctx.call));
      const page = await readPage<Beneficiary>({
        cities,
        first,
        start,
        ask: (list, fn) => askCities(ctx, list, fn),
        // A filtered count reads the matching records anyway: keep them for the slices.
        count: (city) =>
          kept(city, 'count', () => adapter(city).list('beneficiaries', { offset: 0, limit: filtered ? Infinity : 0, where }, ctx.call)).then((p) => ({
            total: p.total,
            items: filtered ? p.items : undefined,
          })),
        slice: read,
        // The city at the cursor answers its count and the page's slice at once.
        countWithSlice: filtered ? undefined : read,
      });
      // A city stepped over stays missing from the walk until its records are read, or to the walk's end, with where they stopped.
      const skippedCities = new Set(page.end.skipped.map((s) => s.city));
      const coverage = coverageOf(ctx, 'people', cities, page.failures.filter((f) => !skippedCities.has(f.city)));
      for (const s of page.end.skipped) {
        coverage.missing.push({
          city: { code: s.city },
          code: s.code,
          reason: s.owed
            ? `records from position ${s.offset} on are not read yet (${s.detail}): the next page asks for them again`
            : `records from position ${s.offset} on were not read in this walk: ${s.detail}`,
        });
      }
      for (const [city, asOf] of stale) if (!coverage.stale.some((s) => s.city.code === city)) coverage.stale.push({ city: { code: city }, asOf });
      coverage.citiesAnswered = cities.length - coverage.missing.length;
      return {
        totalCount: page.totalCount,
        nodes: page.nodes,
        pageInfo: { hasNextPage: page.hasNextPage, endCursor: ctx.cursors.encode(page.end, cursorBinding(ctx.caller)) },
        coverage,
      };
    },

    beneficiary: (_: unknown, args: { id: string }, ctx: SubgraphContext) => {
      const ref = refOf(ctx, 'beneficiaries', args.id);
      // An operator is told the same for another city's id as for a made-up one: whether a record exists elsewhere is not theirs to learn.
      if (ctx.caller.role === 'operator' && ref?.city !== ctx.caller.city) throw badInput(`id is not the id of a beneficiary of ${ctx.caller.city}`);
      if (!ref) throw badInput('id is not a beneficiary id this graph issued');
      return loadRecord(ctx, 'beneficiaries', ref.city, ref.localId);
    },
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
