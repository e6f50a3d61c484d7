/**
 * The programme report's rows and totals, as the entities the gateway joins:
 * the registry lists them, and each domain subgraph counts its own figures
 * for them (people, housing, services), so that every figure is computed
 * where its records are. A row is one city and one period of an edition;
 * its key says which, and is checked before anything is counted.
 */
import { Edition } from '../../schema/code-lists.ts';
import { editions } from '../../schema/editions.ts';
import type { Domain } from '../../schema/code-lists.ts';
import { badInput } from '../../schema/errors.ts';
import type { SubgraphContext } from './context.ts';
import { askCities, coverageOf, type CoverageResult } from './fan-out.ts';
import { suppressTable } from '../../access/suppression.ts';
import { isWholeMonths, wholeMonths } from './figures.ts';

/** The cell of a column that holds its total. */
export const TOTAL = '@total';

/**
 * A figure of the report as the caller may see it. For the dashboard role the
 * report is a published table: each column (the edition's cities that could
 * be counted, and their total) passes through suppression together, so that a
 * city's withheld count cannot be worked back out of the total less the
 * others. `values` must then hold the whole column.
 */
export function shownCell(ctx: SubgraphContext, coordinate: string, cell: string, values: ReadonlyMap<string, number>): number | null {
  let total = 0;
  for (const v of values.values()) total += v;
  if (ctx.caller.role !== 'dashboard') return cell === TOTAL ? total : (values.get(cell) ?? null);
  const cells: Record<string, number> = { ...Object.fromEntries(values), [TOTAL]: total };
  const { values: shown } = suppressTable({ cells, relations: [{ total: TOTAL, parts: [...values.keys()] }] }, { threshold: ctx.suppressionThreshold });
  const value = shown[cell] ?? null;
  if (value === null && cells[cell] !== undefined) ctx.suppressed.add(coordinate);
  return value;
}

/** The cities whose figures a caller's row needs counted: the row's own city, or for the dashboard the whole column. */
export function citiesForRow(ctx: SubgraphContext, row: ReportRow): string[] {
  return ctx.caller.role === 'dashboard' ? editionCities(ctx, row.edition) : [row.city];
}

export interface Period {
  edition: Edition;
  /** First day counted, ISO. */
  from: string;
  /** Last day counted (included), ISO. */
  to: string;
}

export interface ReportRow extends Period {
  key: string;
  city: string;
}

export interface ReportTotalsRef extends Period {
  key: string;
}

const isoDay = /^\d{4}-\d{2}-\d{2}$/;

/** A period of an edition: its own unless `from` or `to` narrow or move it, widened to whole months (see `wholeMonths`). */
export function periodOf(edition: Edition, from?: string | null, to?: string | null): Period {
  const info = editions.find((e) => e.edition === edition)!;
  const period = wholeMonths({ edition, from: from ?? info.from, to: to ?? info.to });
  if (period.from > period.to) throw badInput(`from (${period.from}) is after to (${period.to})`);
  return period;
}

/**
 * Whether this caller may have figures for this period: whole months for
 * everyone; for the dashboard role, the edition's own period only (a key
 * sent straight to a subgraph is held to the same rules as the report).
 */
function periodAllowed(ctx: SubgraphContext, p: Period): boolean {
  if (!isWholeMonths(p.from, p.to)) return false;
  if (ctx.caller.role !== 'dashboard') return true;
  const info = editions.find((e) => e.edition === p.edition)!;
  return p.from === info.from && p.to === info.to;
}

export const rowKey = (p: Period, city: string) => `${p.edition}|${city}|${p.from}|${p.to}`;
export const totalsKey = (p: Period) => `${p.edition}|${p.from}|${p.to}`;

function periodFrom(edition: string, from: string, to: string): Period | null {
  if (!Edition.safeParse(edition).success || !isoDay.test(from) || !isoDay.test(to) || from > to) return null;
  return { edition: edition as Edition, from, to };
}

/** A row named by its key: null when the key is not one this graph issues (a city outside the edition included). */
export function parseRowKey(ctx: SubgraphContext, key: string): ReportRow | null {
  const [edition, city, from, to, ...rest] = String(key).split('|');
  const period = rest.length === 0 && edition && city && from && to ? periodFrom(edition, from, to) : null;
  if (!period || !periodAllowed(ctx, period) || !editionCities(ctx, period.edition).includes(city!)) return null;
  return { key, city: city!, ...period };
}

export function parseTotalsKey(ctx: SubgraphContext, key: string): ReportTotalsRef | null {
  const [edition, from, to, ...rest] = String(key).split('|');
  const period = rest.length === 0 && edition && from && to ? periodFrom(edition, from, to) : null;
  return period && periodAllowed(ctx, period) ? { key, ...period } : null;
}

