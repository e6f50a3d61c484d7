/**
 * Process settings that are not about a city: read once at start from the
 * environment, checked, and refused loudly (naming the variable) when wrong.
 */
import { fileURLToPath } from 'node:url';
import { ConfigError } from './config-error.ts';

type Env = Readonly<Record<string, string | undefined>>;

export const settingsEnv = {
  /** Key of the opaque record ids and the cursor signatures; the same in every subgraph, secret and stable. */
  graphSecret: 'LGNET_GRAPH_SECRET',
  /** Folder of the audit trail: each subgraph appends to its own file there. */
  auditDir: 'LGNET_AUDIT_DIR',
  /** Smallest count shown as is to the dashboard role. */
  suppressionThreshold: 'LGNET_SUPPRESSION_THRESHOLD',
  /** `1` lets tools read the schema by introspection; off by default in production. */
  introspection: 'LGNET_INTROSPECTION',
  /** Longest a query may take, from the gateway down to every city call, in milliseconds. */
  queryDeadlineMs: 'LGNET_QUERY_DEADLINE_MS',
  /** Longest the gateway waits for one subgraph answer, in milliseconds. */
  subgraphTimeoutMs: 'LGNET_SUBGRAPH_TIMEOUT_MS',
  /** On SIGTERM: how long /health answers 503 before the process stops taking requests, in milliseconds. */
  drainDelayMs: 'LGNET_DRAIN_DELAY_MS',
  /** On SIGTERM: how long requests in flight may take to finish, in milliseconds. */
  gracePeriodMs: 'LGNET_GRACE_PERIOD_MS',
  /**
   * How long a sweep of a city's records (its data quality, and with it whether
   * a source is DEGRADED by rejected records) is reused by the registry, in milliseconds.
   */
  qualityTtlMs: 'LGNET_QUALITY_TTL_MS',
  /** Folder of the city configs (one JSON file per city); default adapters/cities/. */
  citiesDir: 'LGNET_CITIES_DIR',
  /** `1` serves the query IDE to a browser that opens /graphql; off by default in production. */
  ide: 'LGNET_IDE',
  /** `1` serves the programme dashboard at /dashboard; off by default in production. */
  dashboard: 'LGNET_DASHBOARD',
  /** Origins whose pages may call /graphql from a browser (CORS), comma-separated; none by default. */
  corsOrigins: 'LGNET_CORS_ORIGINS',
} as const;

/** Default of LGNET_QUALITY_TTL_MS: a sweep reads every record of a city. */
export const defaultQualityTtlMs = 60_000;

/** How a process stops on SIGTERM, from the environment. */
export function stopSettings(env: Env): { drainDelayMs: number; gracePeriodMs: number } {
  return {
    drainDelayMs: millis(env, settingsEnv.drainDelayMs, 0, 0, 60_000),
    gracePeriodMs: millis(env, settingsEnv.gracePeriodMs, 10_000, 0, 120_000),
  };
}

/** A duration in milliseconds from the environment, within bounds; `fallback` when unset. */
export function millis(env: Env, name: string, fallback: number, min = 100, max = 600_000): number {
  const v = env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${name} must be a whole number of milliseconds from ${min} to ${max}; got ${JSON.stringify(v)}`);
  return n;
}

/** A query's deadline: long enough for a national page over slow cities, short enough that nobody waits on a hung one. */
export const defaultQueryDeadlineMs = 30_000;
/** One subgraph answer: a subgraph bounds each city call itself, so this only catches a hung subgraph. */
export const defaultSubgraphTimeoutMs = 20_000;

/** Header naming, within the gateway, the request a subgraph call belongs to (for its signal). */
export const CALL_HEADER = 'x-lgnet-call';

/** Header carrying a query's remaining time, in milliseconds, from the gateway to the subgraphs. */
export const DEADLINE_HEADER = 'x-lgnet-deadline-ms';

export function graphSecret(env: Env): string {
  const v = env[settingsEnv.graphSecret];
  if (!v || v.length < 32) throw new ConfigError(`${settingsEnv.graphSecret} must be set to a secret of at least 32 characters (the key of record ids and cursors)`);
  return v;
}

/** Italy's official statistics publish no cell under 3; 5 is common for data about people. */
export function suppressionThreshold(env: Env): number {
  const v = env[settingsEnv.suppressionThreshold];
  if (v === undefined || v === '') return 5;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 3 || n > 100) throw new ConfigError(`${settingsEnv.suppressionThreshold} must be an integer from 3 to 100; got ${JSON.stringify(v)}`);
  return n;
}

/** The sandbox's default: a data folder of the repository, ignored by git. */
export const defaultAuditDir = fileURLToPath(new URL('../data/audit/', import.meta.url));

export function auditDir(env: Env): string {
  const v = env[settingsEnv.auditDir];
  if (!v) throw new ConfigError(`${settingsEnv.auditDir} must name the folder of the audit trail`);
  return v;
}

export function introspection(env: Env): boolean {
  const v = env[settingsEnv.introspection];
  if (v === undefined || v === '' || v === '0') return false;
  if (v === '1') return true;
  throw new ConfigError(`${settingsEnv.introspection} must be 1 or 0; got ${JSON.stringify(v)}`);
}

/** Whether a browser opening /graphql gets the query IDE. */
export function ide(env: Env): boolean {
  const v = env[settingsEnv.ide];
  if (v === undefined || v === '' || v === '0') return false;
  if (v === '1') return true;
  throw new ConfigError(`${settingsEnv.ide} must be 1 or 0; got ${JSON.stringify(v)}`);
}

/** Whether the gateway serves the programme dashboard at /dashboard. */
export function dashboard(env: Env): boolean {
  const v = env[settingsEnv.dashboard];
  if (v === undefined || v === '' || v === '0') return false;
  if (v === '1') return true;
  throw new ConfigError(`${settingsEnv.dashboard} must be 1 or 0; got ${JSON.stringify(v)}`);
}

/**
 * The origins allowed to call /graphql from a browser, each exactly as a
 * browser sends it (`https://dash.example.it`, with a port if not the
 * scheme's own): no wildcard, since every answer holds data about people.
 */
export function corsOrigins(env: Env): string[] {
  const v = env[settingsEnv.corsOrigins];
  if (v === undefined || v.trim() === '') return [];
  return v.split(',').map((entry) => {
    const origin = entry.trim();
    let url: URL | null = null;
    try {
      url = new URL(origin);
    } catch {
      // Not a URL at all: refused below.
    }
    if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.origin !== origin) {
      throw new ConfigError(
        `${settingsEnv.corsOrigins} must list origins separated by commas, each a scheme, host and optional port with no path, such as https://dash.example.it; got ${JSON.stringify(origin)}`,
      );
    }
    return origin;
  });
}
