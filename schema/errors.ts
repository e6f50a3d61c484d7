/**
 * The catalogue of error codes the graph can answer with. Each code is
 * stable (dashboards and scripts match on it), has a message template and the
 * HTTP status it stands for. GraphQL errors carry it as `extensions.code`,
 * and errors about a city carry the city's ISTAT code as `extensions.city`.
 *
 * A message never includes a city's request or response body: those carry
 * personal data.
 */
import { GraphQLError } from 'graphql';

export const errorCatalogue = {
  CITY_UNAVAILABLE: { status: 502, message: (city: string, detail: string) => `City ${city} is unavailable: ${detail}` },
  CITY_TIMEOUT: { status: 504, message: (city: string, detail: string) => `City ${city} did not answer in time: ${detail}` },
  CITY_BAD_RESPONSE: { status: 502, message: (city: string, detail: string) => `City ${city} sent a response that cannot be read: ${detail}` },
  CITY_AUTH_FAILED: { status: 502, message: (city: string, detail: string) => `City ${city} refused the adapter's credentials: ${detail}` },
  /** The city's system understood the request and answered with an error of its own: a SOAP fault, a GraphQL error, a database error. */
  CITY_SOURCE_ERROR: { status: 502, message: (city: string, detail: string) => `City ${city}'s system answered with an error: ${detail}` },
  CITY_NOT_CONFIGURED: { status: 404, message: (city: string, detail: string) => `City ${city} has no source for this data: ${detail}` },
  RECORD_REJECTED: { status: 422, message: (city: string, detail: string) => `City ${city} sent a record that was rejected: ${detail}` },
  NOT_FOUND: { status: 404, message: (city: string, detail: string) => `City ${city} has no such record: ${detail}` },
  /**
   * A fault in the graph's own code met while handling a city's data: the
   * city is named (coverage must say whose data is missing) but not blamed.
   * The detail never carries the error's message (it may quote data); the
   * subgraph logs the stack.
   */
  INTERNAL_ERROR: { status: 500, message: (city: string, detail: string) => `The graph failed while handling city ${city}'s data: ${detail}` },
} as const;
export type CityErrorCode = keyof typeof errorCatalogue;

/** Something went wrong while asking one city. */
export class CityError extends Error {
  override name = 'CityError';
  readonly code: CityErrorCode;
  readonly city: string;
  readonly detail: string;
  constructor(code: CityErrorCode, city: string, detail: string, options?: { cause?: unknown }) {
    super(errorCatalogue[code].message(city, detail), options);
    this.code = code;
    this.city = city;
    this.detail = detail;
  }

  toGraphQLError(path?: ReadonlyArray<string | number>): GraphQLError {
    return new GraphQLError(this.message, {
      path,
      extensions: { code: this.code, city: this.city },
    });
  }
}

/**
 * A record the graph holds no valid version of: rejected (with the reason it
 * is counted under in the city's data quality) or not in the city's records
 * at all (`reason` null).
 */
export class RecordRejectedError extends CityError {
  readonly reason: string | null;
  constructor(city: string, reason: string | null, detail: string) {
    super(reason === null ? 'NOT_FOUND' : 'RECORD_REJECTED', city, detail);
    this.reason = reason;
  }
}

/** Other stable codes used across the graph. */
export const graphCodes = {
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
} as const;

/** The caller may not do this, whatever they send: a rule, not a mistake in the request. */
export function forbidden(message: string, extra: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code: graphCodes.FORBIDDEN, ...extra } });
}

export function badInput(message: string, extra: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code: graphCodes.BAD_USER_INPUT, ...extra } });
}

/** Where in an exchange with a city an error arose. */
export type ExchangeStage =
  /** Before any response arrived: connecting, sending, waiting for the head. */
  | 'request'
  /** After the head: the body was being read. */
  | 'body';

export interface ClassifyOptions {
  /** The caller's signal: once aborted, its own reason means the query was given up on, not that the city failed. */
  signal?: AbortSignal;
  /** Default `request`. A connection lost during the `body` cuts the answer short (CITY_BAD_RESPONSE). */
  stage?: ExchangeStage;
}

