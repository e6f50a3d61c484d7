/**
 * Stand-in for a city system that answers JSON over HTTP: the dialect's
 * paths, API key header, paging parameters and envelope, batch look-ups by
 * comma-separated lists of ids, and the filters the dialect offers.
 *
 * Rows are served in a stable order (the order given). A page asking more
 * than the dialect's maximum is refused with 400, as these APIs do, so a
 * client that ignores the limit fails loudly instead of missing rows.
 *
 * Filters select rows on the source's own values: a date range, inclusive,
 * with both bounds written in the dialect's date format; a list of codes or
 * ids, comma-separated, compared without regard to case or surrounding spaces
 * (as the database collations behind such APIs usually do). Offsets and the
 * total then count the selected rows. Parameters the dialect does not know
 * are ignored, as real APIs ignore them.
 *
 * The sandbox's faults apply as to every stand-in (faults.ts); `duplicate`
 * lists the first record of every resource again at its end, so that its
 * pages, totals and look-ups all hold the copy.
 */
import { timingSafeEqual } from 'node:crypto';
import { filterablePaths } from '../adapters/config.ts';
import type { RawRow } from '../adapters/port.ts';
import type { EntityName } from '../schema/records.ts';
import type { RestSourceDialect } from './dialects.ts';
import { createStandInServer, json, withDuplicate, type Fault, type StandIn, type StandInResponse } from './faults.ts';
import { isoOf } from './source-dates.ts';

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

  const routes = new Map<string, { entity: EntityName; rows: readonly RawRow[]; batchParams: Record<string, string>; filters: Filter[] }>();
  for (const [entity, e] of Object.entries(dialect.entities) as Array<[EntityName, NonNullable<RestSourceDialect['entities'][EntityName]>]>) {
    const fields = e.fields as Record<string, string>;
    const batchParams: Record<string, string> = {};
    for (const [key, param] of Object.entries(e.batchParams)) batchParams[param] = fields[key]!;
    const filters: Filter[] = Object.entries(e.filters).map(([path, params]) => {
      const f = filterablePaths[entity][path];
      if (!f) throw new Error(`source "${dialect.id}" ${entity}: "${path}" is not a filterable path`);
      const field = fields[f.field]!;
      if (f.kind === 'date') {
        if (typeof params === 'string') throw new Error(`source "${dialect.id}" ${entity}: the date filter "${path}" needs from/to parameters`);
        return { kind: 'range', field, from: params.from, to: params.to };
      }
      if (typeof params !== 'string') throw new Error(`source "${dialect.id}" ${entity}: the filter "${path}" takes one parameter`);
      return { kind: 'list', field, param: params };
    });
    routes.set(dialect.basePath + e.path, { entity, rows: rows.get(entity) ?? [], batchParams, filters });
  }

  function authorised(header: string | string[] | undefined): boolean {
    if (typeof header !== 'string') return false;
    const given = Buffer.from(header);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  function handle(req: import('node:http').IncomingMessage, url: URL, _body: Buffer, fault: Fault | null): StandInResponse {
    if (!authorised(req.headers[dialect.auth.header.toLowerCase()])) {
      return json(401, { error: 'unauthorized', message: `chiave di accesso mancante o non valida (${dialect.auth.header})` });
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return json(405, { error: 'method_not_allowed', message: `${req.method} non consentito` }, { allow: 'GET, HEAD' });
    }
    const route = routes.get(url.pathname.replace(/\/+$/, ''));
    if (!route) return json(404, { error: 'not_found', message: `risorsa non trovata: ${url.pathname}` });

    // Batch look-ups: every listed value of every given parameter must match (AND across parameters).
    let selected = fault?.kind === 'duplicate' ? withDuplicate(route.rows) : route.rows;
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

    for (const filter of route.filters) {
      if (filter.kind === 'list') {
        const wanted = new Set(listParam(url, filter.param).map((v) => v.toLowerCase()));
        if (wanted.size === 0) continue;
        selected = selected.filter((row) => {
          const v = row[filter.field];
          return (typeof v === 'string' || typeof v === 'number') && wanted.has(String(v).trim().toLowerCase());
        });
        continue;
      }
      const bounds: Array<string | null> = [];
      for (const param of [filter.from, filter.to]) {
        const raw = param === undefined ? null : url.searchParams.get(param);
        const iso = raw === null || raw === '' ? null : isoOf(raw, dialect.dateFormat);
        if (raw !== null && raw !== '' && iso === null) {
          return json(400, { error: 'bad_request', message: `${param}: data non valida, atteso ${dialect.dateFormat}` });
        }
        bounds.push(iso);
      }
      const [from, to] = bounds;
      if (from === null && to === null) continue;
      selected = selected.filter((row) => {
        const v = row[filter.field];
        const iso = typeof v === 'string' ? isoOf(v.trim(), dialect.dateFormat) : null;
        // An empty date (an open end, a draft's signature) is in no range.
        return iso !== null && (from === null || iso >= from!) && (to === null || iso <= to!);
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

/** A filter the stand-in applies: a range of dates, or a list of values, on one of its own fields. */
type Filter = { kind: 'range'; field: string; from: string | undefined; to: string | undefined } | { kind: 'list'; field: string; param: string };

/** The values of a comma-separated query parameter, trimmed; none when absent or empty. */
function listParam(url: URL, name: string): string[] {
  const raw = url.searchParams.get(name);
  return raw === null ? [] : raw.split(',').map((v) => v.trim()).filter((v) => v !== '');
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
