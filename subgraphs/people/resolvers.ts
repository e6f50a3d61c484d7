/**
 * The people subgraph: beneficiaries and their intake, read from every city
 * concurrently and paged across cities with an opaque cursor.
 */
import type { GraphQLResolverMap } from '@apollo/subgraph';
import type { Where } from '../../adapters/port.ts';
import type { Caller } from '../../access/caller.ts';
import { badInput } from '../../schema/errors.ts';
import { globalId, type Beneficiary } from '../../schema/records.ts';
import type { SubgraphContext } from '../shared/context.ts';
import { askCities, citiesToAsk, coverageOf } from '../shared/fan-out.ts';
import { loadById } from '../shared/records.ts';
import { decodeCursor, encodeCursor, filterDigest, readPage, type Cursor } from './paging.ts';

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

/** Only the city's own operators see who a person is. */
export function canSeeIdentity(caller: Caller | null, city: string): boolean {
  return caller?.role === 'operator' && caller.city === city;
}

function personal<K extends keyof Beneficiary>(field: K) {
  return (b: Beneficiary, _: unknown, ctx: SubgraphContext) => (canSeeIdentity(ctx.caller, b.city) ? b[field] : null);
}

export const peopleResolvers: GraphQLResolverMap<SubgraphContext> = {
  Query: {
    async beneficiaries(_: unknown, args: { filter?: BeneficiaryFilter | null; first?: number | null; after?: string | null }, ctx: SubgraphContext) {
      const first = args.first ?? 100;
      if (!Number.isInteger(first) || first < 0 || first > MAX_PAGE_SIZE) {
        throw badInput(`first must be between 0 and ${MAX_PAGE_SIZE}; got ${first}`);
      }
      const { cities, unknown } = citiesToAsk(ctx.fleet.citiesServing('people'), args.filter?.cities);
      if (unknown.length) throw badInput(`Unknown city code(s), not in the registry: ${unknown.join(', ')}`, { cities: unknown });
      const where = whereOf(args.filter);
      const filtered = Object.keys(where).length > 0;
      const digest = filterDigest(cities, where);
      let start: Cursor = { city: cities[0] ?? '', offset: 0, filter: digest, skipped: [], counted: 0 };
      if (args.after) {
        const c = decodeCursor(args.after);
        if (!c) throw badInput('after is not a cursor this API issued');
        if (c.filter !== digest) throw badInput('after was issued for a different filter: page with the same filter, or start again without after');
        start = c;
      }
      const adapter = (city: string) => ctx.fleet.adapter(city)!;
      // A city's slice comes with its total.
      const read = (city: string, offset: number, limit: number) => adapter(city).list('beneficiaries', { offset, limit, where }, ctx.call);
      const page = await readPage<Beneficiary>({
        cities,
        first,
        start,
        ask: (list, fn) => askCities(ctx, list, fn),
        // A filtered count reads the matching records anyway: keep them for the slices.
        count: (city) =>
          adapter(city)
            .list('beneficiaries', { offset: 0, limit: filtered ? Infinity : 0, where }, ctx.call)
            .then((p) => ({ total: p.total, items: filtered ? p.items : undefined })),
        slice: read,
        // The city at the cursor answers its count and the page's slice at once.
        countWithSlice: filtered ? undefined : read,
      });
      // A city stepped over stays missing from the walk to its end, with where its records stopped.
      const skippedCities = new Set(page.end.skipped.map((s) => s.city));
      const coverage = coverageOf(ctx, 'people', cities, page.failures.filter((f) => !skippedCities.has(f.city)));
      for (const s of page.end.skipped) {
        coverage.missing.push({
          city: { code: s.city },
          code: s.code,
          reason: `records from position ${s.offset} on were not read in this walk: ${s.detail}`,
        });
      }
      coverage.citiesAnswered = cities.length - coverage.missing.length;
      return {
        totalCount: page.totalCount,
        nodes: page.nodes,
        pageInfo: { hasNextPage: page.hasNextPage, endCursor: encodeCursor(page.end) },
        coverage,
      };
    },

    beneficiary: (_: unknown, args: { id: string }, ctx: SubgraphContext) => loadById(ctx, 'beneficiaries', args.id),
  },

  Beneficiary: {
    __resolveReference: (ref: { id: string }, ctx: SubgraphContext) => loadById(ctx, 'beneficiaries', ref.id),
    id: (b: Beneficiary) => globalId(b.city, b.localId),
    city: (b: Beneficiary) => ({ code: b.city }),
    birthYear: (b: Beneficiary) => Number(b.birthDate.slice(0, 4)),
    givenName: personal('givenName'),
    familyName: personal('familyName'),
    fiscalCode: personal('fiscalCode'),
    birthDate: personal('birthDate'),
  },
};
