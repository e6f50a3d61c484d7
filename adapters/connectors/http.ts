/**
 * The one way connectors speak HTTP to a city: a GET (or a POST, for the
 * protocols that ask by posting: SOAP, GraphQL) through the shared undici
 * dispatcher, carrying the source's credentials, through the source's
 * resilience policy (cockatiel), with every failure that is the city's doing
 * turned into a CityError that names the city.
 *
 * The policy is built once per source, when its connector is built, and held
 * here; from the outside in:
 *
 * 1. **retry**: a GET is a read, safe to repeat; so are the POSTs connectors
 *    make (each a query, changing nothing), and each attempt sends the same body. An attempt that met 502, 503,
 *    504, 408, 429, a connection refused or lost before any response, or a
 *    timeout is tried again `retries` times, after a pause that starts at
 *    `retryDelayMs` and doubles, each drawn between half and all of it (so
 *    that the callers of a city that hiccuped do not all come back at once).
 *    Never once the caller's signal has aborted.
 * 2. **circuit breaker**: `breakerFailures` consecutive attempts that found
 *    the city down (5xx, 408, 429, no connection, a timeout, a body cut short,
 *    401/403) open the circuit: for `breakerHalfOpenAfterMs` every request is
 *    answered at once with CITY_UNAVAILABLE, without asking the city; then one
 *    request is let through, and its outcome closes or reopens the circuit.
 *    Other 4xx (404, 400) are answers about the request, not the city, and do
 *    not count; 401/403 do, since a city refusing the credentials will not
 *    take them a second later and being asked again can lock the account.
 * 3. **bulkhead**: at most `maxConcurrent` requests in flight to the source
 *    from this process, `maxQueued` more waiting; beyond, CITY_UNAVAILABLE.
 *    Pauses between retries hold no place.
 * 4. **timeout**: each attempt, connection and whole body included, is
 *    bounded by `timeoutMs`, and the connection alone by `connectTimeoutMs`.
 *
 * The caller's signal (the query's deadline) bounds all of it: once it aborts,
 * `get` rejects at once with the signal's reason, never with a CityError, and
 * nothing more is sent.
 *
 * Bodies are always read or discarded (an unread body holds its connection)
 * and never quoted in an error: they carry personal data. Errors say what was
 * wrong ("status 500", "expected JSON, got text/html").
 */
import {
  BrokenCircuitError,
  BulkheadRejectedError,
  CircuitState,
  ConsecutiveBreaker,
  ExponentialBackoff,
  TimeoutStrategy,
  bulkhead,
  circuitBreaker,
  halfJitterGenerator,
  handleWhen,
  retry,
  timeout,
  wrap,
} from 'cockatiel';
import { request, type Dispatcher } from 'undici';
import { CityError, asCityError, type ExchangeStage } from '../../schema/errors.ts';
import { requestScope } from '../../runtime/request-scope.ts';
import type { ResolvedSource } from '../config.ts';
import type { ConnectorDeps, ConnectorStatus } from '../port.ts';

/** Query parameters, in order. A list is sent as its values joined by commas (each value encoded). */
export type Query = Readonly<Record<string, string | number | readonly string[]>>;

export interface GetOptions {
  query?: Query;
  headers?: Readonly<Record<string, string>>;
  /** The caller's signal: aborting it rejects at once with its reason, never with a CityError. */
  signal?: AbortSignal;
}

export interface PostOptions {
  /** Sent as it is, the same on every attempt. */
  body: string | Buffer;
  /** The content type among them: the body's own. */
  headers?: Readonly<Record<string, string>>;
  /** The caller's signal: aborting it rejects at once with its reason, never with a CityError. */
  signal?: AbortSignal;
  /**
   * Statuses, other than 2xx and 304, whose body the caller wants (a SOAP 1.1
   * fault comes with 500): the error is classified as any other, and
   * `failureBody(error)` gives up to MAX_FAILURE_BODY_BYTES of the body.
   */
  readBodyOn?: (status: number) => boolean;
}

