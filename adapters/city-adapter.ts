/**
 * Builds a city's `CityAdapter` from its resolved config: one connector per
 * source, each entity asked of the source that serves its domain, every row
 * mapped and validated by the shared row mapper.
 */
import { CityError, asCityError } from '../schema/errors.ts';
import type { Domain, RejectReason } from '../schema/code-lists.ts';
import { entityDomain, entityNames, type EntityName, type EntityRecord } from '../schema/records.ts';
import type { ResolvedCity, ResolvedSource } from './config.ts';
import { createRowMapper, type MapResult, type RowMapper } from './mapping.ts';
import type {
  BeneficiaryChild,
  CallContext,
  CityAdapter,
  ConnectorDeps,
  EntityQuality,
  ListQuery,
  Page,
  RawRow,
  SourceConnector,
  SourceStatus,
  Where,
} from './port.ts';

export type ConnectorFactory = (city: string, source: ResolvedSource, deps: ConnectorDeps) => SourceConnector;

export interface CityAdapterOptions {
  /** Secret key of the personKey HMAC; the same for every city, so a person has one key. */
  personKeySecret: string;
  deps: ConnectorDeps;
  createConnector: ConnectorFactory;
  /** How long a data-quality sweep is reused, in milliseconds. */
  qualityTtlMs?: number;
  /** Rows asked per request when a whole entity is read (sweeps, filtered lists). */
  scanPageSize?: number;
  /** Longest wait for a status probe, in milliseconds: a status is worth less than the caller's time. */
  probeTimeoutMs?: number;
}

interface Bound {
  source: ResolvedSource;
  connector: SourceConnector;
  mapper: RowMapper;
  /** Mapping results per row object: snapshot sources hand back the same rows until their file changes. */
  mapped: WeakMap<RawRow, MapResult<unknown>>;
}

/** Stands in for a source that cannot be reached as configured: every call fails, saying why. */
function unconfiguredConnector(city: string, kind: string, problem: string): SourceConnector {
  const fail = () => Promise.reject(new CityError('CITY_NOT_CONFIGURED', city, problem));
  return { kind, page: fail, lookup: fail, status: () => ({ status: 'NOT_CONFIGURED', asOf: null }) };
}

/** An error's stack, or what it is when it has none. */
function stackOf(e: unknown): string {
  return e instanceof Error && e.stack ? e.stack : String(e);
}

function get(record: unknown, path: string): unknown {
  let v: unknown = record;
  for (const part of path.split('.')) v = (v as Record<string, unknown> | null)?.[part];
  return v;
}

function matches(record: unknown, where: Where | undefined): boolean {
  if (!where) return true;
  return Object.entries(where).every(([path, values]) => values.includes(String(get(record, path))));
}

