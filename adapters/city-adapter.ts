/**
 * Builds a city's `CityAdapter` from its resolved config: one connector per
 * source, each entity asked of the source that serves its domain, every row
 * mapped and validated by the shared row mapper.
 *
 * A list with conditions (or asked whole, or of records that hang off a
 * person) reads the entity whole. The conditions a source can apply itself
 * (a REST API's own filters) are passed on, so that it sends only what
 * matches; every condition is applied again here to what arrives. A snapshot
 * source's whole read is kept, mapped and validated, for as long as the
 * connector hands back the same export.
 *
 * A record whose local id an earlier record of the same read already had (a
 * source that lists a record twice, or two versions of it) is rejected as
 * DUPLICATE_RECORD, the first one kept: whole reads see every copy; a slice
 * read by position rejects the copies the last whole read of the entity
 * found, as well as any within the slice, so that a walk by positions
 * returns the records the whole read counts.
 *
 * A whole read also notes the mapped fields that none of its records holds
 * (a column or element renamed or removed in the city's system): the
 * source's status and the city's data quality name each, with the key of the
 * city's file to change.
 */
import { CityError, RecordRejectedError, asCityError } from '../schema/errors.ts';
import type { Domain, RejectReason } from '../schema/code-lists.ts';
import { entityDomain, entityNames, type EntityName, type EntityRecord } from '../schema/records.ts';
import type { ResolvedCity, ResolvedSource } from './config.ts';
import { createRowMapper, fieldValue, type MapResult, type RowMapper } from './mapping.ts';
import { configKeyOf, fieldWordOf, optionalCanonicalFields, specColumns } from './source-base.ts';
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
  CountQuery,
  Counts,
  DateRange,
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
  /**
   * Told each time the rows of a whole read are mapped and validated (not
   * when a snapshot's earlier result is reused): for metrics, and for tests
   * that count the work a read costs.
   */
  observeClassify?: (read: ClassifyEvent) => void;
}

/** The rows of one whole read of an entity, mapped and validated. */
export interface ClassifyEvent {
  city: string;
  source: string;
  entity: EntityName;
  /** Rows classified. */
  rows: number;
}

/** Fewest records a filtered read must hold to decide, as a sample, whether a source rejects too many. */
const MIN_SAMPLE = 50;

/** The entities that hang off a beneficiary: in the graph only when their person is. */
const childEntities: ReadonlySet<EntityName> = new Set<EntityName>(['enrollments', 'civicProjects', 'placements']);

/** What became of one row: a record, or a rejection with its reason. */
type Classified<E extends EntityName> =
  | { ok: true; record: EntityRecord<E> }
  | {
      ok: false;
      localId: string | null;
      reason: RejectReason;
      detail: string;
      /** The rejection depends on today's date (see MapResult): a result holding it holds for today only. */
      volatile?: true;
      /** For a DUPLICATE_RECORD, the position (from 0, in the read) of the record kept. */
      keptAt?: number;
    };

/** A mapped field that no record of a read holds: the city's system renamed or removed it. */
interface AbsentField {
  /** The canonical field, e.g. `birthDate`. */
  field: string;
  /** The source's own names the config reads it from that no record holds. */
  names: string[];
  /** Every record then lacks a required field (MISSING_FIELD); an optional one merely reads as empty. */
  required: boolean;
}

/** Rejections among the rows of one read of an entity. */
interface RejectTally {
  entity: EntityName;
  received: number;
  rejected: number;
  reasons: Map<RejectReason, number>;
  /** Mapped fields no row of the read holds (none when no row was read). */
  absent: AbsentField[];
}

interface Bound {
  source: ResolvedSource;
  connector: SourceConnector;
  mapper: RowMapper;
  /** Mapping results per row object: snapshot sources hand back the same rows until their file changes. */
  mapped: WeakMap<RawRow, MapResult<unknown>>;
  /**
   * Per entity, the rejections of its last read of every record: what the
   * source's DEGRADED status is decided on (a read the source filtered holds
   * too few records to judge the whole by).
   */
  tallies: Map<EntityName, RejectTally>;
  /** Per entity, the rejections of its last read of every record. */
  wholeTallies: Map<EntityName, RejectTally>;
  /** Per entity, the last whole read of a snapshot, reused while its key (the snapshots it was read from) holds. */
  snapshots: Map<EntityName, WholeRead<EntityName> & { key: string }>;
  /**
   * Per entity, the local ids the last read of every record found more than
   * once, each with the position of the record kept: a slice read by
   * position rejects the other copies.
   */
  duplicates: Map<EntityName, ReadonlyMap<string, number>>;
}