export interface UpstreamResponse {
  /** A 2xx status, or 304 to a conditional request. */
  status: number;
  /** Lower-case names; repeated headers joined by ", ". */
  headers: Readonly<Record<string, string>>;
  /** Empty for a 304. */
  body: Buffer;
}

/** How a source's requests are faring, as this process has seen them (no request is made to know). */
export interface SourceHealth {
  circuit: 'closed' | 'open' | 'half-open';
  /** More than DEGRADED_SHARE of the last RECENT_WINDOW requests needed more than one attempt. */
  degraded: boolean;
  /** Why the circuit is not closed, or why the source is degraded; null when neither. */
  reason: string | null;
}

export interface HttpClient {
  /** GET below the source's baseUrl; resolves on 2xx and 304, throws a CityError otherwise. */
  get(path: string, options?: GetOptions): Promise<UpstreamResponse>;
  /** GET a JSON document: a 2xx with a JSON (or unlabelled / text/plain) body that parses. */
  getJson(path: string, options?: GetOptions): Promise<unknown>;
  /** POST below the source's baseUrl; answered, and failing, as `get`. */
  post(path: string, options: PostOptions): Promise<UpstreamResponse>;
  /** POST, and read the answer as `getJson` does. */
  postJson(path: string, options: PostOptions): Promise<unknown>;
  health(): SourceHealth;
}

/** How many of a source's latest requests its DEGRADED status looks at. */
export const RECENT_WINDOW = 20;
/** Share of those that may need a retry before the source is DEGRADED: more than 4 of 20. */
export const DEGRADED_SHARE = 0.2;
/** Longest pause between two attempts, in milliseconds, however many retries a source is given. */
const MAX_RETRY_DELAY_MS = 5_000;
/** Most bytes of a failed answer's body kept for `readBodyOn`; a larger body is not kept at all (a fault is small). */
export const MAX_FAILURE_BODY_BYTES = 64 * 1024;

/** The body a request's `readBodyOn` asked to keep, by the error its status made; never part of the error itself (bodies carry personal data). */
const failureBodies = new WeakMap<object, Buffer>();
/** The body kept with a failed POST's error (see `PostOptions.readBodyOn`); undefined when none was kept. */
export function failureBody(error: unknown): Buffer | undefined {
  return typeof error === 'object' && error !== null ? failureBodies.get(error) : undefined;
}

/** One request as each attempt sends it. */
interface Outgoing {
  method: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  body?: string | Buffer;
  readBodyOn?: (status: number) => boolean;
}

/** What an attempt's failure means to the policy. */
export interface Verdict {
  /** Worth another attempt: the city may answer a moment later. */
  retry: boolean;
  /** Says the city cannot serve now: counts towards opening its circuit. */
  down: boolean;
}
const verdicts = new WeakMap<object, Verdict>();
const verdictOf = (e: unknown): Verdict | undefined => (typeof e === 'object' && e !== null ? verdicts.get(e) : undefined);
/** A failure of one attempt, with what it means to the policy. */
export function failure(error: CityError, verdict: Verdict): CityError {
  verdicts.set(error, verdict);
  return error;
}
/** Statuses worth another attempt: the city's gateway or server is briefly unable, or asks us to slow down. */
const retriedStatuses = new Set([408, 429, 502, 503, 504]);

/**
 * Marks an undici request (as an own property of its options, which undici
 * passes on to the dispatcher) with the function to call once the request is
 * on a connection: the end of its connect timeout.
 */
const whenConnected = Symbol('whenConnected');

/**
 * undici's connect timeout belongs to the Agent (one for the whole process),
 * and a request's signal does not end a connection attempt in progress: a
 * request is only given up on once it has a connection. This interceptor
 * tells each request when it has one, so that `connectTimeoutMs` can be the
 * source's own. The time counted is the request's wait for a connection,
 * including a wait for a free one when the Agent's pool for that origin is
 * full (with `maxConcurrent` below the pool's size, there is none). The
 * connection attempt itself goes on, bounded by the Agent's own connect
 * timeout, after the request has given up on it.
 */
