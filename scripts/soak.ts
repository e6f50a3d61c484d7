/**
 * `npm run soak -- --minutes N [--concurrency C] [--seed S]`: the whole stack
 * on this machine under concurrent national queries while city faults come
 * and go, then a report: requests served, errors by code, process restarts,
 * memory of each process at start and end, and records lost.
 *
 * Records lost: for every full walk of `beneficiaries` that ends, each city
 * its last page does not name as missing must have given exactly its records
 * as the sandbox's own truth holds them (its population less the records
 * broken on purpose, which the adapters reject), each once.
 *
 * The run has three phases. Faults: every few seconds 1 to 3 cities get a
 * fault from a seeded schedule, cleared again between two specs. Recovery:
 * the same load without faults, long enough for every open circuit to let a
 * probe through, so that what follows measures the graph and not a breaker's
 * memory. Last: one clean walk, which must be complete and reconciled.
 *
 * Exit codes: 0 nothing lost and nothing unexpected; 1 a problem (listed at
 * the end of the report); 2 usage.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createIdCodec } from '../access/opaque-id.ts';
import { loadCityConfigs, requestDefaults } from '../adapters/config.ts';
import { defaultCitiesDir } from '../adapters/fleet.ts';
import { settingsEnv } from '../runtime/settings.ts';
import { startStack, type Stack } from './stack.ts';
import { createPrng, hashString } from '../sandbox/faults.ts';
import { subgraphNames, type SubgraphName } from '../schema/sdl.ts';
import type { EntityName } from '../schema/records.ts';

export type ProcessName = SubgraphName | 'gateway';
export type QueryKind = 'walk' | 'housing' | 'services' | 'cities';

export interface SoakOptions {
  /** How long the load runs, in minutes (fractions allowed). Give this or durationMs. */
  minutes?: number;
  /** How long the load runs, in milliseconds; wins over minutes. */
  durationMs?: number;
  /** Workers asking at once, each one query at a time. */
  concurrency: number;
  /** Seed of the fault schedule and of each worker's choice of query. Default 1. */
  seed?: number;
  /** Called every few seconds while the load runs, and at each change of phase. */
  onProgress?: (progress: SoakProgress) => void;
  /** Ends the load early; faults are cleared and the report still follows. */
  signal?: AbortSignal;
}

export interface SoakProgress {
  phase: 'starting' | 'faults' | 'recovery' | 'final walk' | 'done';
  /** Since the load began, in milliseconds. */
  elapsedMs: number;
  served: number;
  errors: number;
  unexpected: number;
  walksCompleted: number;
  /** The fault spec now applied ("" for none). */
  faults: string;
}

export interface UnexpectedError {
  /** Since the load began, in milliseconds. */
  atMs: number;
  query: QueryKind | 'final walk';
  code: string;
  city?: string;
  message: string;
}

export interface WalkCheck {
  pages: number;
  records: number;
  ms: number;
  /** Cities the last page names as missing, with their codes. */
  missing: Array<{ city: string; code: string }>;
  /** Per city not missing: records the sandbox holds (valid ones) that the walk did not return. */
  lost: Record<string, number>;
  /** Per city: records returned that the sandbox does not hold as valid, or a city outside it. */
  unexpected: Record<string, number>;
  /** Ids returned more than once. */
  duplicates: number;
  totalCount: number;
}

export interface FinalWalk extends WalkCheck {
  /** Nothing missing but the cities with no system connected (each as CITY_NOT_CONFIGURED). */
  complete: boolean;
  /** Nothing lost, nothing unexpected, no duplicate. */
  reconciled: boolean;
  /** Why the walk did not end, if it did not. */
  abandoned?: string;
}