/** A whole read of an entity: every row the source sent, classified. */
interface WholeRead<E extends EntityName> {
  classified: Classified<E>[];
  /** Rejections among the rows read. */
  tally: RejectTally;
  /** The export the rows come from (`RawPage.version`); undefined for a live source, or a read the source filtered. */
  version: string | undefined;
  /** The Italian day (ISO) the result holds for, when a rejection in it depends on the date; null when it holds any day. */
  day: string | null;
}

/** The persons of a city with a valid record (null) or the reason theirs was rejected, by local id, and what that was read from. */
interface Persons {
  state: Map<string, RejectReason | null>;
  version: string | undefined;
  day: string | null;
}

/** Today where the programme runs: the day the row mapper judges dates "after today" by. */
const italianDate = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Rome', year: 'numeric', month: '2-digit', day: '2-digit' });

/**
 * What to change for each mapped field no record holds, e.g. `field
 * "data_nascita" is in none of the 782 beneficiaries records received
 * (renamed or removed in the city's system?): change
 * sources[id=main].entities.beneficiaries.fields.birthDate in
 * adapters/cities/001272-torino.json to its new name`.
 */
function absentProblems(source: ResolvedSource, t: RejectTally, which: 'required' | 'all' = 'all'): string[] {
  const word = fieldWordOf(source.kind);
  return t.absent
    .filter((a) => which === 'all' || a.required)
    .map((a) => {
      const names = a.names.map((n) => `"${n}"`).join(', ');
      const key = configKeyOf(source, `entities.${t.entity}.fields.${a.field}`);
      return a.required
        ? `${word} ${names} is in none of the ${t.received} ${t.entity} records received (renamed or removed in the city's system?): change ${key} to its new name`
        : `${word} ${names} is in none of the ${t.received} ${t.entity} records received, so ${a.field} reads as empty in every one: if the system renamed it, change ${key}`;
    });
}

/** The main reasons of a tally, e.g. `MISSING_FIELD 141, INVALID_DATE 2`. */
function mainReasons(reasons: ReadonlyMap<RejectReason, number>): string {
  return [...reasons].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 3).map(([r, n]) => `${r} ${n}`).join(', ');
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

/** Whether a record meets every condition (see `Where`). */
export function matches(record: unknown, where: Where | undefined): boolean {
  if (!where) return true;
  return Object.entries(where).every(([path, condition]) => {
    const v = get(record, path);
    if (Array.isArray(condition)) return condition.includes(String(v));
    const { from, to, orEmpty } = condition as DateRange;
    if (v === null || v === undefined || v === '') return orEmpty === true;
    if (typeof v !== 'string') return false;
    return (from === undefined || v.slice(0, from.length) >= from) && (to === undefined || v.slice(0, to.length) <= to);
  });
}

