/**
 * What a subgraph knows about one request: who asks, the city errors met so
 * far (sent back beside the data), what the rules withheld and which
 * person records were read (for the audit trail), and DataLoaders per city,
 * made for this request only (permissions differ per caller, so nothing is
 * shared across requests).
 */
import DataLoader from 'dataloader';
import { GraphQLError } from 'graphql';
import type { Fleet } from '../../adapters/fleet.ts';
import type { CallContext } from '../../adapters/port.ts';
import type { Caller } from '../../access/caller.ts';
import type { IdCodec } from '../../access/opaque-id.ts';
import type { AccessRule } from '../../access/rules.ts';
import type { CursorCodec } from './paging.ts';
import type { CityError } from '../../schema/errors.ts';
import { childOf, silentLogger, type Logger } from '../../runtime/logger.ts';
import type { Metrics } from '../../runtime/metrics.ts';

/** What every request of a subgraph shares: built once at start. */
export interface SubgraphDeps {
  fleet: Fleet;
  /** Opaque record ids, the same key in every subgraph. */
  ids: IdCodec;
  /** Signed cursors. */
  cursors: CursorCodec;
  /** Smallest count shown as is to the dashboard role. */
  suppressionThreshold: number;
  /** Folder of the audit trail, read for operators' access logs. */
  auditDir: string;
  /** Each city's last good answer to a read, for callers who accept stale data. Shared by the process's requests. */
  lastGood?: LastGood;
  logger?: Logger;
  metrics?: Metrics;
}

/**
 * Last good answers to reads of a city, by read: bounded, the oldest read
 * dropped first. In the people subgraph they are pages of person records.
 */
export class LastGood {
  private readonly entries = new Map<string, { value: unknown; at: number }>();
  private readonly max: number;
  constructor(max = 1000) {
    this.max = max;
  }
  get(key: string) {
    return this.entries.get(key);
  }
  set(key: string, value: { value: unknown; at: number }) {
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!);
  }
}

/** Reads of person records in one request, for the audit trail. */
export interface RecordReads {
  /** City of each record read, by `<kind>:<city>:<local id>`. */
  records: Map<string, string>;
  /** Schema coordinates read, e.g. `Beneficiary.givenName`. */
  fields: Set<string>;
}

/** Where a request came from, as the gateway says (unverified), for the audit trail. */
export interface RequestOrigin {
  /** SHA-256 hex of the client's operation, as the gateway reports it; empty when none was reported. */
  operationHash: string;
  operationName?: string;
  requestId?: string;
  /** The gateway's own key of the client's query (never the client's): its parts, asked in several requests, share it. */
  queryKey?: string;
}

export interface SubgraphContext extends SubgraphDeps {
  caller: Caller;
  origin: RequestOrigin;
  call: CallContext;
  /** City errors to report in the response's `errors`, once per city and code. */
  cityErrors: Map<string, CityError>;
  report(error: CityError): void;
  /** Fields the rules withheld from the caller, by coordinate. */
  denied: Map<string, AccessRule>;
  /** Published counts in which small counts were withheld, by coordinate. */
  suppressed: Set<string>;
  reads: RecordReads;
  /**
   * Counts records a request's lists ask for, against one budget for the
   * whole request: a query's cost limit cannot see page sizes given as
   * variables. Throws DEMAND_LIMIT_EXCEEDED, before any city is asked, once
   * the request asks for more than MAX_RECORDS_PER_REQUEST.
   */
  claimRecords(count: number): void;
  /** The request's DataLoader for `name` in `city`, made on first use. */
  loader<K, V>(name: string, city: string, batch: (keys: readonly K[]) => Promise<ArrayLike<V | Error>>): DataLoader<K, V>;
}

/** Most records the lists of one request may ask for: two of the largest pages. */
export const MAX_RECORDS_PER_REQUEST = 1000;

/**
 * `signal` is the query's: aborted when its deadline passes or the gateway
 * gives up on it, it stops every city call the request makes.
 */
export function createSubgraphContext(deps: SubgraphDeps, caller: Caller, origin: RequestOrigin = { operationHash: '' }, signal?: AbortSignal): SubgraphContext {
  // Every line about this request carries its id, as the gateway gave it.
  const logger = childOf(deps.logger ?? silentLogger, origin.requestId ? { requestId: origin.requestId } : {});
  const loaders = new Map<string, DataLoader<unknown, unknown>>();
  const cityErrors = new Map<string, CityError>();
  let claimed = 0;
  return {
    ...deps,
    caller,
    origin,
    call: signal ? { signal } : {},
    cityErrors,
    denied: new Map(),
    suppressed: new Set(),
    reads: { records: new Map(), fields: new Set() },
    claimRecords(count) {
      claimed += count;
      if (claimed > MAX_RECORDS_PER_REQUEST) {
        throw new GraphQLError(`The query asks for ${claimed} records in all; at most ${MAX_RECORDS_PER_REQUEST} are allowed in one request`, {
          extensions: { code: 'DEMAND_LIMIT_EXCEEDED', limit: 'records', max: MAX_RECORDS_PER_REQUEST, found: claimed },
        });
      }
    },
    report(error) {
      const key = `${error.city}:${error.code}`;
      if (cityErrors.has(key)) return;
      cityErrors.set(key, error);
      deps.metrics?.cityErrors.inc({ city: error.city, code: error.code });
      // The detail names what went wrong, never what the city sent.
      logger.warn('city failed', { city: error.city, code: error.code, detail: error.detail });
    },
    loader<K, V>(name: string, city: string, batch: (keys: readonly K[]) => Promise<ArrayLike<V | Error>>) {
      const key = `${name}@${city}`;
      let l = loaders.get(key) as DataLoader<K, V> | undefined;
      if (!l) {
        l = new DataLoader<K, V>(batch, { maxBatchSize: 1000 });
        loaders.set(key, l as DataLoader<unknown, unknown>);
      }
      return l;
    },
  };
}