export interface SoakReport {
  seed: number;
  concurrency: number;
  /** The load as planned and as run, in milliseconds. */
  durationMs: number;
  loadMs: number;
  /** The part of the load with faults, in milliseconds; the rest is recovery. */
  faultPhaseMs: number;
  /** Requests sent to the gateway, and those answered with HTTP 200. */
  requests: { sent: number; served: number };
  /** Queries finished, by kind (a walk counts once, however many pages). */
  queries: Record<QueryKind, number>;
  walks: { completed: number; withMissingCities: number; abandoned: Record<string, number> };
  /** Every `extensions.code` met, plus HTTP_<status> for an answer other than 200 and FETCH_FAILED / CLIENT_TIMEOUT for none. */
  errorsByCode: Record<string, number>;
  unexpectedErrors: { count: number; byCode: Record<string, number>; samples: UnexpectedError[] };
  faults: { applied: number; schedule: Array<{ atMs: number; spec: string }> };
  /** Times each process died and was started again during the run. */
  restarts: Record<ProcessName, number>;
  /** Resident memory in MB at the start and end of the load; `soak` is this process, which also runs the sandbox. */
  memoryMb: Record<ProcessName | 'soak', { start: number | null; end: number | null }>;
  /** Summed over completed walks, per city. */
  recordsLost: Record<string, number>;
  unexpectedRecords: Record<string, number>;
  duplicates: number;
  /** Totals and data-quality figures that disagree with the sandbox for cities that answered (at most 20 kept). */
  countMismatches: { count: number; samples: string[] };
  finalWalk: FinalWalk;
  alive: Record<ProcessName, boolean>;
  /** The gateway's /health status after the run (null: no answer). */
  health: number | null;
  /** Error lines the processes logged, by component and message. */
  processErrors: Record<string, number>;
  /** Why the run failed; empty when it passed. */
  problems: string[];
  passed: boolean;
}

/** Codes a city fault may cause; anything else is the graph's own failure. CITY_NOT_CONFIGURED is expected only for cities with no system connected. */
const EXPECTED_CITY_CODES = new Set(['CITY_UNAVAILABLE', 'CITY_TIMEOUT', 'CITY_BAD_RESPONSE']);
const FAULT_POOL = ['down', 'slow:2000', 'garbage', 'html', 'half', 'flaky:0.3'] as const;
/** A fault spec stays this long, in milliseconds (drawn between the two). */
const FAULT_HOLD_MS = [3_000, 6_000] as const;
/** Then no fault for this long, in milliseconds (drawn between the two). */
const CLEAR_HOLD_MS = [1_000, 3_000] as const;
/** Beyond an open circuit's wait, time for a probe to close it, in milliseconds. */
const RECOVERY_MARGIN_MS = 5_000;
/** One request's longest wait, in milliseconds: above the gateway's default 30 s query deadline. */
const REQUEST_TIMEOUT_MS = 45_000;
/** A walk that runs longer than this is given up (counted, not reconciled), in milliseconds. */
const WALK_TIME_LIMIT_MS = 120_000;
/** Records per page of a walk: the most the graph serves. */
const PAGE_SIZE = 500;
/** How often progress is reported, in milliseconds. */
const PROGRESS_EVERY_MS = 10_000;
/** Unexpected errors and count mismatches kept word for word; the rest are only counted. */
const MAX_SAMPLES = 20;
/** A new analyst token after this long, in milliseconds; the sandbox's tokens last 8 hours. */
const TOKEN_REFRESH_MS = 3_600_000;

const WALK_PAGE = /* GraphQL */ `
  query SoakWalk($after: String) {
    beneficiaries(first: ${PAGE_SIZE}, after: $after) {
      totalCount
      nodes { id city { code } }
      pageInfo { hasNextPage endCursor }
      coverage { missing { city { code } code } }
    }
  }
`;
const HOUSING = '{ housingResources { totalCount coverage { missing { city { code } code } } } }';
const SERVICES = '{ services { totalCount coverage { missing { city { code } code } } } }';
const CITIES = '{ cities { code source { status } dataQuality { entity received accepted rejected } } }';

interface GraphQLBody {
  data?: Record<string, any> | null;
  errors?: Array<{ message?: string; extensions?: { code?: string; city?: string } }>;
}

type WalkOutcome = { ok: true; check: WalkCheck } | { ok: false; reason: string };

