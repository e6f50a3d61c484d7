/**
 * The housing subgraph: each city's housing resources (inclusione abitativa)
 * and the placements it adds to a beneficiary.
 */
import type { GraphQLResolverMap } from '@apollo/subgraph';
import type { HousingResource, Placement } from '../../schema/records.ts';
import type { SubgraphContext } from '../shared/context.ts';
import { month } from '../shared/scalars.ts';
import { beneficiaryRef, idOf, listAcross, loadById, loadChildren, loadRecord } from '../shared/records.ts';

export const housingResolvers: GraphQLResolverMap<SubgraphContext> = {
  Query: {
    housingResources: (_: unknown, args: { filter?: { cities?: string[] | null; kinds?: string[] | null } | null; maxStaleness?: number | null }, ctx: SubgraphContext) =>
      listAcross(ctx, 'housing', 'housingResources', args.filter?.cities, args.filter?.kinds ? { kind: args.filter.kinds } : {}, args.maxStaleness),
  },
  HousingResource: {
    __resolveReference: (ref: { id: string }, ctx: SubgraphContext) => loadById(ctx, 'housingResources', ref.id),
    id: (r: HousingResource, _: unknown, ctx: SubgraphContext) => idOf(ctx, 'housingResources', r),
    city: (r: HousingResource) => ({ code: r.city }),
    available: (r: HousingResource) => Math.max(0, r.capacity - r.occupancy),
  },
  Placement: {
    id: (p: Placement, _: unknown, ctx: SubgraphContext) => idOf(ctx, 'placements', p),
    resource: (p: Placement, _: unknown, ctx: SubgraphContext) => loadRecord(ctx, 'housingResources', p.city, p.resourceId),
    fromMonth: (p: Placement) => month(p.from),
    toMonth: (p: Placement) => month(p.to),
  },
  Beneficiary: {
    __resolveReference: (ref: { id: string }, ctx: SubgraphContext) => beneficiaryRef(ctx, ref),
    placements: (b: { city: string; localId: string }, _: unknown, ctx: SubgraphContext) => loadChildren(ctx, 'placements', b),
  },
};
