/**
 * The registry subgraph: the cities of the network (one config file each),
 * the editions with their targets, and how each city's sources are doing.
 */
import type { GraphQLResolverMap } from '@apollo/subgraph';
import type { ResolvedCity } from '../../adapters/config.ts';
import type { SourceStatus } from '../../adapters/port.ts';
import { asCityError } from '../../schema/errors.ts';
import type { SubgraphContext } from '../shared/context.ts';
import { editions, type EditionInfo } from './editions.ts';

/** A source that answered within this long is not asked again for its status, in milliseconds. */
const STATUS_MAX_AGE_MS = 30_000;

async function sourcesOf(city: ResolvedCity, ctx: SubgraphContext) {
  const adapter = ctx.fleet.adapter(city.code);
  // One check per city per request, however many fields ask.
  const live: SourceStatus[] = adapter
    ? await ctx.loader<'sources', SourceStatus[]>('sources', city.code, async (keys) => {
        const statuses = await adapter.checkSources(ctx.call, STATUS_MAX_AGE_MS);
        return keys.map(() => statuses);
      }).load('sources')
    : [];
  return city.sources.map((s) => {
    const l = live.find((x) => x.id === s.id);
    return { id: s.id, kind: s.kind.toUpperCase(), domains: [...s.domains], status: l?.status ?? 'UNKNOWN', asOf: l?.asOf ?? null };
  });
}

/** A copy: the configs are frozen, and entity resolution tags the object it returns. */
function cityByCode(ctx: SubgraphContext, code: string): ResolvedCity | null {
  const city = ctx.fleet.cities.find((c) => c.code === code);
  return city ? { ...city } : null;
}

export const registryResolvers: GraphQLResolverMap<SubgraphContext> = {
  Query: {
    cities: (_: unknown, args: { edition?: string | null }, ctx: SubgraphContext) =>
      ctx.fleet.cities.filter((c) => !args.edition || c.editions.includes(args.edition as ResolvedCity['editions'][number])),
    city: (_: unknown, args: { code: string }, ctx: SubgraphContext) => cityByCode(ctx, args.code),
    editions: () => editions,
  },
  City: {
    __resolveReference: (ref: { code: string }, ctx: SubgraphContext) => cityByCode(ctx, ref.code),
    sources: (city: ResolvedCity, _: unknown, ctx: SubgraphContext) => sourcesOf(city, ctx),
    source: async (city: ResolvedCity, _: unknown, ctx: SubgraphContext) => {
      const all = await sourcesOf(city, ctx);
      return all.find((s) => s.domains.includes('people')) ?? all[0] ?? null;
    },
    async dataQuality(city: ResolvedCity, _: unknown, ctx: SubgraphContext) {
      const adapter = ctx.fleet.adapter(city.code);
      if (!adapter) return [];
      try {
        return await adapter.dataQuality(ctx.call);
      } catch (e) {
        ctx.report(asCityError(e, city.code));
        return null;
      }
    },
  },
  EditionInfo: {
    cities: (e: EditionInfo, _: unknown, ctx: SubgraphContext) => ctx.fleet.cities.filter((c) => c.editions.includes(e.edition)),
  },
};