/** Resident memory of a process in MB, from /proc (Linux); null where it cannot be read. */
export function rssMb(pid: number): number | null {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : null;
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const bump = (counts: Record<string, number>, key: string, by = 1) => {
  counts[key] = (counts[key] ?? 0) + by;
};

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const durationMs = options.durationMs ?? Math.round((options.minutes ?? 5) * 60_000);
  const { concurrency } = options;
  const seed = options.seed ?? 1;
  if (!(durationMs > 0) || !Number.isFinite(durationMs)) throw new RangeError(`the duration must be a positive number of milliseconds; got ${durationMs}`);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`concurrency must be a whole number of at least 1; got ${concurrency}`);

  const registered = loadCityConfigs(defaultCitiesDir);
  // The longest an open circuit refuses before it lets a probe through, in milliseconds.
  const longestBreakerWait = Math.max(
    requestDefaults.breakerHalfOpenAfterMs,
    ...registered.flatMap((c) => c.sources.map((s) => s.breakerHalfOpenAfterMs ?? requestDefaults.breakerHalfOpenAfterMs)),
  );
  const recoveryMs = longestBreakerWait + RECOVERY_MARGIN_MS;
  // A run too short for a full recovery phase still gives faults half of it.
  const faultPhaseMs = durationMs > 2 * recoveryMs ? durationMs - recoveryMs : Math.round(durationMs / 2);

  const processErrors: Record<string, number> = {};
  const stack = await startStack({
    port: 0,
    onLog: (line) => {
      if (!line.includes('"level":"error"') && !line.includes('"level":"fatal"')) return;
      try {
        const event = JSON.parse(line) as { component?: string; msg?: string; process?: string; code?: string };
        bump(processErrors, [event.component, event.process, event.msg, event.code].filter(Boolean).join(': '));
      } catch {
        bump(processErrors, line.slice(0, 120));
      }
    },
  });
  try {
    return await soak(stack, { ...options, durationMs, concurrency, seed }, { registered: registered.map((c) => c.code), faultPhaseMs });
  } finally {
    await stack.sandbox.setFaults('').catch(() => {});
    await stack.close();
  }

  async function soak(
    stack: Stack,
    o: SoakOptions & { durationMs: number; seed: number },
    plan: { registered: string[]; faultPhaseMs: number },
  ): Promise<SoakReport> {
    const { sandbox } = stack;
    const connected = [...sandbox.population.keys()].sort();
    const unconnected = plan.registered.filter((c) => !sandbox.population.has(c));
    const processNames: ProcessName[] = [...subgraphNames, 'gateway'];

    // The sandbox's own truth: the ids of every valid record, per city.
    const ids = createIdCodec(stack.env[settingsEnv.graphSecret]!);
    const truth = new Map<string, Set<string>>();
    const validCount = (city: string, entity: string) => sandbox.truth.get(city)?.quality[entity as EntityName]?.accepted ?? 0;
    for (const city of connected) {
      truth.set(city, new Set(sandbox.truth.get(city)!.accepted.beneficiaries.map((b) => ids.encode('Beneficiary', city, b.localId))));
    }
    const validBeneficiaries = connected.reduce((n, c) => n + validCount(c, 'beneficiaries'), 0);
    const heldBeneficiaries = connected.reduce((n, c) => n + sandbox.population.get(c)!.beneficiaries.length, 0);
    // A walk is about held / PAGE_SIZE pages; owed records asked again and cities stepped over add a few.
    const maxWalkPages = 4 * Math.ceil(heldBeneficiaries / PAGE_SIZE) + 50;

    let token = await stack.token('analyst');
    let tokenAt = Date.now();
    const requests = { sent: 0, served: 0 };
    const queries: Record<QueryKind, number> = { walk: 0, housing: 0, services: 0, cities: 0 };
    const walks = { completed: 0, withMissingCities: 0, abandoned: {} as Record<string, number> };
    const errorsByCode: Record<string, number> = {};
    const unexpectedErrors = { count: 0, byCode: {} as Record<string, number>, samples: [] as UnexpectedError[] };
    const recordsLost: Record<string, number> = {};
    const unexpectedRecords: Record<string, number> = {};
    let duplicates = 0;
    const countMismatches = { count: 0, samples: [] as string[] };
    const faults = { applied: 0, schedule: [] as Array<{ atMs: number; spec: string }> };
    let currentFaults = '';
    let phase: SoakProgress['phase'] = 'starting';

    const restartsAtStart = stack.restarts();
    const memoryMb = Object.fromEntries(processNames.map((n) => [n, { start: rssMb(stack.pids[n]), end: null as number | null }])) as SoakReport['memoryMb'];
    memoryMb.soak = { start: Math.round(process.memoryUsage().rss / 1048576), end: null };

    const started = Date.now();
    const elapsed = () => Date.now() - started;
    const loadOver = () => elapsed() >= o.durationMs || o.signal?.aborted === true;
    const faultsOver = () => elapsed() >= plan.faultPhaseMs || o.signal?.aborted === true;
    /** Waits, but no longer than the given phase lasts. */
    const pause = (ms: number, until: () => boolean) =>
      new Promise<void>((done) => {
        const end = Date.now() + ms;
        const tick = () => (until() || Date.now() >= end ? done() : setTimeout(tick, Math.min(200, end - Date.now())));
        tick();
      });
    const progress = () =>
      o.onProgress?.({ phase, elapsedMs: elapsed(), served: requests.served, errors: Object.values(errorsByCode).reduce((a, b) => a + b, 0), unexpected: unexpectedErrors.count, walksCompleted: walks.completed, faults: currentFaults });

    const mismatch = (text: string) => {
      countMismatches.count++;
      if (countMismatches.samples.length < MAX_SAMPLES) countMismatches.samples.push(text);
    };
    const unexpected = (query: UnexpectedError['query'], code: string, message: string, city?: string) => {
      unexpectedErrors.count++;
      bump(unexpectedErrors.byCode, code);
      if (unexpectedErrors.samples.length < MAX_SAMPLES) unexpectedErrors.samples.push({ atMs: elapsed(), query, code, ...(city ? { city } : {}), message: message.slice(0, 300) });
    };

    /** One request to the gateway; its errors are counted here. The body, or null when there was no 200 answer to read. */
    async function ask(query: UnexpectedError['query'], text: string, variables?: Record<string, unknown>): Promise<GraphQLBody | null> {
      if (Date.now() - tokenAt > TOKEN_REFRESH_MS) {
        token = await stack.token('analyst');
        tokenAt = Date.now();
      }
      requests.sent++;
      let res: Response;
      let raw: string;
      try {
        res = await fetch(stack.gatewayUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ query: text, variables }),
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
        raw = await res.text();
      } catch (e) {
        const code = (e as Error).name === 'TimeoutError' ? 'CLIENT_TIMEOUT' : 'FETCH_FAILED';
        bump(errorsByCode, code);
        unexpected(query, code, `${(e as Error).message}${(e as Error).cause ? `: ${String((e as { cause: unknown }).cause)}` : ''}`);
        return null;
      }
      let body: GraphQLBody;
      try {
        body = JSON.parse(raw) as GraphQLBody;
      } catch {
        body = { errors: [{ message: `an answer that is not JSON (${res.headers.get('content-type') ?? 'no content type'})`, extensions: { code: 'UNREADABLE_ANSWER' } }] };
      }
      if (res.status === 200) requests.served++;
      else {
        bump(errorsByCode, `HTTP_${res.status}`);
        unexpected(query, `HTTP_${res.status}`, (body.errors ?? []).map((e) => e.message).join('; ') || 'no message');
      }
      for (const e of body.errors ?? []) {
        const code = e.extensions?.code ?? 'NO_CODE';
        const city = e.extensions?.city;
        bump(errorsByCode, code);
        const expected = EXPECTED_CITY_CODES.has(code) || (code === 'CITY_NOT_CONFIGURED' && city !== undefined && unconnected.includes(city));
        if (!expected) unexpected(query, code, e.message ?? '', city);
      }
      return res.status === 200 ? body : null;
    }

    /** A full walk of beneficiaries across every city, checked against the sandbox's truth. */
    async function walk(query: UnexpectedError['query']): Promise<WalkOutcome> {
      const t0 = Date.now();
      const byCity = new Map<string, Set<string>>();
      const seen = new Set<string>();
      let dupes = 0;
      let records = 0;
      let after: string | null = null;
      for (let pages = 0; ; ) {
        if (pages >= maxWalkPages) return { ok: false, reason: `more than ${maxWalkPages} pages` };
        if (Date.now() - t0 > WALK_TIME_LIMIT_MS) return { ok: false, reason: `longer than ${WALK_TIME_LIMIT_MS / 1000} s` };
        const body = await ask(query, WALK_PAGE, { after });
        const conn = body?.data?.beneficiaries as
          | { totalCount: number; nodes: Array<{ id: string; city: { code: string } }> | null; pageInfo: { hasNextPage: boolean; endCursor: string | null }; coverage: { missing: Array<{ city: { code: string }; code: string }> } }
          | null
          | undefined;
        if (!conn) return { ok: false, reason: 'a page without beneficiaries' };
        if (!conn.nodes) return { ok: false, reason: 'a page without nodes' };
        pages++;
        for (const n of conn.nodes) {
          records++;
          if (seen.has(n.id)) dupes++;
          seen.add(n.id);
          const city = n.city.code;
          if (!byCity.has(city)) byCity.set(city, new Set());
          byCity.get(city)!.add(n.id);
        }
        if (conn.pageInfo.hasNextPage && !conn.pageInfo.endCursor) return { ok: false, reason: 'a page with more to come and no endCursor' };
        if (conn.pageInfo.hasNextPage) {
          after = conn.pageInfo.endCursor;
          continue;
        }
        const missing = conn.coverage.missing.map((m) => ({ city: m.city.code, code: m.code }));
        const missingCities = new Set(missing.map((m) => m.city));
        const lost: Record<string, number> = {};
        const extra: Record<string, number> = {};
        for (const [city, expected] of truth) {
          if (missingCities.has(city)) continue;
          const got = byCity.get(city) ?? new Set<string>();
          const gone = [...expected].filter((id) => !got.has(id)).length;
          if (gone > 0) lost[city] = gone;
        }
        for (const [city, got] of byCity) {
          const expected = truth.get(city);
          const wrong = expected ? [...got].filter((id) => !expected.has(id)).length : got.size;
          if (wrong > 0) extra[city] = wrong;
        }
        // With every city answered, every city was counted: the total is every valid record, what the walk returns.
        if (missing.every((m) => unconnected.includes(m.city)) && conn.totalCount !== validBeneficiaries) {
          mismatch(`${query}: beneficiaries totalCount ${conn.totalCount} with no connected city missing; the sandbox holds ${validBeneficiaries} valid`);
        }
        return { ok: true, check: { pages, records, ms: Date.now() - t0, missing, lost, unexpected: extra, duplicates: dupes, totalCount: conn.totalCount } };
      }
    }

    /** A national total of one catalogue, against the valid records of the cities that answered. */
    async function catalogue(kind: 'housing' | 'services'): Promise<void> {
      const field = kind === 'housing' ? 'housingResources' : 'services';
      const body = await ask(kind, kind === 'housing' ? HOUSING : SERVICES);
      const list = body?.data?.[field] as { totalCount: number; coverage: { missing: Array<{ city: { code: string } }> } } | null | undefined;
      if (!list) return;
      const missing = new Set(list.coverage.missing.map((m) => m.city.code));
      const expected = connected.filter((c) => !missing.has(c)).reduce((n, c) => n + validCount(c, field), 0);
      if (list.totalCount !== expected) {
        mismatch(`${field} totalCount ${list.totalCount} with ${[...missing].join(', ') || 'no city'} missing; the cities that answered hold ${expected} valid`);
      }
    }

    /** Each city's data quality, for every city that could be read, against what its stand-ins serve. */
    async function cities(): Promise<void> {
      const body = await ask('cities', CITIES);
      const list = body?.data?.cities as Array<{ code: string; dataQuality: Array<{ entity: string; received: number; accepted: number; rejected: number }> | null }> | null | undefined;
      if (!list) return;
      for (const c of list) {
        if (!c.dataQuality || !sandbox.population.has(c.code)) continue;
        for (const q of c.dataQuality) {
          const want = sandbox.truth.get(c.code)?.quality[q.entity as EntityName];
          if (!want || q.received !== want.received || q.rejected !== want.rejected || q.accepted + q.rejected !== q.received) {
            mismatch(`${c.code} dataQuality ${q.entity}: received ${q.received} accepted ${q.accepted} rejected ${q.rejected}; the sandbox serves ${want?.received} of which ${want?.rejected} are to be rejected`);
          }
        }
      }
    }

    async function worker(index: number): Promise<void> {
      const random = createPrng(hashString(`${o.seed}:worker:${index}`));
      while (!loadOver()) {
        const r = random();
        const kind: QueryKind = r < 0.4 ? 'walk' : r < 0.6 ? 'housing' : r < 0.8 ? 'services' : 'cities';
        if (kind === 'walk') {
          const outcome = await walk('walk');
          if (!outcome.ok) {
            bump(walks.abandoned, outcome.reason);
            continue;
          }
          const { check } = outcome;
          walks.completed++;
          if (check.missing.some((m) => !unconnected.includes(m.city))) walks.withMissingCities++;
          for (const [city, n] of Object.entries(check.lost)) bump(recordsLost, city, n);
          for (const [city, n] of Object.entries(check.unexpected)) bump(unexpectedRecords, city, n);
          duplicates += check.duplicates;
        } else if (kind === 'cities') await cities();
        else await catalogue(kind);
        queries[kind]++;
      }
    }

    async function faultDriver(): Promise<void> {
      const random = createPrng(hashString(`${o.seed}:faults`));
      const between = ([lo, hi]: readonly [number, number]) => lo + Math.floor(random() * (hi - lo));
      while (!faultsOver()) {
        const pool = [...connected];
        const parts: string[] = [];
        for (let n = 1 + Math.floor(random() * 3); n > 0; n--) {
          const city = pool.splice(Math.floor(random() * pool.length), 1)[0]!;
          parts.push(`${city}=${FAULT_POOL[Math.floor(random() * FAULT_POOL.length)]}`);
        }
        currentFaults = parts.join(',');
        await sandbox.setFaults(currentFaults);
        faults.applied++;
        faults.schedule.push({ atMs: elapsed(), spec: currentFaults });
        await pause(between(FAULT_HOLD_MS), faultsOver);
        currentFaults = '';
        await sandbox.setFaults('');
        await pause(between(CLEAR_HOLD_MS), faultsOver);
      }
      currentFaults = '';
      await sandbox.setFaults('');
      phase = 'recovery';
      progress();
    }

    phase = 'faults';
    progress();
    const ticker = setInterval(progress, PROGRESS_EVERY_MS);
    try {
      await Promise.all([faultDriver(), ...Array.from({ length: o.concurrency }, (_, i) => worker(i))]);
    } finally {
      clearInterval(ticker);
    }
    const loadMs = elapsed();

    phase = 'final walk';
    progress();
    const final = await walk('final walk');
    const finalWalk: FinalWalk = final.ok
      ? {
          ...final.check,
          complete:
            final.check.missing.every((m) => unconnected.includes(m.city) && m.code === 'CITY_NOT_CONFIGURED') &&
            unconnected.every((c) => final.check.missing.some((m) => m.city === c)),
          reconciled: Object.keys(final.check.lost).length === 0 && Object.keys(final.check.unexpected).length === 0 && final.check.duplicates === 0,
        }
      : { pages: 0, records: 0, ms: 0, missing: [], lost: {}, unexpected: {}, duplicates: 0, totalCount: 0, complete: false, reconciled: false, abandoned: final.reason };

    for (const n of processNames) memoryMb[n].end = rssMb(stack.pids[n]);
    memoryMb.soak.end = Math.round(process.memoryUsage().rss / 1048576);
    const restartsNow = stack.restarts();
    const restarts = Object.fromEntries(processNames.map((n) => [n, restartsNow[n] - restartsAtStart[n]])) as Record<ProcessName, number>;
    const alive = Object.fromEntries(processNames.map((n) => [n, isAlive(stack.pids[n])])) as Record<ProcessName, boolean>;
    const health = await fetch(stack.healthUrl, { signal: AbortSignal.timeout(5_000) }).then((r) => r.status, () => null);
    phase = 'done';
    progress();

    const problems: string[] = [];
    const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
    if (sum(recordsLost) > 0) problems.push(`${sum(recordsLost)} records lost in completed walks (${Object.entries(recordsLost).map(([c, n]) => `${c}: ${n}`).join(', ')})`);
    if (sum(unexpectedRecords) > 0) problems.push(`${sum(unexpectedRecords)} records returned that the sandbox does not hold as valid`);
    if (duplicates > 0) problems.push(`${duplicates} records returned twice within a walk`);
    if (unexpectedErrors.count > 0) problems.push(`${unexpectedErrors.count} unexpected errors (${Object.entries(unexpectedErrors.byCode).map(([c, n]) => `${c}: ${n}`).join(', ')})`);
    if (countMismatches.count > 0) problems.push(`${countMismatches.count} totals or data-quality figures disagree with the sandbox`);
    if (!finalWalk.complete) problems.push(`the final clean walk is not complete: ${finalWalk.abandoned ?? finalWalk.missing.map((m) => `${m.city} ${m.code}`).join(', ')}`);
    if (!finalWalk.reconciled) problems.push('the final clean walk does not reconcile with the sandbox');
    if (sum(restarts) > 0) problems.push(`processes died and were started again: ${Object.entries(restarts).filter(([, n]) => n > 0).map(([p, n]) => `${p} ${n}`).join(', ')}`);
    const dead = processNames.filter((n) => !alive[n]);
    if (dead.length > 0) problems.push(`not running at the end: ${dead.join(', ')}`);
    if (health !== 200) problems.push(`/health answered ${health ?? 'nothing'} at the end`);

    return {
      seed: o.seed,
      concurrency: o.concurrency,
      durationMs: o.durationMs,
      loadMs,
      faultPhaseMs: plan.faultPhaseMs,
      requests,
      queries,
      walks,
      errorsByCode,
      unexpectedErrors,
      faults,
      restarts,
      memoryMb,
      recordsLost,
      unexpectedRecords,
      duplicates,
      countMismatches,
      finalWalk,
      alive,
      health,
      processErrors,
      problems,
      passed: problems.length === 0,
    };
  }
}

