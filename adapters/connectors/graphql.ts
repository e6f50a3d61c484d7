/**
 * A city system with a GraphQL API of its own (its own schema and names, not
 * federated). Each request is a POST of `{ query, variables }` as JSON to the
 * source's baseUrl, with the configured credentials, through the source's
 * resilience policy (http.ts): the query document is the entity's own
 * (graphql-config.ts), and the variables carry the slice (offset/limit or
 * page/size), the ids of a batch look-up (a list variable) and the filters
 * the API offers (filters.ts writes them: dates in the source's format, codes
 * back to its own codes).
 *
 * Records are flattened into rows whose keys are dotted paths
 * (`persona.nome`, `permesso.tipo.codice`): a list of scalars stays an array,
 * and a list of objects becomes, per inner path, the array of its values
 * (`fragilita.codice`: `['PSI', 'MIN']`). The city's config maps canonical
 * fields to those paths; mapping and validation are shared (mapping.ts).
 *
 * What the city answers, and what the graph makes of it:
 * - an HTTP failure: as http.ts classifies it (401/403 CITY_AUTH_FAILED, 5xx
 *   CITY_UNAVAILABLE, ...);
 * - a body that is not GraphQL JSON (HTML, bytes that do not parse, JSON
 *   with neither `data` nor `errors`): CITY_BAD_RESPONSE;
 * - an error coded UNAUTHENTICATED or FORBIDDEN: CITY_AUTH_FAILED;
 * - `errors` and no `data`: CITY_SOURCE_ERROR, naming the first error's
 *   `extensions.code` (never its message, which may quote data);
 * - `errors` with partial `data`: an error that points into one record (its
 *   path runs through the list at an index), or a record sent as null, makes
 *   that record a row with `rowDefect`: it keeps its position and is counted
 *   as rejected (MALFORMED_ROW) in the city's data quality, and the other
 *   records of the page are served. An error anywhere else (on the list, on
 *   the total, or with no path) leaves the page unknowable: CITY_SOURCE_ERROR.
 *   A record lost is thus always counted, never dropped;
 * - `data` without the list or the total at their configured paths (the city
 *   renamed a field of its schema): CITY_BAD_RESPONSE naming the path.
 *
 * Messages never quote what the city sent: only codes, paths of the config
 * and counts.
 */
import { CityError } from '../../schema/errors.ts';
import type { EntityName } from '../../schema/records.ts';
import type { ResolvedSource } from '../config.ts';
import { rowDefect, type ConnectorDeps, type LookupKey, type RawPage, type RawRow, type SourceConnector } from '../port.ts';
import { createFilterTranslator } from './filters.ts';
import type { GraphqlEntityConfig } from './graphql-config.ts';
import { createHttpClient, mapConcurrently, withHealth } from './http.ts';
import { maxConcurrentRequests, readAll, readSlice, type Chunk } from './paged.ts';

export type GraphqlSource = ResolvedSource & { kind: 'graphql' };


/** Codes of a GraphQL error that mean the city refused the adapter's credentials (Apollo's and most servers' names). */
const authCodes = new Set(['UNAUTHENTICATED', 'FORBIDDEN']);


/** One entry of a GraphQL answer's `errors`, as far as the graph reads it. */
interface SourceErrorEntry {
  /** `extensions.code`, when it is a plain code (anything else is not repeated). */
  code: string | null;
  /** Response keys and list indices, when the error has a path. */
  path: ReadonlyArray<string | number> | null;
}