/** Codes of a connection that could not be made, or was lost before any response. */
const connectionCodes = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'EHOSTUNREACH', 'EHOSTDOWN', 'ENETUNREACH', 'ENETDOWN',
  'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'ERR_STREAM_PREMATURE_CLOSE',
]);
const timeoutCodes = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);
/** zlib's codes for compressed data that ends early or does not inflate. */
const compressionCodes = new Set(['Z_BUF_ERROR', 'Z_DATA_ERROR', 'ERR_ZLIB_INPUT_CLOSED']);
/** The city's server broke HTTP itself: a malformed head, one too large, a body beyond the limit. */
const protocolCodes = new Set(['UND_ERR_HEADERS_OVERFLOW', 'UND_ERR_RES_EXCEEDED_MAX_SIZE']);

/**
 * The one classifier of errors met while asking a city, into the catalogue:
 *
 * - a CityError is kept as it is;
 * - the caller's own signal reason (the query's deadline, the gateway giving
 *   up), an AbortError or a TimeoutError, and undici's timeouts: CITY_TIMEOUT;
 * - a connection refused, reset or lost before any response: CITY_UNAVAILABLE,
 *   and so is a TLS failure (the city's certificate or setup);
 * - a body cut short (undici's Content-Length mismatch, the connection lost
 *   while the body was read, compressed data that ends early) and malformed
 *   HTTP: CITY_BAD_RESPONSE;
 * - anything else is the graph's own fault (a TypeError in a mapping, say):
 *   INTERNAL_ERROR, still naming the city whose data could not be read, with
 *   the original as `cause` for the log.
 *
 * Connectors throw CityErrors for everything the city does (unreadable
 * bodies included), so that only genuine faults of the graph reach the last
 * case.
 */
export function asCityError(e: unknown, city: string, options: ClassifyOptions = {}): CityError {
  if (e instanceof CityError) return e;
  const { signal, stage = 'request' } = options;
  const err = e as { name?: unknown } | null;
  const code = errorCode(e);
  if (signal?.aborted && e === signal.reason) {
    return new CityError('CITY_TIMEOUT', city, 'the query ran out of time, or was given up, before the city answered', { cause: e });
  }
  if (err?.name === 'AbortError' || err?.name === 'TimeoutError') {
    return new CityError('CITY_TIMEOUT', city, 'no answer within the time limit', { cause: e });
  }
  // undici does not always give its parser's errors a code.
  if (err?.name === 'HTTPParserError' || code?.startsWith('HPE_')) {
    return new CityError('CITY_BAD_RESPONSE', city, `malformed HTTP answer (${code ?? 'not HTTP/1.1'})`, { cause: e });
  }
  if (code === undefined) return internal(e, city);
  if (timeoutCodes.has(code)) return new CityError('CITY_TIMEOUT', city, `no answer in time (${code})`, { cause: e });
  if (code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH') {
    return new CityError('CITY_BAD_RESPONSE', city, `body cut short: shorter or longer than its Content-Length (${code})`, { cause: e });
  }
  if (compressionCodes.has(code)) {
    return new CityError('CITY_BAD_RESPONSE', city, `compressed body cut short or corrupt (${code})`, { cause: e });
  }
  if (connectionCodes.has(code)) {
    return stage === 'body'
      ? new CityError('CITY_BAD_RESPONSE', city, `body cut short: connection lost while reading it (${code})`, { cause: e })
      : new CityError('CITY_UNAVAILABLE', city, `connection failed (${code})`, { cause: e });
  }
  if (protocolCodes.has(code)) {
    return new CityError('CITY_BAD_RESPONSE', city, `malformed HTTP answer (${code})`, { cause: e });
  }
  if (code === 'EPROTO' || /^ERR_(TLS|SSL)_|CERT/.test(code)) {
    return new CityError('CITY_UNAVAILABLE', city, `secure connection failed (${code})`, { cause: e });
  }
  return internal(e, city);
}

function internal(e: unknown, city: string): CityError {
  const name = (e as { name?: unknown } | null)?.name;
  // Only a plain identifier is named: the message, and an odd name, may quote data.
  const what = typeof name === 'string' && /^[A-Za-z]\w{0,40}$/.test(name) ? name : 'error';
  return new CityError('INTERNAL_ERROR', city, `an unexpected ${what} in the graph's own code, not the city's doing (logged by the subgraph)`, { cause: e });
}

/** The error's code, or that of the first attempt when every address was tried (AggregateError). */
function errorCode(e: unknown): string | undefined {
  const err = e as { code?: unknown; errors?: unknown[] } | null;
  if (typeof err?.code === 'string') return err.code;
  if (Array.isArray(err?.errors) && err.errors.length > 0) return errorCode(err.errors[0]);
  return undefined;
}
