/**
 * A paged list across cities (beneficiaries, placements, enrolments, civic
 * projects): the question is put to every city asked, and the walk follows
 * subgraphs/shared/paging.ts, so every list keeps the same guarantees:
 * each valid record exactly once, one total for the whole walk, cities
 * that fail named on every page, and signed cursors bound to the caller.
 */
import type { Where } from '../../adapters/port.ts';
import type { Caller } from '../../access/caller.ts';
import type { Domain } from '../../schema/code-lists.ts';
import { badInput, forbidden } from '../../schema/errors.ts';
import type { EntityName, EntityRecord } from '../../schema/records.ts';
import type { SubgraphContext } from './context.ts';
import { askCities, citiesToAsk, coverageOf, type CoverageResult } from './fan-out.ts';
import { filterDigest, readPage, type Cursor } from './paging.ts';
import { staleness, withLastGood } from './records.ts';

/** Largest page a caller may ask for. */
export const MAX_PAGE_SIZE = 500;

export interface WalkArgs {
  first?: number | null;
  after?: string | null;
  maxStaleness?: number | null;
}

export interface Connection<T> {
  totalCount: number;
  nodes: T[];
  pageInfo: { hasNextPage: boolean; endCursor: string };
  coverage: CoverageResult;
}

/** Who a cursor is issued to: a cursor of one role or city is refused for another. */
function cursorBinding(caller: Caller): string {
  return caller.role === 'operator' ? `operator|${caller.city}` : caller.role;
}

/** The cities an operator may list: their own. Asking for another city is refused, not quietly narrowed. */
export function operatorCities(caller: Caller, requested: readonly string[] | null | undefined, what: string): readonly string[] | null | undefined {
  if (caller.role !== 'operator') return requested;
  const others = (requested ?? []).filter((c) => c !== caller.city);
  if (others.length) throw forbidden(`Operators of ${caller.city} may list only that city's ${what}; asked for ${others.slice(0, 5).join(', ')}`);
  return requested ?? [caller.city!];
}

/**
 * One page of `entity` across the cities asked. `where` holds the
 * conditions the adapters apply; without any, a person list is read by
 * position (rejected records take a position but are never nodes), and each
 * city is read whole once per walk to count its valid records.
 */
export async function walk<E extends EntityName>(
  ctx: SubgraphContext,
  options: { entity: E; domain: Domain; label: string; requestedCities: readonly string[] | null | undefined; where: Where; args: WalkArgs },
): Promise<Connection<EntityRecord<E>>> {
  const { entity, domain, where, args } = options;
  const maxStaleness = staleness(args.maxStaleness);
  const first = args.first ?? 100;
  if (!Number.isInteger(first) || first < 0 || first > MAX_PAGE_SIZE) {
    throw badInput(`first must be between 0 and ${MAX_PAGE_SIZE}; got ${first}`);
  }
  ctx.claimRecords(first);
  const { cities, unknown } = citiesToAsk(ctx.fleet.citiesServing(domain), operatorCities(ctx.caller, options.requestedCities, options.label));
  if (unknown.length) throw badInput(`Unknown city code(s), not in the registry: ${unknown.join(', ')}`, { cities: unknown });
  const filtered = Object.keys(where).length > 0;
  // Positions count only valid records when filtered, and for the records that hang off a person:
  // the count then holds the very records the slices need.
  const byValid = filtered || entity !== 'beneficiaries';
  const digest = filterDigest(cities, { ...where, '@entity': [entity] });
  let start: Cursor = { city: cities[0] ?? '', offset: 0, filter: digest, skipped: [], totals: {}, figures: {} };
  if (args.after) {
    const c = ctx.cursors.decode(args.after, cursorBinding(ctx.caller));
    if ('refused' in c) throw badInput(c.refused);
    if (c.filter !== digest) throw badInput('after was issued for a different list or filter: page with the same filter, or start again without after');
    start = c;
  }
  const adapter = (city: string) => ctx.fleet.adapter(city)!;
  // Each read's good answer is kept: a caller who accepts stale data gets it when the city fails.
  const stale = new Map<string, Date>();
  const kept = <T>(city: string, what: string, fn: () => Promise<T>, keep?: (value: T) => T) =>
    withLastGood(ctx, city, `${entity}|${city}|${digest}|${what}`, maxStaleness, stale, fn, keep);
  const page = await readPage<EntityRecord<E>>({
    cities,
    first,
    start,
    ask: (list, fn) => askCities(ctx, list, fn),
    // A count reads the city's records whole, to know how many are valid (the
    // nodes a walk returns); a filtered one keeps the matching records for the slices.
    count: (city) =>
      kept(city, 'count', () =>
        adapter(city)
          .list(entity, { offset: 0, limit: Infinity, where }, ctx.call)
          .then((p) => ({ total: p.total, valid: p.accepted ?? p.items.length, rejected: p.rejected, items: byValid ? p.items : undefined })),
        // A count is kept without the records it read: a city's whole list would crowd the memory out.
        (c) => ({ ...c, items: undefined }),
      ),
    slice: (city, offset, limit) => kept(city, `${offset}+${limit}`, () => adapter(city).list(entity, { offset, limit, where }, ctx.call)),
  });
  // A city stepped over stays missing from the walk until its records are read, or to the walk's end, with where they stopped.
  const skippedCities = new Set(page.end.skipped.map((s) => s.city));
  const coverage = coverageOf(ctx, domain, cities, page.failures.filter((f) => !skippedCities.has(f.city)));
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
  coverage.rejected = page.rejected;
  return {
    totalCount: page.totalCount,
    nodes: page.nodes,
    pageInfo: { hasNextPage: page.hasNextPage, endCursor: ctx.cursors.encode(page.end, cursorBinding(ctx.caller)) },
    coverage,
  };
}