export function createGraphqlConnector(city: string, source: GraphqlSource, deps: ConnectorDeps): SourceConnector {
  const http = createHttpClient(city, source, deps);
  const filters = createFilterTranslator({
    vocabularies: source.vocabularies,
    citizenship: source.citizenship,
    dateFormat: source.dateFormat,
    // filters.ts reads only each entity's `filters`, which a graphql source declares as a REST source does.
    entities: Object.fromEntries(Object.entries(source.entities).map(([e, c]) => [e, c ? { filters: c.filters } : undefined])),
  } as unknown as Parameters<typeof createFilterTranslator>[0]);
  const { paging } = source;
  const bad = (detail: string) => new CityError('CITY_BAD_RESPONSE', city, detail);
  const log = deps.logger;

  let state: 'UP' | 'DOWN' | 'UNKNOWN' = 'UNKNOWN';
  let lastGood: Date | null = null;

  function entityConfig(entity: EntityName): GraphqlEntityConfig {
    const config = source.entities[entity] as GraphqlEntityConfig | undefined;
    if (!config) throw new CityError('CITY_NOT_CONFIGURED', city, `source "${source.id}" does not serve ${entity}`);
    return config;
  }

  /** The value of the start variable for row `index` (`page` style: a multiple of `size`). */
  const startOf = (index: number, size: number) => (paging.style === 'page' ? paging.firstPage + index / size : index);

  /** POSTs one query; the parsed JSON body. */
  async function post(config: GraphqlEntityConfig, variables: Record<string, unknown>, signal?: AbortSignal): Promise<unknown> {
    const body = JSON.stringify({ query: config.query, variables });
    return http.postJson(config.path, { body, headers: { 'content-type': 'application/json' }, signal });
  }

  /** One request for `size` rows from row `index`, with further variables (filters, ids); records the source's health. */
  async function fetchChunk(entity: EntityName, config: GraphqlEntityConfig, index: number, size: number, extra: ReadonlyArray<[string, unknown]>, signal: AbortSignal | undefined, needTotal: boolean): Promise<Chunk> {
    const variables: Record<string, unknown> = {};
    for (const [path, value] of extra) setPath(variables, path, value);
    setPath(variables, paging.startVariable, startOf(index, size));
    setPath(variables, paging.sizeVariable, size);
    try {
      const chunk = readChunk(entity, config, await post(config, variables, signal), needTotal);
      // A server that pages by its own size (smaller or larger) would make rows go missing or repeat.
      const expected = chunk.total === undefined ? undefined : Math.max(0, Math.min(size, chunk.total - index));
      if (chunk.rows.length > size || (expected !== undefined && chunk.rows.length < expected)) {
        throw bad(`${chunk.rows.length} records for a request of ${size} from row ${index} (total ${chunk.total ?? 'not given'}): check paging.maxPageSize against the source's own limit`);
      }
      state = 'UP';
      lastGood = new Date(deps.now());
      return chunk;
    } catch (e) {
      // The caller giving up says nothing about the city, nor does a fault of the graph's own (not a CityError).
      if (!signal?.aborted && e instanceof CityError) state = 'DOWN';
      throw e;
    }
  }

  /** The rows and the total of one answer, or the CityError it amounts to. */
  function readChunk(entity: EntityName, config: GraphqlEntityConfig, body: unknown, needTotal: boolean): Chunk {
    if (typeof body !== 'object' || body === null || Array.isArray(body) || !('data' in body || 'errors' in body)) {
      throw bad('not a GraphQL answer: a JSON object with neither "data" nor "errors"');
    }
    const { data, errors: rawErrors } = body as { data?: unknown; errors?: unknown };
    if (rawErrors !== undefined && !(Array.isArray(rawErrors) && rawErrors.length > 0)) throw bad('"errors" is not a non-empty list');
    if (data !== undefined && data !== null && (typeof data !== 'object' || Array.isArray(data))) throw bad('"data" is not an object');
    const errors = ((rawErrors ?? []) as unknown[]).map(readError);

    const refused = errors.find((e) => e.code !== null && authCodes.has(e.code.toUpperCase()));
    if (refused) throw new CityError('CITY_AUTH_FAILED', city, `GraphQL error ${refused.code}`);
    if (data === undefined || data === null) {
      if (errors.length === 0) throw bad('"data" is null, and no errors say why');
      throw sourceError(errors);
    }

    // Errors inside one record spoil that record only; any other leaves the page unknowable.
    const itemsKeys = config.itemsPath.split('.');
    const spoilt = new Map<number, string | null>();
    const elsewhere: SourceErrorEntry[] = [];
    for (const e of errors) {
      const index = e.path !== null && itemsKeys.every((k, i) => e.path![i] === k) ? e.path[itemsKeys.length] : undefined;
      if (typeof index === 'number') {
        if (!spoilt.has(index)) spoilt.set(index, e.code);
      } else {
        elsewhere.push(e);
      }
    }
    if (elsewhere.length > 0) throw sourceError(elsewhere);

    const items = at(data, itemsKeys);
    if (items === undefined) throw bad(`no "${config.itemsPath}" in the answer's data (renamed in the city's schema?)`);
    if (!Array.isArray(items)) throw bad(`"${config.itemsPath}" is not a list of records`);
    const total = at(data, config.totalPath.split('.'));
    if (total === undefined && needTotal) throw bad(`no "${config.totalPath}" in the answer's data (renamed in the city's schema?)`);
    if (total !== undefined && !(Number.isSafeInteger(total) && (total as number) >= 0)) throw bad(`"${config.totalPath}" is not a non-negative integer`);

    let defective = 0;
    const rows = items.map((item, i): RawRow => {
      const code = spoilt.get(i);
      if (item === null) {
        defective++;
        return { [rowDefect]: `the city's system sent this record as null${code === undefined ? '' : ` (GraphQL error ${code ?? 'without a code'})`}` };
      }
      if (typeof item !== 'object' || Array.isArray(item)) throw bad(`"${config.itemsPath}" holds something other than records`);
      const row = flattenRecord(item as Record<string, unknown>);
      if (code === undefined) return row;
      defective++;
      return { ...row, [rowDefect]: `the city's system could not give this record whole (GraphQL error ${code ?? 'without a code'})` };
    });
    if (defective > 0) {
      const codes = [...new Set(spoilt.values())].map((c) => c ?? 'none');
      log.warn('records the source could not give whole are counted as rejected', { city, source: source.id, entity, records: defective, codes });
    }
    return { rows, total: total as number | undefined };
  }

  function sourceError(errors: readonly SourceErrorEntry[]): CityError {
    const first = errors[0]!;
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
    return new CityError('CITY_SOURCE_ERROR', city, `GraphQL error ${first.code ?? 'without a code'}${more}`);
  }

  /** Every row the variables select, following pages of maxPageSize until the total is reached. */
  function fetchAll(entity: EntityName, config: GraphqlEntityConfig, extra: ReadonlyArray<[string, unknown]>, signal: AbortSignal | undefined, needTotal: boolean): Promise<Chunk> {
    return readAll(paging.maxPageSize, (start, size) => fetchChunk(entity, config, start, size, extra, signal, needTotal));
  }

  return {
    kind: 'graphql',

    async page(entity, { offset, limit, where }, signal) {
      const config = entityConfig(entity);
      // Every page of a filtered read carries the same filters, so that offsets and the total count the same rows.
      const conditions = where ? Object.entries(filters.query(entity, where)) : [];
      const { rows, total } = await readSlice(paging.style, paging.maxPageSize, offset, limit, (start, size) => fetchChunk(entity, config, start, size, conditions, signal, true));
      return { rows, total: total! } satisfies RawPage;
    },

    pushable(entity, where) {
      return source.entities[entity] ? filters.pushable(entity, where) : {};
    },

    async lookup(entity, key, values, signal) {
      const config = entityConfig(entity);
      const wanted = [...new Set(values)];
      if (wanted.length === 0) return [];
      const variable = (config.batchVariables as Partial<Record<LookupKey, string>>)[key];
      if (variable === undefined) {
        // No batch variable: read the whole entity and pick the rows here.
        const field = (config.fields as Record<string, string | undefined>)[key];
        if (field === undefined) throw new CityError('CITY_NOT_CONFIGURED', city, `${entity} has no source field for ${key}`);
        const { rows } = await fetchAll(entity, config, [], signal, true);
        const set = new Set(wanted);
        return rows.filter((row) => {
          const v = keyString(row[field]);
          return v !== undefined && set.has(v);
        });
      }
      const batches: string[][] = [];
      for (let i = 0; i < wanted.length; i += source.maxBatchSize) batches.push(wanted.slice(i, i + source.maxBatchSize));
      const results = await mapConcurrently(batches, maxConcurrentRequests, (batch) => fetchAll(entity, config, [[variable, batch]], signal, false));
      return results.flatMap((c) => c.rows);
    },

    status() {
      return withHealth({ status: state, asOf: lastGood }, http.health());
    },
  };
}