export function createCityAdapter(city: ResolvedCity, options: CityAdapterOptions): CityAdapter {
  const { deps, qualityTtlMs = 60_000, scanPageSize = 1000, probeTimeoutMs = 3_000 } = options;
  const byDomain = new Map<Domain, Bound>();
  /** The last status probe of each source: when, and whether it failed. */
  const probes = new WeakMap<Bound, { at: number; failed: boolean }>();
  for (const source of city.sources) {
    const raw = source.problem ? unconfiguredConnector(city.code, source.kind, source.problem) : options.createConnector(city.code, source, deps);
    const bound: Bound = { source, connector: raw, mapper: createRowMapper(city.code, source, options.personKeySecret, deps.now), mapped: new WeakMap() };
    // Any good answer clears a failed probe: the source is back.
    const cleared = <T>(result: T) => {
      probes.delete(bound);
      return result;
    };
    bound.connector = {
      kind: raw.kind,
      page: (entity, slice, signal) => raw.page(entity, slice, signal).then(cleared),
      lookup: (entity, key, values, signal) => raw.lookup(entity, key, values, signal).then(cleared),
      status: () => raw.status(),
    };
    for (const d of source.domains) byDomain.set(d, bound);
  }
  const bounds = [...new Set(byDomain.values())];

  function boundFor(entity: EntityName): Bound {
    const b = byDomain.get(entityDomain[entity]);
    if (!b || !b.source.entities[entity]) {
      throw new CityError('CITY_NOT_CONFIGURED', city.code, `no source serves ${entity}`);
    }
    return b;
  }

  function mapRow<E extends EntityName>(b: Bound, entity: E, row: RawRow): MapResult<EntityRecord<E>> {
    let r = b.mapped.get(row) as MapResult<EntityRecord<E>> | undefined;
    if (!r) {
      r = b.mapper.map(entity, row);
      if (r.ok || !r.volatile) b.mapped.set(row, r);
    }
    return r;
  }

  /** Every row of an entity, in the source's order. */
  async function scan(b: Bound, entity: EntityName, signal?: AbortSignal): Promise<RawRow[]> {
    const first = await b.connector.page(entity, { offset: 0, limit: scanPageSize }, signal);
    if (first.rows.length >= first.total) return first.rows;
    const rest = await b.connector.page(entity, { offset: first.rows.length, limit: first.total - first.rows.length }, signal);
    return [...first.rows, ...rest.rows];
  }

  /**
   * Every failure of a call as a CityError naming the city (the caller's own
   * AbortError excepted). One that is not the city's doing is INTERNAL_ERROR,
   * and is logged here with its stack: the answer only says that the graph
   * failed.
   */
  async function guard<T>(signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if ((e as Error)?.name === 'AbortError' && !(e instanceof CityError)) throw e;
      const error = asCityError(e, city.code, { signal });
      if (error.code === 'INTERNAL_ERROR' && error !== e) {
        deps.logger.error('internal error while handling a city', { city: city.code, code: error.code, stack: stackOf(e) });
      }
      throw error;
    }
  }

  let quality: { at: number; value: Promise<EntityQuality[]> } | null = null;

  const adapter: CityAdapter = {
    city: city.code,
    domains: new Set(byDomain.keys()),

    list<E extends EntityName>(entity: E, query: ListQuery, ctx: CallContext): Promise<Page<EntityRecord<E>>> {
      return guard(ctx.signal, async () => {
        const b = boundFor(entity);
        const filtered = query.where !== undefined && Object.keys(query.where).length > 0;
        if (filtered || !Number.isFinite(query.limit)) {
          // Sources are not asked to filter yet: read everything, filter here,
          // and count offsets among the matching records.
          const rows = await scan(b, entity, ctx.signal);
          const matching: EntityRecord<E>[] = [];
          for (const row of rows) {
            const r = mapRow(b, entity, row);
            if (r.ok && matches(r.record, query.where)) matching.push(r.record);
          }
          const items = matching.slice(query.offset, query.offset + query.limit);
          const total = filtered ? matching.length : rows.length;
          const rejected = filtered ? 0 : rows.length - matching.length;
          return { items, total, rejected, nextOffset: filtered ? query.offset + items.length : rows.length };
        }
        if (query.limit === 0) {
          const p = await b.connector.page(entity, { offset: 0, limit: 1 }, ctx.signal);
          return { items: [], total: p.total, rejected: 0, nextOffset: query.offset };
        }
        const page = await b.connector.page(entity, { offset: query.offset, limit: query.limit }, ctx.signal);
        const items: EntityRecord<E>[] = [];
        let rejected = 0;
        for (const row of page.rows) {
          const r = mapRow(b, entity, row);
          if (r.ok) items.push(r.record);
          else rejected++;
        }
        return { items, total: page.total, rejected, nextOffset: query.offset + page.rows.length };
      });
    },

    byId<E extends EntityName>(entity: E, ids: readonly string[], ctx: CallContext) {
      return guard(ctx.signal, async () => {
        const b = boundFor(entity);
        const rows = await b.connector.lookup(entity, 'localId', ids, ctx.signal);
        const found = new Map<string, EntityRecord<E> | Error>();
        for (const row of rows) {
          const r = mapRow(b, entity, row);
          if (r.ok) found.set((r.record as { localId: string }).localId, r.record);
          else if (r.localId !== null) {
            found.set(r.localId, new CityError('RECORD_REJECTED', city.code, `${entity} ${r.localId}: ${r.rejection.reason} (${r.rejection.detail})`));
          }
        }
        return ids.map((id) => found.get(id) ?? new CityError('NOT_FOUND', city.code, `${entity} ${id}`));
      });
    },

    byBeneficiary<E extends BeneficiaryChild>(entity: E, beneficiaryIds: readonly string[], ctx: CallContext) {
      return guard(ctx.signal, async () => {
        const b = boundFor(entity);
        const rows = await b.connector.lookup(entity, 'beneficiaryId', beneficiaryIds, ctx.signal);
        const grouped = new Map<string, EntityRecord<E>[]>(beneficiaryIds.map((id) => [id, []]));
        for (const row of rows) {
          const r = mapRow(b, entity, row);
          // A rejected row is left out here and counted by the city's data quality.
          if (r.ok) grouped.get((r.record as { beneficiaryId: string }).beneficiaryId)?.push(r.record);
        }
        return beneficiaryIds.map((id) => grouped.get(id)!);
      });
    },

    dataQuality(ctx: CallContext) {
      if (quality && deps.now() - quality.at < qualityTtlMs) return quality.value;
      const value = guard(ctx.signal, async () => {
        // A city registered before any system is connected has no figures, which is not the same as no problems.
        if (bounds.length === 0) throw new CityError('CITY_NOT_CONFIGURED', city.code, 'no source system is configured for the city yet');
        const entities = entityNames.filter((e) => byDomain.get(entityDomain[e])?.source.entities[e]);
        return Promise.all(
          entities.map(async (entity): Promise<EntityQuality> => {
            const b = boundFor(entity);
            const rows = await scan(b, entity, ctx.signal);
            const reasons = new Map<RejectReason, number>();
            let accepted = 0;
            for (const row of rows) {
              const r = mapRow(b, entity, row);
              if (r.ok) accepted++;
              else reasons.set(r.rejection.reason, (reasons.get(r.rejection.reason) ?? 0) + 1);
            }
            return {
              entity,
              received: rows.length,
              accepted,
              rejected: rows.length - accepted,
              reasons: [...reasons].map(([code, count]) => ({ code, count })).sort((a, b) => a.code.localeCompare(b.code)),
              asOf: new Date(deps.now()),
            };
          }),
        );
      });
      quality = { at: deps.now(), value };
      // A failed sweep is not kept: the next caller tries again.
      value.catch(() => {
        if (quality?.value === value) quality = null;
      });
      return value;
    },

    sources() {
      return bounds.map((b) => {
        const seen = b.connector.status();
        const probe = probes.get(b);
        // A failed probe not yet cleared by a good answer says more than the connector's own status.
        const down = probe?.failed && (seen.status === 'UP' || seen.status === 'DEGRADED' || seen.status === 'UNKNOWN');
        const status: SourceStatus = { id: b.source.id, kind: b.source.kind, domains: [...b.source.domains], status: down ? 'DOWN' : seen.status, asOf: seen.asOf };
        if (seen.reason !== undefined && !down) status.reason = seen.reason;
        return status;
      });
    },

    async checkSources(ctx: CallContext, maxAgeMs: number) {
      await Promise.all(
        bounds.map(async (b) => {
          const { status, asOf } = b.connector.status();
          const answering = status === 'UP' || status === 'DEGRADED';
          if (status === 'NOT_CONFIGURED' || (answering && asOf && deps.now() - asOf.getTime() < maxAgeMs)) return;
          const last = probes.get(b);
          // A source probed lately is not probed again, whatever the answer: a slow city must not slow every status query.
          if (last && deps.now() - last.at < maxAgeMs) return;
          const entity = entityNames.find((e) => b.source.entities[e]);
          if (!entity) return;
          const patience = AbortSignal.timeout(probeTimeoutMs);
          const signal = ctx.signal ? AbortSignal.any([ctx.signal, patience]) : patience;
          const failed = await b.connector.page(entity, { offset: 0, limit: 1 }, signal).then(
            () => false,
            // A source slower than a status check waits is not down: its status stays as it was.
            () => !patience.aborted,
          );
          probes.set(b, { at: deps.now(), failed });
        }),
      );
      return adapter.sources();
    },
  };
  return adapter;
}
