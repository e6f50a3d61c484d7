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
import { askCities, coverageOf, type CoverageResult } from '../shared/fan-out.ts';
import { suppressTable } from '../../access/suppression.ts';

/** People with a placement running at some time in the period (started by its end, not ended before its start), each once. */
async function housingSupported(ctx: SubgraphContext, city: string, period: Period): Promise<{ value: number; rejected: number }> {
  const counts = await ctx.fleet.adapter(city)!.count(
    'placements',
    { where: { from: { to: period.to }, to: { from: period.from, orEmpty: true } }, distinct: 'beneficiaryId' },
    ctx.call,
  );
  return { value: counts.groups[0]?.distinct ?? 0, rejected: counts.rejected };
}

/** A city's places and how many are occupied, over its valid housing resources. */
interface Occupancy {
  places: number;
  occupied: number;
}

/**
 * Every city's places and occupancy now, as the caller may see them. For the
 * dashboard role each city is a published row: its places are its occupied
 * places and its free ones (or, overbooked, its occupied places are its
 * places and those beyond them), and a small occupied count is withheld with
 * one more cell of its row, so that it cannot be worked back out. Rows hold
 * no cell in common and there is no total across cities, so what one city
 * shows depends on its own figures only, whichever other city is missing.
 */
async function housingOccupancy(ctx: SubgraphContext) {
  const cities = ctx.fleet.citiesServing('housing');
  const fan = await askCities(ctx, cities, async (city) => {
    const page = await ctx.fleet.adapter(city)!.list('housingResources', { offset: 0, limit: Infinity }, ctx.call);
    const value: Occupancy = { places: 0, occupied: 0 };
    for (const r of page.items) {
      value.places += r.capacity;
      value.occupied += r.occupancy;
    }
    return { value, rejected: page.rejected };
  });
  const coverage: CoverageResult & { rejectedWithheld?: boolean } = coverageOf(ctx, 'housing', cities, fan.failures);
  coverage.rejected = fan.answers.reduce((n, a) => n + a.value.rejected, 0);
  const exact = new Map(fan.answers.map((a) => [a.city, a.value.value]));
  // Each city's rejected housing resources are published in its data quality, suppressed there: a sum over every city beside them would undo that.
  if (ctx.caller.role === 'dashboard') coverage.rejectedWithheld = true;
  const shown = ctx.caller.role === 'dashboard' ? publishedOccupancy(ctx, exact) : exact;
  return { cities: cities.map((city): OccupancyRow => ({ city: { code: city }, places: null, occupied: null, ...shown.get(city) })), coverage };
}

/** A city's row as the caller may see it; `withheld` names the figures suppression withheld (not those of a city that could not be read). */
interface OccupancyRow {
  city: { code: string };
  places: number | null;
  occupied: number | null;
  withheld?: ReadonlySet<string>;
}

function publishedOccupancy(ctx: SubgraphContext, exact: ReadonlyMap<string, Occupancy>): Map<string, Omit<OccupancyRow, 'city'>> {
  const cells: Record<string, number> = {};
  const relations: Array<{ total: string; parts: string[] }> = [];
  const notPeople: string[] = [];
  for (const [city, { places, occupied }] of exact) {
    const rest = `${city}:rest`;
    cells[`${city}:places`] = places;
    cells[`${city}:occupied`] = occupied;
    cells[rest] = Math.abs(places - occupied);
    // Free places, or places taken beyond the resources' capacity: neither counts people.
    notPeople.push(`${city}:places`, rest);
    relations.push(
      places >= occupied
        ? { total: `${city}:places`, parts: [`${city}:occupied`, rest] }
        : { total: `${city}:occupied`, parts: [`${city}:places`, rest] },
    );
  }
  const { values } = suppressTable({ cells, relations, notPeople }, { threshold: ctx.suppressionThreshold });
  return new Map(
    [...exact.keys()].map((city) => {
      const places = values[`${city}:places`] ?? null;
      const occupied = values[`${city}:occupied`] ?? null;
      return [city, { places, occupied, withheld: new Set([...(places === null ? ['places'] : []), ...(occupied === null ? ['occupied'] : [])]) }];
    }),
  );
}

/** A withheld figure of a row, said so in the answer's errors when it is asked for. */
const occupancyFigure = (field: 'places' | 'occupied') => (row: OccupancyRow, _: unknown, ctx: SubgraphContext) => {
  if (row.withheld?.has(field)) ctx.suppressed.add(`CityOccupancy.${field}`);
  return row[field];
};

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
    housingOccupancy: (_: unknown, _args: unknown, ctx: SubgraphContext) => housingOccupancy(ctx),
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
  CityOccupancy: {
    places: occupancyFigure('places'),
    occupied: occupancyFigure('occupied'),
  },
  Coverage: {
    rejected: (c: CoverageResult & { rejectedWithheld?: boolean }, _: unknown, ctx: SubgraphContext) => {
      if (!c.rejectedWithheld) return c.rejected;
      ctx.suppressed.add('Coverage.rejected');
      return null;
    },
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
