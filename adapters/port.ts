/**
 * The port: what every city must answer, whatever system it runs. Declared
 * once; `createCityAdapter` (city-adapter.ts) builds it from a city's config
 * and one `SourceConnector` per source system.
 */
import type { Dispatcher } from 'undici';
import type { Domain, RejectReason } from '../schema/code-lists.ts';
import type { EntityName, EntityRecord } from '../schema/records.ts';
import type { Logger } from '../runtime/logger.ts';

/** What travels with every call to a city (never who asks: a city system needs no caller's identity). */
export interface CallContext {
  signal?: AbortSignal;
}

/**
 * An inclusive range of ISO dates or months on a date field: a bound of
 * `YYYY-MM` compares by month, one of `YYYY-MM-DD` by day. A record whose
 * field is empty (a draft's signing date) is in no range.
 */
export interface DateRange {
  readonly from?: string;
  readonly to?: string;
  /** An empty field matches too (a placement with no end is still running). Never pushed to a source. */
  readonly orEmpty?: boolean;
}

/**
 * Conditions on canonical fields, by path: a list matches any of its values
 * (`{ category: ['WORKSHOP'] }`), a range matches dates within it
 * (`{ 'intake.date': { from: '2024-01' } }`).
 */
export type Where = Readonly<Record<string, readonly string[] | DateRange>>;

export interface ListQuery {
  /** Position of the first record in the city's stable order, counting every record the city holds. */
  offset: number;
  /** Infinity asks for every record. */
  limit: number;
  /** With conditions, offsets and totals count only the matching valid records. */
  where?: Where;
}

export interface Page<T> {
  /** The records of the slice that passed validation, in the city's order. */
  items: T[];
  /**
   * Positions the query spans. Without conditions, a person list counts every
   * record the city holds, rejected ones included (a slice is read by
   * position); with conditions, and for the records that hang off a person,
   * only the matching valid records.
   */
  total: number;
  /**
   * How many records of the slice were rejected (they are counted in the
   * city's data quality); for a read of the whole entity, how many of the
   * records read were: all of the entity's, whatever the conditions, unless
   * the source applied some of the conditions itself (a REST API's own
   * filters), when only the records it sent for them are read and counted.
   */
  rejected: number;
  /** For a read of the whole entity: how many valid records match the query. */
  accepted?: number;
  /** Offset just past the slice. */
  nextOffset: number;
}

/**
 * A count of an entity's valid records, grouped: `by` names canonical paths
 * (`intake.channel`), and `distinct` a path whose different values each group
 * also counts (`personKey`: people, not records).
 */
export interface CountQuery {
  where?: Where;
  by?: readonly string[];
  distinct?: string;
}

export interface CountGroup {
  /** The group's value on each path of `by`, in order; null where a record has none. */
  key: Array<string | null>;
  count: number;
  /** Different values of `distinct` in the group. */
  distinct?: number;
}

export interface Counts {
  /** Groups that hold records, in no particular order; without `by`, one group (when any record matches). */
  groups: CountGroup[];
  /** Records read for the count that were rejected (every rejected record, without conditions the source applies itself). */
  rejected: number;
}

/** Entities that hang off a beneficiary. */
export type BeneficiaryChild = 'enrollments' | 'civicProjects' | 'placements';

export interface EntityQuality {
  entity: EntityName;
  received: number;
  accepted: number;
  rejected: number;
  reasons: Array<{ code: RejectReason; count: number }>;
  /**
   * Fields the config maps that no record received holds (a column or
   * element renamed or removed in the city's system), each naming the config
   * key to change and the city's file; empty when every mapped field is sent.
   */
  mappingProblems: string[];
  /** When the figures were computed. */
  asOf: Date;
}

/**
 * How a source is doing: `UP`; `DEGRADED` (it answers, but needed retries on
 * more than a fifth of its last 20 requests, or more than its
 * `maxRejectedShare` of an entity's records were rejected); `STALE` (a snapshot source
 * serving its last good export); `DOWN` (its last request failed, or its
 * circuit is open); `UNKNOWN` (not asked yet); `NOT_CONFIGURED`.
 */
export type SourceState = 'UP' | 'DEGRADED' | 'STALE' | 'DOWN' | 'UNKNOWN' | 'NOT_CONFIGURED';

/** What a connector knows of its source, without asking it. */
export interface ConnectorStatus {
  status: SourceState;
  /** When the data last served was current at the source (a snapshot's time, or the last good answer). */
  asOf: Date | null;
  /** Why the source is DOWN, DEGRADED or STALE, in words, where the connector knows more than the state (never the city's data). */
  reason?: string;
}

export interface SourceStatus extends ConnectorStatus {
  id: string;
  kind: string;
  domains: Domain[];
}