const connectWatch: Dispatcher.DispatcherComposeInterceptor = (dispatch) => (opts, handler) => {
  const connected = (opts as unknown as Record<symbol, unknown>)[whenConnected];
  if (typeof connected !== 'function') return dispatch(opts, handler);
  return dispatch(opts, {
    onRequestStart(controller, context) {
      connected();
      handler.onRequestStart?.(controller, context);
    },
    onRequestUpgrade: (controller, statusCode, headers, socket) => handler.onRequestUpgrade?.(controller, statusCode, headers, socket),
    onResponseStart: (controller, statusCode, headers, statusMessage) => handler.onResponseStart?.(controller, statusCode, headers, statusMessage),
    onResponseData: (controller, chunk) => handler.onResponseData?.(controller, chunk),
    onResponseEnd: (controller, trailers) => handler.onResponseEnd?.(controller, trailers),
    onResponseError: (controller, error) => handler.onResponseError?.(controller, error),
  });
};

export function createHttpClient(city: string, source: ResolvedSource, deps: ConnectorDeps): HttpClient {
  const bad = (detail: string) => new CityError('CITY_BAD_RESPONSE', city, detail);
  const dispatcher = deps.dispatcher.compose(connectWatch);

  const { execute, remember, rejection, health } = createSourcePolicy(city, source, deps, { attemptTimeoutMs: source.timeoutMs });

  function get(path: string, options: GetOptions = {}): Promise<UpstreamResponse> {
    return send('GET', buildUrl(source.baseUrl, path, options.query), options);
  }

  function post(path: string, options: PostOptions): Promise<UpstreamResponse> {
    return send('POST', buildUrl(source.baseUrl, path), options);
  }

  async function send(method: Outgoing['method'], url: string, options: GetOptions & Partial<PostOptions>): Promise<UpstreamResponse> {
    const { signal } = options;
    signal?.throwIfAborted();
    const headers: Record<string, string> = { ...options.headers };
    // A key sent in a header (a database's password is not: it has no header).
    if (source.auth && 'header' in source.auth && source.apiKey !== null) headers[source.auth.header] = source.auth.prefix + source.apiKey;
    // The id of the query this read serves, so that a city's own logs can be matched with ours.
    const scope = requestScope.getStore();
    if (scope) headers['x-request-id'] = scope.requestId;

    const outgoing: Outgoing = { method, url, headers, body: options.body, readBodyOn: options.readBodyOn };

    let attempts = 0;
    const run = execute((attemptSignal) => {
      attempts++;
      return attempt(outgoing, attemptSignal, signal);
    }, signal);
    try {
      return await abortable(run, signal);
    } catch (e) {
      if (signal?.aborted) throw signal.reason;
      throw rejection(e, 'requests');
    } finally {
      // Only requests that reached the city, and were not given up on by the caller, say how it is doing.
      if (attempts > 0 && !signal?.aborted) remember(attempts > 1);
    }
  }

  /**
   * One attempt. `attemptSignal` aborts when the attempt's time (timeoutMs)
   * is up or the caller gives up; the caller's own signal says which.
   */
  async function attempt(outgoing: Outgoing, attemptSignal: AbortSignal, callerSignal: AbortSignal | undefined): Promise<UpstreamResponse> {
    // The caller may have given up during the pause before this attempt: then nothing more goes out.
    if (callerSignal?.aborted) throw callerSignal.reason;
    const started = performance.now();
    const seen = (outcome: string) => deps.observe?.({ city, source: source.id, outcome, seconds: (performance.now() - started) / 1000 });
    try {
      const answer = await attemptOnce(outgoing, attemptSignal, callerSignal);
      seen('ok');
      return answer;
    } catch (e) {
      seen(e instanceof CityError ? e.code : callerSignal?.aborted ? 'ABORTED' : 'INTERNAL_ERROR');
      throw e;
    }
  }

  async function attemptOnce(outgoing: Outgoing, attemptSignal: AbortSignal, callerSignal: AbortSignal | undefined): Promise<UpstreamResponse> {
    const connecting = new AbortController();
    const connectTimer = setTimeout(() => connecting.abort(), source.connectTimeoutMs);
    const signal = AbortSignal.any([attemptSignal, connecting.signal]);
    try {
      return await abortable(exchange(outgoing, signal, () => clearTimeout(connectTimer)), signal);
    } catch (e) {
      if (callerSignal?.aborted) throw callerSignal.reason;
      if (connecting.signal.aborted) {
        throw failure(new CityError('CITY_TIMEOUT', city, `no connection within ${source.connectTimeoutMs} ms`, { cause: e }), { retry: true, down: true });
      }
      if (attemptSignal.aborted) {
        throw failure(new CityError('CITY_TIMEOUT', city, `no complete answer within ${source.timeoutMs} ms`, { cause: e }), { retry: true, down: true });
      }
      throw e;
    } finally {
      clearTimeout(connectTimer);
    }
  }

  /** The request and its whole body; `connected` is called once the request is on a connection. */
  async function exchange(outgoing: Outgoing, signal: AbortSignal, connected: () => void): Promise<UpstreamResponse> {
    const { method, url, headers, body } = outgoing;
    const options = { method, headers, body, signal, dispatcher, [whenConnected]: connected };
    let res: Dispatcher.ResponseData;
    try {
      res = await request(url, options);
    } catch (e) {
      throw transportFailure(e, 'request', signal);
    }
    if ((res.statusCode >= 200 && res.statusCode < 300) || res.statusCode === 304) {
      try {
        const body = Buffer.from(await res.body.arrayBuffer());
        return { status: res.statusCode, headers: flatten(res.headers), body };
      } catch (e) {
        throw transportFailure(e, 'body', signal);
      }
    }
    const error = statusFailure(res.statusCode);
    if (outgoing.readBodyOn?.(res.statusCode)) {
      const kept = await readLimited(res.body, MAX_FAILURE_BODY_BYTES);
      if (kept) failureBodies.set(error, kept);
    } else {
      // Read a little of the body so the connection can be reused; a large one is destroyed.
      await res.body.dump().catch(() => {});
    }
    throw error;
  }

  function statusFailure(status: number): CityError {
    if (status === 401 || status === 403) return failure(new CityError('CITY_AUTH_FAILED', city, `status ${status}`), { retry: false, down: true });
    if (retriedStatuses.has(status)) return failure(new CityError('CITY_UNAVAILABLE', city, `status ${status}`), { retry: true, down: true });
    if (status >= 500) return failure(new CityError('CITY_UNAVAILABLE', city, `status ${status}`), { retry: false, down: true });
    return failure(new CityError('CITY_BAD_RESPONSE', city, `status ${status}`), { retry: false, down: false });
  }

  /**
   * A transport or protocol error, classified (schema/errors.ts). One that is
   * not the city's doing, nor a timeout or abort (which `attempt` names), is
   * rethrown as it is: the adapter reports it as INTERNAL_ERROR and logs its stack.
   */
  function transportFailure(e: unknown, stage: ExchangeStage, signal: AbortSignal): unknown {
    if (signal.aborted) return e;
    const error = asCityError(e, city, { stage });
    if (error.code === 'INTERNAL_ERROR') return e;
    // A refused or lost connection, or an undici timeout, may be gone a moment later; a body cut short or malformed HTTP is a failing server.
    return failure(error, { retry: error.code === 'CITY_UNAVAILABLE' || error.code === 'CITY_TIMEOUT', down: true });
  }

  async function getJson(path: string, options: GetOptions = {}): Promise<unknown> {
    return readJson(await get(path, { ...options, headers: { accept: 'application/json', ...options.headers } }));
  }

  async function postJson(path: string, options: PostOptions): Promise<unknown> {
    return readJson(await post(path, { ...options, headers: { accept: 'application/json', ...options.headers } }));
  }

  function readJson(res: UpstreamResponse): unknown {
    if (res.status === 304) throw bad('status 304 to an unconditional request');
    const type = mediaType(res.headers['content-type']);
    // Some systems label JSON text/plain, or not at all: those are given a chance to parse.
    if (type !== null && type !== 'text/plain' && !/^application\/([\w.-]+\+)?json$/.test(type)) {
      throw bad(`expected JSON, got ${type}`);
    }
    try {
      // TextDecoder drops a UTF-8 BOM; JSON is UTF-8 (RFC 8259).
      return JSON.parse(new TextDecoder().decode(res.body));
    } catch {
      // No cause attached: a JSON.parse message quotes the body.
      throw bad(`expected JSON, got ${type ?? 'a body without content type'} that does not parse`);
    }
  }

  return { get, getJson, post, postJson, health };
}

