/**
 * Stand-in for a city system that answers JSON over HTTP: the dialect's
 * paths, API key header, paging parameters and envelope, and batch look-ups
 * by comma-separated lists of ids.
 *
 * Rows are served in a stable order (the order given). A page asking more
 * than the dialect's maximum is refused with 400, as these APIs do, so a
 * client that ignores the limit fails loudly instead of missing rows.
 */
import { timingSafeEqual } from 'node:crypto';
import type { RawRow } from '../adapters/port.ts';
import type { EntityName } from '../schema/records.ts';
import type { RestSourceDialect } from './dialects.ts';
import { createStandInServer, json, type Fault, type StandIn, type StandInResponse } from './faults.ts';

export interface RestStandInOptions {
  dialect: RestSourceDialect;
  rows: ReadonlyMap<EntityName, readonly RawRow[]>;
  apiKey: string;
  host?: string;
  /** 0 = an ephemeral port. */
  port?: number;
  fault?: Fault | null;
  /** Seed of the fault PRNG (flaky, garbage). */
  seed?: number;
}

export interface RestStandIn extends StandIn {
  /** Base URL of the source: origin and the dialect's base path. */
  readonly url: string;
}

export async function createRestStandIn(options: RestStandInOptions): Promise<RestStandIn> {
  const { dialect, rows, apiKey } = options;
  const { paging } = dialect;
  const expected = Buffer.from(dialect.auth.prefix + apiKey);

  const routes = new Map<string, { entity: EntityName; rows: readonly RawRow[]; batchParams: Record<string, string> }>();
  for (const [entity, e] of Object.entries(dialect.entities) as Array<[EntityName, NonNullable<RestSourceDialect['entities'][EntityName]>]>) {
    const batchParams: Record<string, string> = {};
    for (const [key, param] of Object.entries(e.batchParams)) batchParams[param] = (e.fields as Record<string, string>)[key]!;
    routes.set(dialect.basePath + e.path, { entity, rows: rows.get(entity) ?? [], batchParams });
  }

  function authorised(header: string | string[] | undefined): boolean {
    if (typeof header !== 'string') return false;
    const given = Buffer.from(header);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  function handle(req: import('node:http').IncomingMessage, url: URL): StandInResponse {
    if (!authorised(req.headers[dialect.auth.header.toLowerCase()])) {
      return json(401, { error: 'unauthorized', message: `chiave di accesso mancante o non valida (${dialect.auth.header})` });
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return json(405, { error: 'method_not_allowed', message: `${req.method} non consentito` }, { allow: 'GET, HEAD' });
    }
    const route = routes.get(url.pathname.replace(/\/+$/, ''));
    if (!route) return json(404, { error: 'not_found', message: `risorsa non trovata: ${url.pathname}` });

    // Batch look-ups: every listed value of every given parameter must match (AND across parameters).
    let selected = route.rows;
    for (const [param, field] of Object.entries(route.batchParams)) {
      const raw = url.searchParams.get(param);
      if (raw === null) continue;
      const values = raw.split(',').map((v) => v.trim()).filter((v) => v !== '');
      if (values.length > dialect.maxBatchSize) {
        return json(400, { error: 'bad_request', message: `${param}: at most ${dialect.maxBatchSize} values per request` });
      }
      const wanted = new Set(values);
      selected = selected.filter((row) => {
        const v = row[field];
        return (typeof v === 'string' || typeof v === 'number') && wanted.has(String(v).trim());
      });
    }

    const size = intParam(url, paging.sizeParam, paging.defaultPageSize);
    const start = intParam(url, paging.startParam, paging.style === 'page' ? paging.firstPage : 0);
    if (size === null || size < 1) return json(400, { error: 'bad_request', message: `${paging.sizeParam} must be a positive integer` });
    if (size > paging.maxPageSize) {
      return json(400, { error: 'bad_request', message: `${paging.sizeParam} must be at most ${paging.maxPageSize}` });
    }
    if (start === null || start < (paging.style === 'page' ? paging.firstPage : 0)) {
      return json(400, { error: 'bad_request', message: `${paging.startParam} must be an integer from ${paging.style === 'page' ? paging.firstPage : 0}` });
    }
    const offset = paging.style === 'page' ? (start - paging.firstPage) * size : start;
    const body: Record<string, unknown> = {};
    setPath(body, paging.itemsPath, selected.slice(offset, offset + size));
    setPath(body, paging.totalPath, selected.length);
    return json(200, body);
  }

  const server = await createStandInServer({
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    handler: handle,
    fault: options.fault ?? null,
    seed: options.seed ?? 0,
  });
  return Object.assign(server, { url: server.origin + dialect.basePath }) as RestStandIn;
}

/** An integer query parameter; the default when absent, null when not an integer. */
function intParam(url: URL, name: string, fallback: number): number | null {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === '') return fallback;
  return /^\d+$/.test(raw) ? Number(raw) : null;
}

/** Sets a value at a dotted path, creating the objects on the way. */
function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (typeof next === 'object' && next !== null) node = next as Record<string, unknown>;
    else node = (node[key] = {}) as Record<string, unknown>;
  }
  node[keys[keys.length - 1]!] = value;
}
