/**
 * A city system that answers JSON over HTTP, paged. The connector translates
 * the port's offset/limit slices into the source's own paging, the conditions
 * the API offers filters for into its query parameters (filters.ts), and
 * batch look-ups into list-valued query parameters (or, where the source has
 * none, a scan of the entity filtered here).
 */
import { CityError } from '../../schema/errors.ts';
import type { EntityName } from '../../schema/records.ts';
import type { ResolvedSource } from '../config.ts';
import type { ConnectorDeps, LookupKey, RawPage, RawRow, SourceConnector } from '../port.ts';
import { createFilterTranslator } from './filters.ts';
import { createHttpClient, mapConcurrently, withHealth, type Query } from './http.ts';

export type RestSource = ResolvedSource & { kind: 'rest' };

/** Most requests in flight at once for one call (a city's server is small). */
import { maxConcurrentRequests, readAll, readSlice, type Chunk } from './paged.ts';

export { planChunks } from './paged.ts';

export function createRestConnector(city: string, source: RestSource, deps: ConnectorDeps): SourceConnector {
  const http = createHttpClient(city, source, deps);
  const filters = createFilterTranslator(source);
  const { paging } = source;
  const bad = (detail: string) => new CityError('CITY_BAD_RESPONSE', city, detail);

  let state: 'UP' | 'DOWN' | 'UNKNOWN' = 'UNKNOWN';
  let lastGood: Date | null = null;

  function entityConfig(entity: EntityName) {
    const config = source.entities[entity];
    if (!config) throw new CityError('CITY_NOT_CONFIGURED', city, `source "${source.id}" does not serve ${entity}`);
    return config;
  }

  /** The query value that starts at row `index` (`page` style: a multiple of `size`). */
  const startOf = (index: number, size: number) => (paging.style === 'page' ? paging.firstPage + index / size : index);

  /** One upstream request for `size` rows from row `index`; records the source's health. */
  async function fetchChunk(path: string, index: number, size: number, extra: Query, signal?: AbortSignal, needTotal = false): Promise<Chunk> {
    const query = { ...extra, [paging.startParam]: startOf(index, size), [paging.sizeParam]: size };
    try {
      const chunk = readChunk(await http.getJson(path, { query, signal }));
      if (needTotal && chunk.total === undefined) throw bad(`no total at "${paging.totalPath}"`);
      // A server that pages by its own size (smaller or larger) would make rows go missing or repeat.
      const expected = chunk.total === undefined ? undefined : Math.max(0, Math.min(size, chunk.total - index));
      if (chunk.rows.length > size || (expected !== undefined && chunk.rows.length < expected)) {
        throw bad(`${chunk.rows.length} rows for a request of ${size} from row ${index} (total ${chunk.total ?? 'not given'}): check paging.maxPageSize against the source's own limit`);
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

  function readChunk(body: unknown): Chunk {
    const items = at(body, paging.itemsPath);
    if (!Array.isArray(items)) throw bad(`no array of records at "${paging.itemsPath}"`);
    if (!items.every((r) => typeof r === 'object' && r !== null && !Array.isArray(r))) {
      throw bad(`"${paging.itemsPath}" holds something other than records`);
    }
    const total = at(body, paging.totalPath);
    if (total !== undefined && !(Number.isSafeInteger(total) && (total as number) >= 0)) {
      throw bad(`"${paging.totalPath}" is not a non-negative integer`);
    }
    return { rows: items as RawRow[], total: total as number | undefined };
  }

  /** Every row the request selects, following pages of maxPageSize until the total is reached. */
  function fetchAll(path: string, extra: Query, signal: AbortSignal | undefined, needTotal: boolean): Promise<Chunk> {
    return readAll(
      paging.maxPageSize,
      (start, size) => fetchChunk(path, start, size, extra, signal, needTotal),
      (start, size) => fetchChunk(path, start, size, extra, signal),
    );
  }

  return {
    kind: 'rest',

    async page(entity, { offset, limit, where }, signal) {
      const { path } = entityConfig(entity);
      // Every page of a filtered read carries the same filters, so that offsets and the total count the same rows.
      const conditions = where ? filters.query(entity, where) : {};
      const { rows, total } = await readSlice(paging.style, paging.maxPageSize, offset, limit, (start, size) => fetchChunk(path, start, size, conditions, signal, true));
      return { rows, total: total! } satisfies RawPage;
    },

    pushable(entity, where) {
      return source.entities[entity] ? filters.pushable(entity, where) : {};
    },

    async lookup(entity, key, values, signal) {
      const config = entityConfig(entity);
      const wanted = [...new Set(values)];
      if (wanted.length === 0) return [];
      const param = (config.batchParams as Partial<Record<LookupKey, string>>)[key];
      if (param === undefined) {
        // No batch parameter: read the whole entity and pick the rows here.
        const field = (config.fields as Record<string, string | undefined>)[key];
        if (field === undefined) throw new CityError('CITY_NOT_CONFIGURED', city, `${entity} has no source field for ${key}`);
        const { rows } = await fetchAll(config.path, {}, signal, true);
        const set = new Set(wanted);
        return rows.filter((row) => {
          const v = keyString(row[field]);
          return v !== undefined && set.has(v);
        });
      }
      const batches: string[][] = [];
      for (let i = 0; i < wanted.length; i += source.maxBatchSize) batches.push(wanted.slice(i, i + source.maxBatchSize));
      const results = await mapConcurrently(batches, maxConcurrentRequests, (batch) => fetchAll(config.path, { [param]: batch }, signal, false));
      return results.flatMap((c) => c.rows);
    },

    status() {
      return withHealth({ status: state, asOf: lastGood }, http.health());
    },
  };
}

/** The value at a dotted path ("result.items"), or undefined. */
function at(body: unknown, path: string): unknown {
  let value = body;
  for (const key of path.split('.')) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** A key as the source's ids are compared: strings, and numbers written out. */
function keyString(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  return undefined;
}
