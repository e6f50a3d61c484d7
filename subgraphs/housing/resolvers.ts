/**
 * The housing subgraph: each city's housing resources (inclusione abitativa)
 * and the placements it adds to a beneficiary.
 */
import type { GraphQLResolverMap } from '@apollo/subgraph';
import { globalId, type HousingResource, type Placement } from '../../schema/records.ts';
import type { SubgraphContext } from '../shared/context.ts';
import { listAcross, loadById, loadChildren } from '../shared/records.ts';

const id = (r: { city: string; localId: string }) => globalId(r.city, r.localId);

export const housingResolvers: GraphQLResolverMap<SubgraphContext> = {
  Query: {
    housingResources: (_: unknown, args: { filter?: { cities?: string[] | null; kinds?: string[] | null } | null }, ctx: SubgraphContext) =>
      listAcross(ctx, 'housing', 'housingResources', args.filter?.cities, args.filter?.kinds ? { kind: args.filter.kinds } : {}),
  },
  HousingResource: {
    __resolveReference: (ref: { id: string }, ctx: SubgraphContext) => loadById(ctx, 'housingResources', ref.id),
    id,
    city: (r: HousingResource) => ({ code: r.city }),
    available: (r: HousingResource) => Math.max(0, r.capacity - r.occupancy),
  },
  Placement: {
    id,
    resource: (p: Placement, _: unknown, ctx: SubgraphContext) => loadById(ctx, 'housingResources', globalId(p.city, p.resourceId)),
  },
  Beneficiary: {
    __resolveReference: (ref: { id: string }) => ref,
    placements: (b: { id: string }, _: unknown, ctx: SubgraphContext) => loadChildren(ctx, 'placements', b.id),
  },
};