/** The report as text, for a person. */
export function formatReport(r: SoakReport): string {
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const counts = (c: Record<string, number>) =>
    Object.keys(c).length === 0 ? 'none' : Object.entries(c).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ');
  const lines = [
    `LGNet soak: ${s(r.loadMs)} of load (${s(r.faultPhaseMs)} with faults, then recovery), ${r.concurrency} workers, seed ${r.seed}`,
    '',
    `Requests       ${r.requests.sent} sent, ${r.requests.served} served (HTTP 200)`,
    `Queries        ${Object.entries(r.queries).map(([k, n]) => `${k} ${n}`).join(', ')}`,
    `Walks          ${r.walks.completed} completed (${r.walks.withMissingCities} with cities missing), abandoned: ${counts(r.walks.abandoned)}`,
    `Faults         ${r.faults.applied} specs applied`,
    ...r.faults.schedule.map((f) => `  ${s(f.atMs).padStart(8)}  ${f.spec}`),
    '',
    `Errors by code ${counts(r.errorsByCode)}`,
    `Unexpected     ${r.unexpectedErrors.count === 0 ? 'none' : counts(r.unexpectedErrors.byCode)}`,
    ...r.unexpectedErrors.samples.map((e) => `  ${s(e.atMs).padStart(8)}  ${e.query}: ${e.code}${e.city ? ` (${e.city})` : ''} ${e.message}`),
    `Process errors ${counts(r.processErrors)}`,
    '',
    `Restarts       ${Object.entries(r.restarts).map(([p, n]) => `${p} ${n}`).join(', ')}`,
    'Memory (RSS, MB)   start    end',
    ...Object.entries(r.memoryMb).map(([p, m]) => `  ${p.padEnd(15)} ${String(m.start ?? '?').padStart(6)} ${String(m.end ?? '?').padStart(6)}`),
    `Alive at end   ${Object.entries(r.alive).map(([p, a]) => `${p} ${a ? 'yes' : 'NO'}`).join(', ')}; /health ${r.health ?? 'no answer'}`,
    '',
    `Records lost   ${counts(r.recordsLost)}`,
    `Not in sandbox ${counts(r.unexpectedRecords)}`,
    `Duplicates     ${r.duplicates}`,
    `Count checks   ${r.countMismatches.count === 0 ? 'all agree' : `${r.countMismatches.count} disagree`}`,
    ...r.countMismatches.samples.map((m) => `  ${m}`),
    `Final walk     ${r.finalWalk.abandoned ? `abandoned: ${r.finalWalk.abandoned}` : `${r.finalWalk.records} records in ${r.finalWalk.pages} pages, ${s(r.finalWalk.ms)}; ${r.finalWalk.complete ? 'complete' : `missing ${r.finalWalk.missing.map((m) => `${m.city} ${m.code}`).join(', ')}`}, ${r.finalWalk.reconciled ? 'reconciled' : `NOT reconciled (lost ${counts(r.finalWalk.lost)}, not in sandbox ${counts(r.finalWalk.unexpected)}, duplicates ${r.finalWalk.duplicates})`}`}`,
    '',
    r.passed ? 'PASSED' : `FAILED\n${r.problems.map((p) => `  - ${p}`).join('\n')}`,
  ];
  return lines.join('\n');
}

