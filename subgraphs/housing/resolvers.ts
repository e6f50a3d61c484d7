/**
 * The housing subgraph: each city's housing resources (inclusione abitativa)
 * and the placements it adds to a beneficiary.
 */
import type { GraphQLResolverMap } from '@apollo/subgraph';
import type { HousingResource, Placement } from '../../schema/records.ts';
import type { SubgraphContext } from '../shared/context.ts';
import { month, monthRange, type MonthRangeInput } from '../shared/scalars.ts';
import { beneficiaryRef, idOf, listAcross, loadById, loadChildren, loadReferenced, personOf } from '../shared/records.ts';
import { walk, type WalkArgs } from '../shared/walk.ts';
import { oneFigureResolvers, type Period } from '../shared/report.ts';
import { breakdown, personDimensions, personsOf, personValues } from '../shared/breakdown.ts';
import { daysBetween, UNKNOWN, type BreakdownArgs } from '../shared/figures.ts';

/** People with a placement running at some time in the period (started by its end, not ended before its start), each once. */
async function housingSupported(ctx: SubgraphContext, city: string, period: Period): Promise<{ value: number; rejected: number }> {
  const counts = await ctx.fleet.adapter(city)!.count(
    'placements',
    { where: { from: { to: period.to }, to: { from: period.from, orEmpty: true } }, distinct: 'beneficiaryId' },
    ctx.call,
  );
  return { value: counts.groups[0]?.distinct ?? 0, rejected: counts.rejected };
}

export const housingResolvers: GraphQLResolverMap<SubgraphContext> = {
  ...oneFigureResolvers('housing', 'housingSupported', 'housingCoverage', housingSupported),
  Query: {
    housingResources: (_: unknown, args: { filter?: { cities?: string[] | null; kinds?: string[] | null } | null; maxStaleness?: number | null }, ctx: SubgraphContext) =>
      listAcross(ctx, 'housing', 'housingResources', args.filter?.cities, args.filter?.kinds ? { kind: args.filter.kinds } : {}, args.maxStaleness),
    placementFigures: (_: unknown, args: BreakdownArgs, ctx: SubgraphContext) =>
      breakdown(ctx, {
        domain: 'housing',
        what: 'placements',
        allowed: [...personDimensions, 'HOUSING_KIND'],
        args,
        facts: async (city, period) => {
          const adapter = ctx.fleet.adapter(city)!;
          const [page, resources, persons] = await Promise.all([
            adapter.list('placements', { offset: 0, limit: Infinity, where: period.to ? { from: { to: period.to } } : {} }, ctx.call),
            adapter.list('housingResources', { offset: 0, limit: Infinity }, ctx.call),
            personsOf(ctx, city),
          ]);
          const kinds = new Map(resources.items.map((r) => [r.localId, r.kind]));
          const running = page.items.filter((p) => !period.from || p.to === null || p.to >= period.from);
          return {
            facts: running.map((p) => {
              const person = persons.get(p.beneficiaryId);
              return {
                city,
                personKey: person?.personKey ?? `${city}:${p.beneficiaryId}`,
                values: { ...(person ? personValues(person) : {}), MONTH: month(p.from)!, HOUSING_KIND: kinds.get(p.resourceId) ?? UNKNOWN },
                days: p.to === null ? null : daysBetween(p.from, p.to),
              };
            }),
            rejected: page.rejected,
          };
        },
      }),
    placements: (_: unknown, args: WalkArgs & { filter?: { cities?: string[] | null; startMonths?: MonthRangeInput | null } | null }, ctx: SubgraphContext) => {
      const months = monthRange(args.filter?.startMonths, 'startMonths');
      return walk(ctx, { entity: 'placements', domain: 'housing', label: 'placements', requestedCities: args.filter?.cities, where: months ? { from: months } : {}, args });
    },
  },
  HousingResource: {
    __resolveReference: (ref: { id: string }, ctx: SubgraphContext) => loadById(ctx, 'housingResources', ref.id),
    id: (r: HousingResource, _: unknown, ctx: SubgraphContext) => idOf(ctx, 'housingResources', r),
    city: (r: HousingResource) => ({ code: r.city }),
    available: (r: HousingResource) => Math.max(0, r.capacity - r.occupancy),
  },
  Placement: {
    id: (p: Placement, _: unknown, ctx: SubgraphContext) => idOf(ctx, 'placements', p),
    city: (p: Placement) => ({ code: p.city }),
    beneficiary: (p: Placement, _: unknown, ctx: SubgraphContext) => personOf(ctx, p),
    resource: (p: Placement, _: unknown, ctx: SubgraphContext) => loadReferenced(ctx, 'housingResources', p.city, p.resourceId),
    fromMonth: (p: Placement) => month(p.from),
    toMonth: (p: Placement) => month(p.to),
  },
  Beneficiary: {
    __resolveReference: (ref: { id: string }, ctx: SubgraphContext) => beneficiaryRef(ctx, ref),
    placements: (b: { city: string; localId: string }, _: unknown, ctx: SubgraphContext) => loadChildren(ctx, 'placements', b),
  },
};