/** What a city answers. Each method asks only the source that serves the entity's domain. */
export interface CityAdapter {
  readonly city: string;
  readonly domains: ReadonlySet<Domain>;
  /** A slice of an entity's records, in the city's stable order. */
  list<E extends EntityName>(entity: E, query: ListQuery, ctx: CallContext): Promise<Page<EntityRecord<E>>>;
  /** Records by local id, in key order; an Error (NOT_FOUND, or the record's rejection) where there is none. */
  byId<E extends EntityName>(entity: E, ids: readonly string[], ctx: CallContext): Promise<Array<EntityRecord<E> | Error>>;
  /**
   * Valid records counted, by group, where the data is: the source applies
   * the conditions it can (its own filters), a snapshot is counted from its
   * parsed export, and records never leave the adapter. A source's own count
   * is not used: it cannot know which of its records the graph rejects, and
   * counts must add up with the lists.
   */
  count<E extends EntityName>(entity: E, query: CountQuery, ctx: CallContext): Promise<Counts>;
  /** Each beneficiary's records of an entity, in key order. */
  byBeneficiary<E extends BeneficiaryChild>(entity: E, beneficiaryIds: readonly string[], ctx: CallContext): Promise<Array<EntityRecord<E>[] | Error>>;
  /** Received / accepted / rejected per entity, over everything the city holds. */
  dataQuality(ctx: CallContext): Promise<EntityQuality[]>;
  /** How each source is doing, as last seen (no request). */
  sources(): SourceStatus[];
  /** How each source is doing now: each is asked for one record unless it answered within the last `maxAgeMs`. */
  checkSources(ctx: CallContext, maxAgeMs: number): Promise<SourceStatus[]>;
}

export type LookupKey = 'localId' | 'beneficiaryId';

/** A record as the source sent it: its own field names, its own codes. */
export type RawRow = Readonly<Record<string, unknown>> & { readonly [rowDefect]?: string; readonly [cellDefects]?: Readonly<Record<string, string>> };

/**
 * Set by a connector on a row it could read only in part (e.g. a CSV line
 * with the wrong number of cells): the row is rejected as MALFORMED_ROW with
 * this text as the detail, and the rest of the source is served as usual.
 */
export const rowDefect: unique symbol = Symbol('rowDefect');

/**
 * Set by a connector on a row some of whose cells hold no value it can pass
 * on (a spreadsheet cell holding an error such as #VALUE!, or a formula saved
 * without its result): by the row's own field name, what is wrong, naming
 * where, never the content. Such a cell reads as empty; a row whose mapped
 * field reads one is rejected as INVALID_VALUE naming that field, and a cell
 * no mapping reads does not matter.
 */
export const cellDefects: unique symbol = Symbol('cellDefects');

export interface RawPage {
  rows: RawRow[];
  /** Rows the source holds for the entity (all pages), or, asked with conditions, the rows it says match them. */
  total: number;
  /**
   * For a snapshot source (an export file), which snapshot the rows come
   * from: while it is the same, so are the rows (the very same objects), and
   * whatever was worked out from them still holds. Absent for a live source.
   */
  version?: string;
}

/** A slice of an entity's rows, and the conditions the source is asked to apply itself. */
export interface PageRequest {
  offset: number;
  limit: number;
  /**
   * Conditions on canonical paths (see `Where`) for the source to apply, as
   * `pushable` returned them; offsets and the total then count the rows the
   * source says match. The caller applies every condition again to what
   * arrives: a source that ignores one must not change the answer.
   */
  where?: Where;
}

/**
 * One source system, spoken to in its own protocol. A connector only moves
 * rows: mapping and validation are shared (mapping.ts). Field names passed in
 * are the source's own.
 */
export interface SourceConnector {
  readonly kind: string;
  /**
   * Rows `[offset, offset + limit)` of an entity in the source's stable order,
   * and how many rows the source holds for the entity (with `where`, among
   * the rows it says match). A slice past the end answers no rows.
   */
  page(entity: EntityName, slice: PageRequest, signal?: AbortSignal): Promise<RawPage>;
  /**
   * The part of `where` this source can apply itself, from its config's
   * filters (a condition only partly expressible keeps the part that is, e.g.
   * one bound of a range). Absent, or an empty answer: the source filters
   * nothing, and the caller reads the entity whole.
   */
  pushable?(entity: EntityName, where: Where): Where;
  /**
   * Rows whose key (`localId`, or `beneficiaryId` for the entities that hang
   * off a beneficiary) is one of `values`, in any order. Values are the
   * source's own ids. Implementations batch: the number of upstream requests
   * grows with `values.length / maxBatchSize`, never one request per value.
   */
  lookup(entity: EntityName, key: LookupKey, values: readonly string[], signal?: AbortSignal): Promise<RawRow[]>;
  status(): ConnectorStatus;
}

/** What a connector is given: never globals, never process.env. */
export interface ConnectorDeps {
  /** The undici dispatcher (connection pool) upstream requests go through. */
  dispatcher: Dispatcher;
  /** Milliseconds since the epoch. */
  now: () => number;
  logger: Logger;
  /** Told of every request to a city system, once it is over (for metrics). */
  observe?: (request: UpstreamRequest) => void;
}

/** One request to a city system, as metrics see it: never what it carried. */
export interface UpstreamRequest {
  city: string;
  source: string;
  /** `ok`, or the error code it ended with. */
  outcome: string;
  seconds: number;
}