const usage = `Usage: npm run soak -- [--minutes N] [--concurrency C] [--seed S]

Starts the sandbox, subgraphs and gateway on free ports, runs concurrent
national queries while city faults come and go, and prints a report.

  --minutes      how long the load runs, minutes (fractions allowed, up to 1440; default 5)
  --concurrency  workers asking at once, 1 to 64 (default 4)
  --seed         seed of the fault schedule and of the choice of queries (default 1)

Exit codes: 0 no records lost and nothing unexpected; 1 a problem (listed); 2 usage.`;

async function main(): Promise<void> {
  const fail = (message: string): never => {
    process.stderr.write(`${message}\n\n${usage}\n`);
    process.exit(2);
  };
  let values: { minutes?: string; concurrency?: string; seed?: string; help?: boolean } = {};
  try {
    ({ values } = parseArgs({
      args: process.argv.slice(2),
      strict: true,
      allowPositionals: false,
      options: { minutes: { type: 'string' }, concurrency: { type: 'string' }, seed: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (e) {
    fail((e as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  const minutes = values.minutes === undefined ? 5 : /^\d+(\.\d+)?$/.test(values.minutes) ? Number(values.minutes) : NaN;
  if (!(minutes > 0 && minutes <= 1440)) fail(`--minutes must be a number of minutes above 0 and at most 1440; got ${values.minutes}`);
  const concurrency = values.concurrency === undefined ? 4 : /^\d+$/.test(values.concurrency) ? Number(values.concurrency) : NaN;
  if (!(concurrency >= 1 && concurrency <= 64)) fail(`--concurrency must be a whole number from 1 to 64; got ${values.concurrency}`);
  const seed = values.seed === undefined ? 1 : /^\d+$/.test(values.seed) ? Number(values.seed) : NaN;
  if (!Number.isSafeInteger(seed)) fail(`--seed must be a whole number; got ${values.seed}`);

  // Ctrl-C ends the load early and still prints the report; a second one stops at once.
  const stop = new AbortController();
  process.on('SIGINT', () => {
    if (stop.signal.aborted) process.exit(130);
    process.stderr.write('\nStopping the load; the report follows (Ctrl-C again to quit now).\n');
    stop.abort();
  });
  process.stderr.write(`Starting the stack for a ${minutes}-minute soak with ${concurrency} workers...\n`);
  const report = await runSoak({
    minutes,
    concurrency,
    seed,
    signal: stop.signal,
    onProgress: (p) =>
      process.stderr.write(
        `[${(p.elapsedMs / 1000).toFixed(0).padStart(4)} s] ${p.phase}: ${p.served} served, ${p.errors} errors (${p.unexpected} unexpected), ${p.walksCompleted} walks${p.faults ? `; faults ${p.faults}` : ''}\n`,
      ),
  }).catch((e: Error) => {
    process.stderr.write(`Soak could not run: ${e.message}\n`);
    process.exit(1);
  });
  process.stdout.write(`\n${formatReport(report)}\n`);
  process.exitCode = report.passed ? 0 : 1;
  // Everything started was stopped; should a handle still hold the loop, the run ends anyway, in milliseconds.
  setTimeout(() => process.exit(), 5_000).unref();
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
