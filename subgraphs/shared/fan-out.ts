/**
 * Asks several cities at once. A national answer costs about what the slowest
 * city costs, and a city that fails is named in the coverage (and in the
 * response's errors) while the others' data still arrives.
 */
import { CityError, asCityError, badInput } from '../../schema/errors.ts';
import type { Domain } from '../../schema/code-lists.ts';
import type { SubgraphContext } from './context.ts';

export interface CoverageResult {
  citiesAsked: number;
  citiesAnswered: number;
  missing: Array<{ city: { code: string }; code: string; reason: string }>;
  stale: Array<{ city: { code: string }; asOf: Date | null }>;
  degraded: Array<{ city: { code: string }; reason: string }>;
  /** Records of the cities that answered that were rejected, and so are in no answer. */
  rejected: number;
}

export interface FanOut<T> {
  /** Answers of the cities that answered, in the order asked. */
  answers: Array<{ city: string; value: T }>;
  failures: CityError[];
}

/**
 * Asks every city at once and sorts the outcomes. A failure is a CityError
 * naming the city: the city's own doing under its code, the query given up on
 * as CITY_TIMEOUT, and a fault of the graph's own code as INTERNAL_ERROR
 * (still naming the city, whose data is missing, but not blaming it), logged
 * here with its stack unless the adapter has already done so.
 */
export async function askCities<T>(ctx: SubgraphContext, cities: readonly string[], ask: (city: string) => Promise<T>): Promise<FanOut<T>> {
  const settled = await Promise.allSettled(cities.map((c) => ask(c)));
  const answers: FanOut<T>['answers'] = [];
  const failures: CityError[] = [];
  settled.forEach((s, i) => {
    const city = cities[i]!;
    if (s.status === 'fulfilled') answers.push({ city, value: s.value });
    else {
      const err = asCityError(s.reason, city, { signal: ctx.call.signal });
      if (err.code === 'INTERNAL_ERROR' && !(s.reason instanceof CityError)) {
        const stack = s.reason instanceof Error && s.reason.stack ? s.reason.stack : String(s.reason);
        ctx.logger?.error('internal error while asking a city', { city, code: err.code, stack });
      }
      failures.push(err);
      ctx.report(err);
    }
  });
  return { answers, failures };
}

/**
 * Which cities an answer covers: those that failed are missing; those whose
 * source for the domain served its last good snapshot are stale.
 */
export function coverageOf(ctx: SubgraphContext, domain: Domain, asked: readonly string[], failures: readonly CityError[]): CoverageResult {
  const missing = failures.map((f) => ({ city: { code: f.city }, code: f.code, reason: f.detail }));
  const failed = new Set(failures.map((f) => f.city));
  const stale: CoverageResult['stale'] = [];
  const degraded: CoverageResult['degraded'] = [];
  for (const city of asked) {
    if (failed.has(city)) continue;
    const source = ctx.fleet.adapter(city)?.sources().find((s) => s.domains.includes(domain));
    if (source?.status === 'STALE') stale.push({ city: { code: city }, asOf: source.asOf });
    if (source?.status === 'DEGRADED') degraded.push({ city: { code: city }, reason: source.reason ?? 'slow or flaky' });
  }
  return { citiesAsked: asked.length, citiesAnswered: asked.length - failed.size, missing, stale, degraded, rejected: 0 };
}

/** Most cities one question may name: the network is a few dozen. */
const MAX_CITIES = 200;

/** Shows a value a client sent inside an error message, cut short: it may be anything, of any length. */
export function shown(value: string): string {
  return JSON.stringify(value.length > 24 ? `${value.slice(0, 24)}...` : value);
}

/**
 * The cities to ask: those the filter names (any not in the registry are
 * `unknown`), or every registered one. A code that is not six digits, or a
 * list longer than any network, is the client's mistake.
 */
export function citiesToAsk(registered: readonly string[], requested: readonly string[] | null | undefined): { cities: string[]; unknown: string[] } {
  if (!requested) return { cities: [...registered], unknown: [] };
  if (requested.length > MAX_CITIES) throw badInput(`cities may name at most ${MAX_CITIES} cities; got ${requested.length}`);
  const malformed = requested.find((c) => !/^\d{6}$/.test(c));
  if (malformed !== undefined) throw badInput(`cities: ${shown(malformed)} is not an ISTAT code (six digits, e.g. "090064")`);
  const set = new Set(registered);
  const unique = [...new Set(requested)];
  return { cities: unique.filter((c) => set.has(c)).sort(), unknown: unique.filter((c) => !set.has(c)) };
}
