/**
 * The one way connectors speak HTTP to a city: a GET through the shared undici
 * dispatcher, bounded in time, carrying the source's credentials, with every
 * failure turned into a CityError that names the city.
 *
 * Bodies are always read or discarded (an unread body holds its connection)
 * and never quoted in an error: they carry personal data. Errors say what was
 * wrong ("status 500", "expected JSON, got text/html").
 */
import { request } from 'undici';
import { CityError, asCityError } from '../../schema/errors.ts';
import type { ResolvedSource } from '../config.ts';
import type { ConnectorDeps } from '../port.ts';

/** Query parameters, in order. A list is sent as its values joined by commas (each value encoded). */
export type Query = Readonly<Record<string, string | number | readonly string[]>>;

export interface GetOptions {
  query?: Query;
  headers?: Readonly<Record<string, string>>;
  /** The caller's signal: aborting it rejects with its reason, never with a CityError. */
  signal?: AbortSignal;
}

export interface UpstreamResponse {
  /** A 2xx status, or 304 to a conditional request. */
  status: number;
  /** Lower-case names; repeated headers joined by ", ". */
  headers: Readonly<Record<string, string>>;
  /** Empty for a 304. */
  body: Buffer;
}

export interface HttpClient {
  /** GET below the source's baseUrl; resolves on 2xx and 304, throws a CityError otherwise. */
  get(path: string, options?: GetOptions): Promise<UpstreamResponse>;
  /** GET a JSON document: a 2xx with a JSON (or unlabelled / text/plain) body that parses. */
  getJson(path: string, options?: GetOptions): Promise<unknown>;
}

/** Error codes of a connection that could not be made or was lost. */
const connectionCodes = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN',
  'UND_ERR_SOCKET', 'UND_ERR_CLOSED',
]);
/** Pause before a retry, in milliseconds (doubled for a second retry). */
const retryDelayMs = 100;
const timeoutCodes = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

export function createHttpClient(city: string, source: ResolvedSource, deps: ConnectorDeps): HttpClient {
  const bad = (detail: string) => new CityError('CITY_BAD_RESPONSE', city, detail);

  /**
   * A GET is a read, safe to repeat: one that failed with a server error or a
   * lost connection is tried again `source.retries` times, a short pause
   * between, so that one dropped request does not cost a city's whole answer.
   * A timeout is not retried: its time is already spent.
   */
  async function get(path: string, options: GetOptions = {}): Promise<UpstreamResponse> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await getOnce(path, options);
      } catch (e) {
        const retriable = e instanceof CityError && e.code === 'CITY_UNAVAILABLE' && !options.signal?.aborted;
        if (!retriable || attempt >= source.retries) throw e;
        await new Promise((resolve) => setTimeout(resolve, retryDelayMs * (attempt + 1)));
      }
    }
  }

  async function getOnce(path: string, options: GetOptions): Promise<UpstreamResponse> {
    const url = buildUrl(source.baseUrl, path, options.query);
    // The time limit covers the whole exchange, body included.
    const timeout = AbortSignal.timeout(source.timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    const headers: Record<string, string> = { ...options.headers };
    if (source.auth && source.apiKey !== null) headers[source.auth.header] = source.auth.prefix + source.apiKey;

    let statusError: CityError;
    try {
      const res = await request(url, { method: 'GET', headers, signal, dispatcher: deps.dispatcher });
      if ((res.statusCode >= 200 && res.statusCode < 300) || res.statusCode === 304) {
        const body = Buffer.from(await res.body.arrayBuffer());
        return { status: res.statusCode, headers: flatten(res.headers), body };
      }
      statusError = classifyStatus(res.statusCode, city);
      // Read a little of the body so the connection can be reused; a large one is destroyed.
      await res.body.dump().catch(() => {});
    } catch (e) {
      if (options.signal?.aborted) throw options.signal.reason;
      if (timeout.aborted) {
        throw new CityError('CITY_TIMEOUT', city, `no complete answer within ${source.timeoutMs} ms`, { cause: e });
      }
      throw classifyFailure(e, city);
    }
    throw statusError;
  }

  async function getJson(path: string, options: GetOptions = {}): Promise<unknown> {
    const res = await get(path, { ...options, headers: { accept: 'application/json', ...options.headers } });
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

  return { get, getJson };
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

function classifyStatus(status: number, city: string): CityError {
  if (status === 401 || status === 403) return new CityError('CITY_AUTH_FAILED', city, `status ${status}`);
  if (status >= 500) return new CityError('CITY_UNAVAILABLE', city, `status ${status}`);
  return new CityError('CITY_BAD_RESPONSE', city, `status ${status}`);
}

function classifyFailure(e: unknown, city: string): CityError {
  const code = errorCode(e);
  if (code !== undefined && connectionCodes.has(code)) {
    return new CityError('CITY_UNAVAILABLE', city, `connection failed (${code})`, { cause: e });
  }
  if (code !== undefined && timeoutCodes.has(code)) {
    return new CityError('CITY_TIMEOUT', city, `no answer in time (${code})`, { cause: e });
  }
  if (code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH') {
    return new CityError('CITY_BAD_RESPONSE', city, 'body shorter or longer than its Content-Length', { cause: e });
  }
  return asCityError(e, city);
}

/** The error's code, or that of the first attempt when every address was tried (AggregateError). */
function errorCode(e: unknown): string | undefined {
  const err = e as { code?: unknown; errors?: unknown[] } | null;
  if (typeof err?.code === 'string') return err.code;
  if (Array.isArray(err?.errors) && err.errors.length > 0) return errorCode(err.errors[0]);
  return undefined;
}

function flatten(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}