/** The cities of an edition, by ISTAT code. */
export function editionCities(ctx: SubgraphContext, edition: Edition): string[] {
  return ctx.fleet.cities.filter((c) => c.editions.includes(edition)).map((c) => c.code);
}

/**
 * Counts of one client query, by the key the gateway gives it. The
 * gateway may put one query's parts to a subgraph in more than one request
 * (the figures, then what the registry's targets and coverage need of them):
 * they share one count of each city instead of reading it twice. Kept only
 * while the query may still be running.
 */
const byQuery = new Map<string, { at: number; value: Promise<unknown> }>();
const QUERY_MEMO_MS = 60_000;
const QUERY_MEMO_MAX = 5_000;

function sharedByQuery<T>(ctx: SubgraphContext, key: string, compute: () => Promise<T>): Promise<T> {
  // The gateway's own key of the query, never an id a client chose: two queries never share a count.
  const id = ctx.origin.queryKey;
  if (!id) return compute();
  const now = Date.now();
  for (const [k, v] of byQuery) {
    if (now - v.at < QUERY_MEMO_MS && byQuery.size <= QUERY_MEMO_MAX) break;
    byQuery.delete(k);
  }
  const full = `${id}|${key}`;
  const hit = byQuery.get(full);
  if (hit) return hit.value as Promise<T>;
  const value = compute();
  byQuery.set(full, { at: now, value });
  // A failure is not kept: the gateway asking again within the query gets a fresh try.
  value.catch(() => byQuery.delete(full));
  return value;
}

export interface Counted<T> {
  /** Per city counted, its figures. */
  values: Map<string, T>;
  coverage: CoverageResult;
}

/**
 * Counts `count` for each city, concurrently, once per request whatever
 * asks (a row, the totals): a city that fails is named in the coverage and
 * its figures are null, while the others are counted.
 */
export async function countCities<T>(
  ctx: SubgraphContext,
  domain: Domain,
  name: string,
  period: Period,
  cities: readonly string[],
  count: (city: string, period: Period) => Promise<{ value: T; rejected: number }>,
): Promise<Counted<T>> {
  const fan = await askCities(ctx, cities, (city) =>
    sharedByQuery(ctx, `${name}|${city}|${period.from}|${period.to}`, () =>
      ctx.loader<string, { value: T; rejected: number }>(`report:${name}`, city, (keys) => Promise.all(keys.map((k) => {
        const [from, to] = k.split('|');
        return count(city, { edition: period.edition, from: from!, to: to! }).catch((e: unknown) => e as Error);
      }))).load(`${period.from}|${period.to}`),
    ),
  );
  const coverage = coverageOf(ctx, domain, cities, fan.failures);
  coverage.rejected = fan.answers.reduce((n, a) => n + a.value.rejected, 0);
  return { values: new Map(fan.answers.map((a) => [a.city, a.value.value])), coverage };
}

/**
 * The resolvers of a domain subgraph whose share of the report is one figure
 * per city (people in housing, projects signed): `count` computes it for a
 * city and a period; totals are the sums over the edition's cities counted.
 */
export function oneFigureResolvers(
  domain: Domain,
  figure: string,
  coverageField: string,
  count: (ctx: SubgraphContext, city: string, period: Period) => Promise<{ value: number; rejected: number }>,
) {
  const counted = (ctx: SubgraphContext, period: Period, cities: readonly string[]) => countCities(ctx, domain, figure, period, cities, (city, p) => count(ctx, city, p));
  return {
    CityReport: {
      __resolveReference: (ref: { key: string }, ctx: SubgraphContext) => parseRowKey(ctx, ref.key),
      [figure]: (row: ReportRow, _: unknown, ctx: SubgraphContext) =>
        counted(ctx, row, citiesForRow(ctx, row)).then((c) => shownCell(ctx, `CityReport.${figure}`, row.city, c.values)),
      [coverageField]: (row: ReportRow, _: unknown, ctx: SubgraphContext) => counted(ctx, row, [row.city]).then((c) => c.coverage),
    },
    ReportTotals: {
      __resolveReference: (ref: { key: string }, ctx: SubgraphContext) => parseTotalsKey(ctx, ref.key),
      [figure]: (t: ReportTotalsRef, _: unknown, ctx: SubgraphContext) =>
        counted(ctx, t, editionCities(ctx, t.edition)).then((c) => shownCell(ctx, `ReportTotals.${figure}`, TOTAL, c.values)),
      [coverageField]: (t: ReportTotalsRef, _: unknown, ctx: SubgraphContext) => counted(ctx, t, editionCities(ctx, t.edition)).then((c) => c.coverage),
    },
  };
}
