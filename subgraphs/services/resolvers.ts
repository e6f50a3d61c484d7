/**
 * The services subgraph: each city's service catalogue, and the enrolments
 * and civic-engagement projects it adds to a beneficiary.
 */
import type { GraphQLResolverMap } from '@apollo/subgraph';
import type { CivicProject, Enrollment, Service } from '../../schema/records.ts';
import type { SubgraphContext } from '../shared/context.ts';
import { month } from '../shared/scalars.ts';
import { beneficiaryRef, idOf, listAcross, loadById, loadChildren, loadRecord } from '../shared/records.ts';

export const servicesResolvers: GraphQLResolverMap<SubgraphContext> = {
  Query: {
    services: (_: unknown, args: { filter?: { cities?: string[] | null; categories?: string[] | null } | null; maxStaleness?: number | null }, ctx: SubgraphContext) =>
      listAcross(ctx, 'services', 'services', args.filter?.cities, args.filter?.categories ? { category: args.filter.categories } : {}, args.maxStaleness),
  },
  Service: {
    __resolveReference: (ref: { id: string }, ctx: SubgraphContext) => loadById(ctx, 'services', ref.id),
    id: (s: Service, _: unknown, ctx: SubgraphContext) => idOf(ctx, 'services', s),
    city: (s: Service) => ({ code: s.city }),
  },
  Enrollment: {
    id: (e: Enrollment, _: unknown, ctx: SubgraphContext) => idOf(ctx, 'enrollments', e),
    service: (e: Enrollment, _: unknown, ctx: SubgraphContext) => loadRecord(ctx, 'services', e.city, e.serviceId),
    fromMonth: (e: Enrollment) => month(e.from),
    toMonth: (e: Enrollment) => month(e.to),
  },
  CivicProject: {
    id: (c: CivicProject, _: unknown, ctx: SubgraphContext) => idOf(ctx, 'civicProjects', c),
    signedMonth: (c: CivicProject) => month(c.signedOn),
  },
  Beneficiary: {
    __resolveReference: (ref: { id: string }, ctx: SubgraphContext) => beneficiaryRef(ctx, ref),
    enrollments: (b: { city: string; localId: string }, _: unknown, ctx: SubgraphContext) => loadChildren(ctx, 'enrollments', b),
    civicProjects: (b: { city: string; localId: string }, _: unknown, ctx: SubgraphContext) => loadChildren(ctx, 'civicProjects', b),
  },
};
