/**
 * The services subgraph: each city's service catalogue, and the enrolments
 * and civic-engagement projects it adds to a beneficiary.
 */
import type { GraphQLResolverMap } from '@apollo/subgraph';
import type { CivicProject, Enrollment, Service } from '../../schema/records.ts';
import type { SubgraphContext } from '../shared/context.ts';
import type { Where } from '../../adapters/port.ts';
import { month, monthRange, type MonthRangeInput } from '../shared/scalars.ts';
import { beneficiaryRef, idOf, listAcross, loadById, loadChildren, loadReferenced, personOf } from '../shared/records.ts';
import { walk, type WalkArgs } from '../shared/walk.ts';
import { oneFigureResolvers, type Period } from '../shared/report.ts';
import { breakdown, personDimensions, personsOf, personValues } from '../shared/breakdown.ts';
import { daysBetween, NONE, UNKNOWN, type BreakdownArgs } from '../shared/figures.ts';

/** Projects signed in the period (their signing date in it), whatever their status now. */
async function civicProjectsSigned(ctx: SubgraphContext, city: string, period: Period): Promise<{ value: number; rejected: number }> {
  const counts = await ctx.fleet.adapter(city)!.count('civicProjects', { where: { signedOn: { from: period.from, to: period.to } } }, ctx.call);
  return { value: counts.groups[0]?.count ?? 0, rejected: counts.rejected };
}

export const servicesResolvers: GraphQLResolverMap<SubgraphContext> = {
  ...oneFigureResolvers('services', 'civicProjectsSigned', 'servicesCoverage', civicProjectsSigned),
  Query: {
    services: (_: unknown, args: { filter?: { cities?: string[] | null; categories?: string[] | null } | null; maxStaleness?: number | null }, ctx: SubgraphContext) =>
      listAcross(ctx, 'services', 'services', args.filter?.cities, args.filter?.categories ? { category: args.filter.categories } : {}, args.maxStaleness),
    enrollmentFigures: (_: unknown, args: BreakdownArgs, ctx: SubgraphContext) =>
      breakdown(ctx, {
        domain: 'services',
        what: 'enrolments',
        allowed: [...personDimensions, 'SERVICE_CATEGORY'],
        args,
        facts: async (city, period) => {
          const adapter = ctx.fleet.adapter(city)!;
          const [page, services, persons] = await Promise.all([
            adapter.list('enrollments', { offset: 0, limit: Infinity, where: period.to ? { from: { to: period.to } } : {} }, ctx.call),
            adapter.list('services', { offset: 0, limit: Infinity }, ctx.call),
            personsOf(ctx, city),
          ]);
          const categories = new Map(services.items.map((x) => [x.localId, x.category]));
          const running = page.items.filter((e) => !period.from || e.to === null || e.to >= period.from);
          return {
            facts: running.map((e) => {
              const person = persons.get(e.beneficiaryId);
              return {
                city,
                personKey: person?.personKey ?? `${city}:${e.beneficiaryId}`,
                values: { ...(person ? personValues(person) : {}), MONTH: month(e.from)!, SERVICE_CATEGORY: categories.get(e.serviceId) ?? UNKNOWN },
                days: e.to === null ? null : daysBetween(e.from, e.to),
              };
            }),
            rejected: page.rejected,
          };
        },
      }),
    civicProjectFigures: (_: unknown, args: BreakdownArgs, ctx: SubgraphContext) =>
      breakdown(ctx, {
        domain: 'services',
        what: 'civic projects',
        allowed: [...personDimensions, 'CIVIC_PROJECT_STATUS'],
        args,
        facts: async (city, period) => {
          const range = { ...(period.from ? { from: period.from } : {}), ...(period.to ? { to: period.to } : {}) };
          const [page, persons] = await Promise.all([
            ctx.fleet.adapter(city)!.list('civicProjects', { offset: 0, limit: Infinity, where: period.from || period.to ? { signedOn: range } : {} }, ctx.call),
            personsOf(ctx, city),
          ]);
          return {
            facts: page.items.map((c) => {
              const person = persons.get(c.beneficiaryId);
              return {
                city,
                personKey: person?.personKey ?? `${city}:${c.beneficiaryId}`,
                values: { ...(person ? personValues(person) : {}), MONTH: month(c.signedOn) ?? NONE, CIVIC_PROJECT_STATUS: c.status },
              };
            }),
            rejected: page.rejected,
          };
        },
      }),
    enrollments: (_: unknown, args: WalkArgs & { filter?: { cities?: string[] | null; startMonths?: MonthRangeInput | null } | null }, ctx: SubgraphContext) => {
      const months = monthRange(args.filter?.startMonths, 'startMonths');
      return walk(ctx, { entity: 'enrollments', domain: 'services', label: 'enrolments', requestedCities: args.filter?.cities, where: months ? { from: months } : {}, args });
    },
    civicProjects: (
      _: unknown,
      args: WalkArgs & { filter?: { cities?: string[] | null; statuses?: string[] | null; signedMonths?: MonthRangeInput | null } | null },
      ctx: SubgraphContext,
    ) => {
      const where: Record<string, Where[string]> = {};
      if (args.filter?.statuses) where.status = [...args.filter.statuses].sort();
      const months = monthRange(args.filter?.signedMonths, 'signedMonths');
      if (months) where.signedOn = months;
      return walk(ctx, { entity: 'civicProjects', domain: 'services', label: 'civic projects', requestedCities: args.filter?.cities, where, args });
    },
  },
  Service: {
    __resolveReference: (ref: { id: string }, ctx: SubgraphContext) => loadById(ctx, 'services', ref.id),
    id: (s: Service, _: unknown, ctx: SubgraphContext) => idOf(ctx, 'services', s),
    city: (s: Service) => ({ code: s.city }),
  },
  Enrollment: {
    id: (e: Enrollment, _: unknown, ctx: SubgraphContext) => idOf(ctx, 'enrollments', e),
    city: (e: Enrollment) => ({ code: e.city }),
    beneficiary: (e: Enrollment, _: unknown, ctx: SubgraphContext) => personOf(ctx, e),
    service: (e: Enrollment, _: unknown, ctx: SubgraphContext) => loadReferenced(ctx, 'services', e.city, e.serviceId),
    fromMonth: (e: Enrollment) => month(e.from),
    toMonth: (e: Enrollment) => month(e.to),
  },
  CivicProject: {
    id: (c: CivicProject, _: unknown, ctx: SubgraphContext) => idOf(ctx, 'civicProjects', c),
    city: (c: CivicProject) => ({ code: c.city }),
    beneficiary: (c: CivicProject, _: unknown, ctx: SubgraphContext) => personOf(ctx, c),
    signedMonth: (c: CivicProject) => month(c.signedOn),
  },
  Beneficiary: {
    __resolveReference: (ref: { id: string }, ctx: SubgraphContext) => beneficiaryRef(ctx, ref),
    enrollments: (b: { city: string; localId: string }, _: unknown, ctx: SubgraphContext) => loadChildren(ctx, 'enrollments', b),
    civicProjects: (b: { city: string; localId: string }, _: unknown, ctx: SubgraphContext) => loadChildren(ctx, 'civicProjects', b),
  },
};