/** A source's resilience policy (see the top of this file), and what it has seen of the source. */
export interface SourcePolicy {
  /**
   * Runs `attempt` through the policy; the signal it is given aborts when the
   * attempt's own time is up (with `attemptTimeoutMs`) or the caller gives up.
   */
  execute<T>(attempt: (attemptSignal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T>;
  /** Counts one request that reached the source, and whether it needed a retry. */
  remember(retried: boolean): void;
  /** The error to report for what the policy threw: its own refusals as CityErrors (`what` names the requests); anything else as it is. */
  rejection(e: unknown, what: string): unknown;
  health(): SourceHealth;
}

/**
 * The policy of one source, built once when its connector is, and shared by
 * every connector that speaks to a city (HTTP, SQL): retries of the failures
 * marked retriable by `failure`, a circuit opened by those marked down, a
 * bulkhead, and, with `attemptTimeoutMs`, a cooperative timeout on each
 * attempt (a database driver bounds its attempts itself, and frees its
 * connection so).
 */
export function createSourcePolicy(city: string, source: ResolvedSource, deps: ConnectorDeps, options: { attemptTimeoutMs?: number } = {}): SourcePolicy {
  const log = { city, source: source.id };
  const retryPolicy = retry(
    handleWhen((e) => verdictOf(e)?.retry === true),
    {
      maxAttempts: source.retries,
      backoff: new ExponentialBackoff({ initialDelay: source.retryDelayMs, maxDelay: MAX_RETRY_DELAY_MS, generator: halfJitterGenerator }),
    },
  );
  const breaker = circuitBreaker(handleWhen((e) => verdictOf(e)?.down === true), {
    breaker: new ConsecutiveBreaker(source.breakerFailures),
    halfOpenAfter: source.breakerHalfOpenAfterMs,
  });
  const limit = bulkhead(source.maxConcurrent, source.maxQueued);
  const policy =
    options.attemptTimeoutMs === undefined
      ? wrap(retryPolicy, breaker, limit)
      : // Cooperative: the attempt watches the signal it is given and ends itself, with its own error.
        wrap(retryPolicy, breaker, limit, timeout(options.attemptTimeoutMs, TimeoutStrategy.Cooperative));

  /** When the circuit last opened, in milliseconds since the epoch, and what made it. */
  let opened: { at: number; detail: string } | null = null;
  breaker.onBreak((reason) => {
    const error = 'error' in reason ? reason.error : undefined;
    const detail = error instanceof CityError ? error.detail : 'repeated failures';
    opened = { at: deps.now(), detail };
    deps.logger.warn('circuit opened: the source is not asked for a while', { ...log, detail, forMs: source.breakerHalfOpenAfterMs });
  });
  breaker.onHalfOpen(() => deps.logger.info('circuit half-open: one request probes the source', log));
  breaker.onReset(() => {
    opened = null;
    deps.logger.info('circuit closed: the source answers again', log);
  });
  retryPolicy.onRetry((event) => {
    const error = 'error' in event ? event.error : undefined;
    deps.logger.info('retrying a read', { ...log, attempt: event.attempt, delayMs: Math.round(event.delay), detail: error instanceof CityError ? error.detail : undefined });
  });

  /** Whether each of the latest requests needed a retry, oldest first. */
  const recent: boolean[] = [];
  function remember(retried: boolean): void {
    recent.push(retried);
    if (recent.length > RECENT_WINDOW) recent.shift();
  }

  function circuitOpenError(): CityError {
    const since = new Date(opened?.at ?? deps.now()).toISOString();
    return new CityError('CITY_UNAVAILABLE', city, `circuit open since ${since}: ${opened?.detail ?? 'repeated failures'}`);
  }

  function health(): SourceHealth {
    const retried = recent.filter(Boolean).length;
    const degraded = retried > DEGRADED_SHARE * RECENT_WINDOW;
    const state = breaker.state;
    if (state === CircuitState.Open || state === CircuitState.Isolated) return { circuit: 'open', degraded, reason: circuitOpenError().detail };
    if (state === CircuitState.HalfOpen) return { circuit: 'half-open', degraded, reason: `circuit half-open, probing: ${circuitOpenError().detail}` };
    return { circuit: 'closed', degraded, reason: degraded ? `needed retries on ${retried} of its last ${recent.length} requests` : null };
  }

  function rejection(e: unknown, what: string): unknown {
    if (e instanceof BrokenCircuitError) return circuitOpenError();
    if (e instanceof BulkheadRejectedError) {
      return new CityError('CITY_UNAVAILABLE', city, `too many ${what} to this source at once (${source.maxConcurrent} in flight, ${source.maxQueued} waiting)`);
    }
    return e;
  }

  return {
    execute: (attempt, signal) => policy.execute((context) => attempt(context.signal), signal),
    remember,
    rejection,
    health,
  };
}

/**
 * A connector's own view of its source, corrected by what its HTTP client
 * has seen: DOWN while the circuit is not closed (a snapshot source still
 * serving its last good export stays STALE: its answers are old, not
 * missing); DEGRADED when a source that answers needed retries too often.
 */
export function withHealth(own: ConnectorStatus, health: SourceHealth): ConnectorStatus {
  if (own.status === 'NOT_CONFIGURED') return own;
  if (health.circuit !== 'closed') {
    return { ...own, status: own.status === 'STALE' ? 'STALE' : 'DOWN', reason: health.reason ?? undefined };
  }
  if (health.degraded && own.status === 'UP') return { ...own, status: 'DEGRADED', reason: health.reason ?? undefined };
  return own;
}

/**
 * `p`, or the signal's reason as soon as it aborts; `p` itself runs on (its
 * outcome no longer awaited) for whoever else awaits it.
 */
export function abortable<T>(p: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return p;
  // Once the signal has won, p's own rejection is of no interest to anyone here.
  p.catch(() => {});
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** `baseUrl + path`, then the query; list values keep literal commas between them. */
export function buildUrl(baseUrl: string, path: string, query: Query = {}): string {
  const parts = Object.entries(query).map(([name, value]) => {
    const encoded = typeof value === 'object' ? value.map(encodeURIComponent).join(',') : encodeURIComponent(String(value));
    return `${encodeURIComponent(name)}=${encoded}`;
  });
  if (parts.length === 0) return baseUrl + path;
  return baseUrl + path + (path.includes('?') ? '&' : '?') + parts.join('&');
}

/**
 * The media type of a Content-Type header, lower case without parameters;
 * null when absent. Anything odd is not echoed (it ends up in messages).
 */
export function mediaType(header: string | undefined): string | null {
  if (header === undefined || header.trim() === '') return null;
  const type = header.split(';')[0]!.trim().toLowerCase();
  return /^[\w.+-]{1,60}\/[\w.+-]{1,60}$/.test(type) ? type : 'an unreadable content type';
}

/**
 * Runs `fn` over `items` with at most `limit` calls in flight (a city's
 * server is small), results in item order. Stops starting new calls after
 * the first failure, which it rethrows.
 */
export async function mapConcurrently<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  async function worker(): Promise<void> {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i]!);
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** The whole body when it is at most `limit` bytes; null when it is larger (then destroyed) or cannot be read. */
async function readLimited(body: Dispatcher.ResponseData['body'], limit: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      size += (chunk as Buffer).length;
      if (size > limit) {
        body.destroy();
        return null;
      }
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks);
  } catch {
    return null;
  }
}

function flatten(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}