/**
 * Flattens a GraphQL record into a row keyed by dotted paths: nested objects
 * give `a.b.c`; a list of scalars (or an empty list) stays an array at its
 * path; a list of objects gives, per inner path, the array of the values
 * found there in order (nulls left out). A null object stays null at its own
 * path, so its inner fields read as missing.
 */
export function flattenRecord(record: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  const walk = (prefix: string, value: unknown): void => {
    if (Array.isArray(value)) {
      if (!value.some(isRecord)) {
        row[prefix] = value;
        return;
      }
      const leaves = new Map<string, unknown[]>();
      for (const element of value) {
        if (!isRecord(element)) continue;
        for (const [key, inner] of Object.entries(flattenRecord(element))) {
          const list = leaves.get(key) ?? [];
          if (Array.isArray(inner)) list.push(...inner.filter((x) => x !== null && x !== undefined));
          else if (inner !== null && inner !== undefined) list.push(inner);
          leaves.set(key, list);
        }
      }
      for (const [key, list] of leaves) row[`${prefix}.${key}`] = list;
      return;
    }
    if (isRecord(value)) {
      for (const [key, inner] of Object.entries(value)) walk(`${prefix}.${key}`, inner);
      return;
    }
    row[prefix] = value;
  };
  for (const [key, value] of Object.entries(record)) walk(key, value);
  return row;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The code and path of one entry of `errors`; a code that is not a plain identifier is not repeated. */
function readError(e: unknown): SourceErrorEntry {
  const entry = isRecord(e) ? e : {};
  const code = isRecord(entry['extensions']) ? entry['extensions']['code'] : undefined;
  const path = entry['path'];
  return {
    code: typeof code === 'string' && /^[A-Za-z][\w.-]{0,63}$/.test(code) ? code : null,
    path: Array.isArray(path) && path.every((p) => typeof p === 'string' || typeof p === 'number') ? path : null,
  };
}

/** The value at a path of keys, or undefined. */
function at(body: unknown, keys: readonly string[]): unknown {
  let value = body;
  for (const key of keys) {
    if (!isRecord(value)) return undefined;
    value = value[key];
  }
  return value;
}

/** Sets a value at a dotted path, creating the objects on the way. */
function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    node = isRecord(next) ? next : (node[key] = {}) as Record<string, unknown>;
  }
  node[keys[keys.length - 1]!] = value;
}

/** A key as the source's ids are compared: strings, and numbers written out. */
function keyString(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  return undefined;
}