export function createCityAdapter(city: ResolvedCity, options: CityAdapterOptions): CityAdapter {
  const { deps, qualityTtlMs = 60_000, scanPageSize = 1000, probeTimeoutMs = 3_000 } = options;
  const byDomain = new Map<Domain, Bound>();
  /** The last status probe of each source: when, and whether it failed. */
  const probes = new WeakMap<Bound, { at: number; failed: boolean }>();
  for (const source of city.sources) {
    const raw = source.problem ? unconfiguredConnector(city.code, source.kind, source.problem) : options.createConnector(city.code, source, deps);
    const bound: Bound = {
      source,
      connector: raw,
      mapper: createRowMapper(city.code, source, options.personKeySecret, deps.now),
      mapped: new WeakMap(),
      tallies: new Map(),
      wholeTallies: new Map(),
      snapshots: new Map(),
      duplicates: new Map(),
    };
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
    if (raw.pushable) bound.connector.pushable = (entity, where) => raw.pushable!(entity, where);
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

  /**
   * Which of the city's persons have a valid record: a local id maps to null
   * when valid, or to the reason it was rejected. Read once per request (the
   * calls of one request share its CallContext), never kept longer: a person
   * whose record is mended counts again at once (a snapshot source's export
   * is classified once, but a mended record comes in a new export).
   */
  const parentsRead = new WeakMap<CallContext, Promise<Persons>>();
  function parents(ctx: CallContext): Promise<Persons> {
    let value = parentsRead.get(ctx);
    if (value) return value;
    value = (async () => {
      const read = await readWhole(boundFor('beneficiaries'), 'beneficiaries', ctx);
      const state = new Map<string, RejectReason | null>();
      for (const c of read.classified) {
        if (c.ok) state.set(c.record.localId, null);
        else if (c.localId !== null && !state.has(c.localId)) state.set(c.localId, c.reason);
      }
      return { state, version: read.version, day: read.day };
    })();
    parentsRead.set(ctx, value);
    return value;
  }

  const personsLooked = new WeakMap<CallContext, Map<string, Promise<Map<string, RejectReason | null>>>>();
  /** Whether each of these persons has a valid record (null) or why not, looked up by id once per request. */
  function personsById(ids: readonly string[], ctx: CallContext): Promise<Map<string, RejectReason | null>> {
    let byKey = personsLooked.get(ctx);
    if (!byKey) personsLooked.set(ctx, (byKey = new Map()));
    const key = [...ids].sort().join('\n');
    let value = byKey.get(key);
    if (!value) {
      const people = boundFor('beneficiaries');
      value = people.connector.lookup('beneficiaries', 'localId', ids, ctx.signal).then((found) => {
        const state = new Map<string, RejectReason | null>();
        // The first record of an id decides, as in a whole read (a later copy is a duplicate).
        for (const row of found) {
          const r = mapRow(people, 'beneficiaries', row);
          const id = r.ok ? r.record.localId : r.localId;
          if (id !== null && !state.has(id)) state.set(id, r.ok ? null : r.rejection.reason);
        }
        return state;
      });
      byKey.set(key, value);
    }
    return value;
  }

  /** The city's persons, when `entity` hangs off them and there are rows to judge by them. */
  function personsFor(entity: EntityName, rows: readonly RawRow[], ctx: CallContext): Promise<Persons> | null {
    return childEntities.has(entity) && rows.length > 0 ? parents(ctx) : null;
  }

  /**
   * Maps and validates rows; a child whose person has no valid record is
   * rejected as PARENT_REJECTED (`state`: the persons, for the entities that
   * hang off one), so that every record the graph accepts can be reached from
   * a person. A row whose local id an earlier row had is rejected as
   * DUPLICATE_RECORD whatever it holds: among these rows, and, for a slice
   * (`slice`: where it starts, and the duplicates the last whole read found),
   * where that read kept the id's record at an earlier position.
   */
  function classify<E extends EntityName>(
    b: Bound,
    entity: E,
    rows: readonly RawRow[],
    state: ReadonlyMap<string, RejectReason | null> | null,
    slice?: { offset: number; kept: ReadonlyMap<string, number> | undefined },
  ): Classified<E>[] {
    const offset = slice?.offset ?? 0;
    const seen = new Map<string, number>();
    return rows.map((row, i): Classified<E> => {
      const r = mapRow(b, entity, row);
      const localId = r.ok ? (r.record as { localId: string }).localId : r.localId;
      if (localId !== null) {
        const position = offset + i;
        const elsewhere = slice?.kept?.get(localId);
        const keptAt = seen.get(localId) ?? (elsewhere !== undefined && elsewhere < position ? elsewhere : undefined);
        if (keptAt !== undefined) {
          return { ok: false, localId, reason: 'DUPLICATE_RECORD', detail: `DUPLICATE_RECORD (the same local id as record ${keptAt + 1} of the read, which is kept)`, keptAt };
        }
        seen.set(localId, position);
      }
      if (!r.ok) {
        const c: Classified<E> = { ok: false, localId: r.localId, reason: r.rejection.reason, detail: `${r.rejection.reason} (${r.rejection.detail})` };
        return r.volatile ? { ...c, volatile: true } : c;
      }
      if (state) {
        const parent = state.get((r.record as { beneficiaryId: string }).beneficiaryId);
        if (parent !== null) {
          const why = parent === undefined ? "its person is not in the city's records" : `its person's record was rejected (${parent})`;
          return { ok: false, localId: (r.record as { localId: string }).localId, reason: 'PARENT_REJECTED', detail: `PARENT_REJECTED (${why})` };
        }
      }
      return { ok: true, record: r.record };
    });
  }

  /** Counts the rejections among classified rows, and notes the mapped fields none of the rows holds. */
  function tallyOf(b: Bound, entity: EntityName, rows: readonly RawRow[], classified: readonly Classified<EntityName>[]): RejectTally {
    const reasons = new Map<RejectReason, number>();
    for (const c of classified) if (!c.ok) reasons.set(c.reason, (reasons.get(c.reason) ?? 0) + 1);
    let rejected = 0;
    for (const n of reasons.values()) rejected += n;
    const absent: AbsentField[] = [];
    if (rows.length > 0) {
      for (const [field, spec] of Object.entries(b.source.entities[entity]!.fields as Record<string, string>)) {
        // Each search stops at the first row holding the name: a field that is there costs a look at one row.
        const names = specColumns(spec).filter((name) => rows.every((row) => fieldValue(row, name) === undefined));
        if (names.length > 0) absent.push({ field, names, required: !optionalCanonicalFields.has(field) });
      }
    }
    return { entity, received: classified.length, rejected, reasons, absent };
  }

  /**
   * Every row of an entity in the source's order (with `where`, every row the
   * source says matches), and the export they come from, if one.
   */
  async function scan(b: Bound, entity: EntityName, signal: AbortSignal | undefined, where?: Where): Promise<{ rows: RawRow[]; version: string | undefined }> {
    for (let attempt = 1; ; attempt++) {
      const first = await b.connector.page(entity, { offset: 0, limit: scanPageSize, where }, signal);
      if (first.rows.length >= first.total) return { rows: first.rows, version: first.version };
      // The rest at once: its total is the one the first page gave (the filtered one, with conditions).
      const rest = await b.connector.page(entity, { offset: first.rows.length, limit: first.total - first.rows.length, where }, signal);
      if (first.version === rest.version) return { rows: [...first.rows, ...rest.rows], version: first.version };
      // A new export arrived between the two pages: the halves belong to different files, so read it again.
      if (attempt === 3) return { rows: [...first.rows, ...rest.rows], version: undefined };
    }
  }

  /**
   * Every row of an entity, classified (with `pushed`, every row the source
   * sends for those conditions). A snapshot's result is reused while the
   * connector hands back the same export and, for the records that hang off a
   * person, the same export of the persons (whose rejections make their
   * children PARENT_REJECTED); a live source is classified at every read.
   * The rejections of a read of every record are the entity's tally.
   */
  /**
   * The whole reads of one request (its calls share a CallContext): a request
   * that needs a city's persons both as figures and to know which children
   * are valid reads them once.
   */
  const requestReads = new WeakMap<CallContext, Map<string, Promise<WholeRead<EntityName>>>>();
  function readWhole<E extends EntityName>(b: Bound, entity: E, ctx: CallContext, pushed?: Where): Promise<WholeRead<E>> {
    if (pushed !== undefined) return readWholeNow(b, entity, ctx, pushed);
    let reads = requestReads.get(ctx);
    if (!reads) requestReads.set(ctx, (reads = new Map()));
    const key = `${b.source.id}|${entity}`;
    let read = reads.get(key);
    if (!read) {
      read = readWholeNow(b, entity, ctx);
      reads.set(key, read);
      // A failed read is not kept: another call of the request may try again.
      read.catch(() => reads!.delete(key));
    }
    return read as Promise<WholeRead<E>>;
  }

  async function readWholeNow<E extends EntityName>(b: Bound, entity: E, ctx: CallContext, pushed?: Where): Promise<WholeRead<E>> {
    const { rows, version } = await scan(b, entity, ctx.signal, pushed);
    const persons = await personsFor(entity, rows, ctx);
    const key = pushed === undefined && version !== undefined && (persons === null || persons.version !== undefined) ? `${version}|${persons?.version ?? ''}` : null;
    const today = italianDate.format(new Date(deps.now()));
    const kept = key === null ? undefined : b.snapshots.get(entity);
    if (kept && kept.key === key && (kept.day === null || kept.day === today)) {
      b.tallies.set(entity, kept.tally);
      b.wholeTallies.set(entity, kept.tally);
      b.duplicates.set(entity, duplicatesOf(kept.classified));
      return kept as unknown as WholeRead<E>;
    }
    const classified = classify(b, entity, rows, persons?.state ?? null);
    options.observeClassify?.({ city: city.code, source: b.source.id, entity, rows: rows.length });
    const tally = tallyOf(b, entity, rows, classified);
    // A read of every record decides the source's status; so does a filtered read large enough
    // to be a fair sample (a city's own filters must not hide that most of its records fail).
    if (pushed === undefined) {
      b.wholeTallies.set(entity, tally);
      b.duplicates.set(entity, duplicatesOf(classified));
    }
    if (pushed === undefined || tally.received >= MIN_SAMPLE) b.tallies.set(entity, tally);
    // A rejection for a date after today (the row's own, or its person's) may not hold tomorrow.
    const dated = (persons !== null && persons.day !== null) || classified.some((c) => !c.ok && c.volatile);
    const read: WholeRead<E> = { classified, tally, version: pushed === undefined ? version : undefined, day: dated ? today : null };
    if (key !== null) b.snapshots.set(entity, { ...(read as unknown as WholeRead<EntityName>), key });
    return read;
  }

  /** The local ids found more than once among classified rows, each with the position of the record kept. */
  function duplicatesOf(classified: readonly Classified<EntityName>[]): ReadonlyMap<string, number> {
    const found = new Map<string, number>();
    for (const c of classified) if (!c.ok && c.keptAt !== undefined && c.localId !== null) found.set(c.localId, c.keptAt);
    return found;
  }

  /**
   * The rejected records to report beside an answer: every rejected record of
   * the entity, from the last read of all of them, when a city's own filters
   * kept the others from this read.
   */
  function rejectedOf(b: Bound, entity: EntityName, read: WholeRead<EntityName>): number {
    return read.version === undefined ? (b.wholeTallies.get(entity)?.rejected ?? read.tally.rejected) : read.tally.rejected;
  }

  /** The conditions the entity's source applies itself, or undefined when it applies none. */
  function pushableOf(b: Bound, entity: EntityName, where: Where): Where | undefined {
    const pushed = b.connector.pushable?.(entity, where);
    return pushed && Object.keys(pushed).length > 0 ? pushed : undefined;
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
        // A child is valid only with its person, which a slice cannot tell: children are read whole.
        const whole = filtered || !Number.isFinite(query.limit) || childEntities.has(entity);
        if (whole) {
          // Read the entity (what the source sends for the conditions it can
          // apply itself), apply every condition here, and count offsets among
          // the matching valid records (or, reading a person list whole
          // without conditions, among every record).
          const pushed = filtered ? pushableOf(b, entity, query.where!) : undefined;
          const read = await readWhole(b, entity, ctx, pushed);
          const matching: EntityRecord<E>[] = [];
          for (const c of read.classified) if (c.ok && matches(c.record, query.where)) matching.push(c.record);
          const byValid = filtered || childEntities.has(entity);
          const items = matching.slice(query.offset, query.offset + query.limit);
          return {
            items,
            total: byValid ? matching.length : read.classified.length,
            accepted: matching.length,
            rejected: rejectedOf(b, entity, read),
            nextOffset: byValid ? query.offset + items.length : read.classified.length,
          };
        }
        if (query.limit === 0) {
          const p = await b.connector.page(entity, { offset: 0, limit: 1 }, ctx.signal);
          return { items: [], total: p.total, rejected: 0, nextOffset: query.offset };
        }
        const page = await b.connector.page(entity, { offset: query.offset, limit: query.limit }, ctx.signal);
        const items: EntityRecord<E>[] = [];
        let rejected = 0;
        for (const c of classify(b, entity, page.rows, null, { offset: query.offset, kept: b.duplicates.get(entity) })) {
          if (c.ok) items.push(c.record);
          else rejected++;
        }
        return { items, total: page.total, rejected, nextOffset: query.offset + page.rows.length };
      });
    },

    count<E extends EntityName>(entity: E, query: CountQuery, ctx: CallContext): Promise<Counts> {
      return guard(ctx.signal, async () => {
        const b = boundFor(entity);
        const where = query.where ?? {};
        const read = await readWhole(b, entity, ctx, Object.keys(where).length > 0 ? pushableOf(b, entity, where) : undefined);
        const by = query.by ?? [];
        const groups = new Map<string, { key: Array<string | null>; count: number; values: Set<string> }>();
        for (const c of read.classified) {
          if (!c.ok || !matches(c.record, where)) continue;
          const key = by.map((path) => {
            const v = get(c.record, path);
            return v === null || v === undefined ? null : String(v);
          });
          const id = JSON.stringify(key);
          let g = groups.get(id);
          if (!g) groups.set(id, (g = { key, count: 0, values: new Set() }));
          g.count++;
          if (query.distinct) g.values.add(String(get(c.record, query.distinct)));
        }
        return {
          groups: [...groups.values()].map((g) => (query.distinct ? { key: g.key, count: g.count, distinct: g.values.size } : { key: g.key, count: g.count })),
          rejected: rejectedOf(b, entity, read),
        };
      });
    },

    byId<E extends EntityName>(entity: E, ids: readonly string[], ctx: CallContext) {
      return guard(ctx.signal, async () => {
        const b = boundFor(entity);
        const rows = await b.connector.lookup(entity, 'localId', ids, ctx.signal);
        const found = new Map<string, EntityRecord<E> | Error>();
        const persons = await personsFor(entity, rows, ctx);
        for (const c of classify(b, entity, rows, persons?.state ?? null)) {
          // A later copy of an id (DUPLICATE_RECORD) leaves the first one's answer as it is.
          if (c.ok) found.set((c.record as { localId: string }).localId, c.record);
          else if (c.localId !== null && !found.has(c.localId)) found.set(c.localId, new RecordRejectedError(city.code, c.reason, `${entity} ${c.localId}: ${c.detail}`));
        }
        return ids.map((id) => found.get(id) ?? new RecordRejectedError(city.code, null, `${entity} ${id}`));
      });
    },

    byBeneficiary<E extends BeneficiaryChild>(entity: E, beneficiaryIds: readonly string[], ctx: CallContext) {
      return guard(ctx.signal, async () => {
        const b = boundFor(entity);
        // The persons asked for are looked up too (one batch, shared by the request's calls), not read
        // whole: the records of a person whose own record is rejected are in no answer.
        const [rows, persons] = await Promise.all([b.connector.lookup(entity, 'beneficiaryId', beneficiaryIds, ctx.signal), personsById(beneficiaryIds, ctx)]);
        const grouped = new Map<string, EntityRecord<E>[]>(beneficiaryIds.filter((id) => persons.get(id) === null).map((id) => [id, []]));
        // A rejected row is left out here and counted by the city's data quality; so are the
        // records of a person whose own record is rejected (asked for by an id issued before),
        // and every copy of a record after its first (DUPLICATE_RECORD).
        for (const c of classify(b, entity, rows, null)) {
          if (c.ok) grouped.get((c.record as { beneficiaryId: string }).beneficiaryId)?.push(c.record);
        }
        return beneficiaryIds.map((id) => grouped.get(id) ?? []);
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
            const t = (await readWhole(boundFor(entity), entity, ctx)).tally;
            return {
              entity,
              received: t.received,
              accepted: t.received - t.rejected,
              rejected: t.rejected,
              reasons: [...t.reasons].map(([code, count]) => ({ code, count })).sort((a, b) => a.code.localeCompare(b.code)),
              mappingProblems: absentProblems(boundFor(entity).source, t),
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
        // A source that answers but whose records are mostly rejected contributes little: it is not UP.
        const rejecting = [...b.tallies.values()].filter((t) => t.received > 0 && t.rejected / t.received > b.source.maxRejectedShare);
        if (rejecting.length && (status.status === 'UP' || status.status === 'DEGRADED' || status.status === 'STALE')) {
          const why = rejecting
            .map((t) => {
              const fix = absentProblems(b.source, t, 'required');
              return `${t.rejected} of ${t.received} ${t.entity} rejected (${mainReasons(t.reasons)})${fix.length > 0 ? `: ${fix.join('; ')}` : ''}`;
            })
            .join('; ');
          if (status.status === 'UP') status.status = 'DEGRADED';
          status.reason = status.reason ? `${status.reason}; ${why}` : why;
        }
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
