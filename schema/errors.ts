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
  CITY_NOT_CONFIGURED: { status: 404, message: (city: string, detail: string) => `City ${city} has no source for this data: ${detail}` },
  RECORD_REJECTED: { status: 422, message: (city: string, detail: string) => `City ${city} sent a record that was rejected: ${detail}` },
  NOT_FOUND: { status: 404, message: (city: string, detail: string) => `City ${city} has no such record: ${detail}` },
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

/** Any error seen while asking a city, as a CityError (unexpected ones become CITY_BAD_RESPONSE). */
export function asCityError(e: unknown, city: string): CityError {
  if (e instanceof CityError) return e;
  const err = e as { name?: string; code?: string; message?: string };
  if (err?.name === 'AbortError' || err?.name === 'TimeoutError' || err?.code === 'UND_ERR_HEADERS_TIMEOUT' || err?.code === 'UND_ERR_BODY_TIMEOUT') {
    return new CityError('CITY_TIMEOUT', city, 'no answer within the time limit', { cause: e });
  }
  if (err?.code === 'ECONNREFUSED' || err?.code === 'ECONNRESET' || err?.code === 'UND_ERR_SOCKET' || err?.code === 'ENOTFOUND') {
    return new CityError('CITY_UNAVAILABLE', city, `connection failed (${err.code})`, { cause: e });
  }
  return new CityError('CITY_BAD_RESPONSE', city, err?.message ?? String(e), { cause: e });
}
