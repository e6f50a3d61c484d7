/**
 * The services subgraph: each city's service catalogue, and the enrolments
 * and civic-engagement projects it adds to a beneficiary.
 */
import type { GraphQLResolverMap } from '@apollo/subgraph';
import { globalId, type Enrollment } from '../../schema/records.ts';
import type { SubgraphContext } from '../shared/context.ts';
import { listAcross, loadById, loadChildren } from '../shared/records.ts';

const withCity = (r: { city: string }) => ({ code: r.city });
const id = (r: { city: string; localId: string }) => globalId(r.city, r.localId);

export const servicesResolvers: GraphQLResolverMap<SubgraphContext> = {
  Query: {
    services: (_: unknown, args: { filter?: { cities?: string[] | null; categories?: string[] | null } | null }, ctx: SubgraphContext) =>
      listAcross(ctx, 'services', 'services', args.filter?.cities, args.filter?.categories ? { category: args.filter.categories } : {}),
  },
  Service: {
    __resolveReference: (ref: { id: string }, ctx: SubgraphContext) => loadById(ctx, 'services', ref.id),
    id,
    city: withCity,
  },
  Enrollment: {
    id,
    service: (e: Enrollment, _: unknown, ctx: SubgraphContext) => loadById(ctx, 'services', globalId(e.city, e.serviceId)),
  },
  CivicProject: { id },
  Beneficiary: {
    __resolveReference: (ref: { id: string }) => ref,
    enrollments: (b: { id: string }, _: unknown, ctx: SubgraphContext) => loadChildren(ctx, 'enrollments', b.id),
    civicProjects: (b: { id: string }, _: unknown, ctx: SubgraphContext) => loadChildren(ctx, 'civicProjects', b.id),
  },
};


