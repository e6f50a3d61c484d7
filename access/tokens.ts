/**
 * Who is calling, from the bearer token in the Authorization header: a JWT
 * signed by the programme's identity provider. The gateway verifies it, and
 * each subgraph verifies it again, since records about vulnerable people must
 * not depend on a subgraph being reachable only through the gateway.
 *
 * The claims this layer reads:
 * - `iss`, `aud`: must be exactly the configured issuer and audience;
 * - `exp`: required (a token that never expires is refused); `nbf` and `iat`,
 *   when present, must not be in the future (beyond the clock tolerance);
 * - `sub`: required, non-empty; who the person or system is;
 * - `role`: one of `roles` in access/caller.ts;
 * - `city`: the six-digit ISTAT code of an operator's city, required for
 *   `operator` and REFUSED on any other role. Analysts and dashboards see every
 *   city, so a city on their token could only mean that the identity provider
 *   believes in a limit that does not exist here; failing closed makes that
 *   misunderstanding visible instead of silently widening access.
 *
 * The issuer, audience and algorithms are pinned in the verification itself:
 * the algorithm comes from configuration, never from the token, so `alg: none`
 * and an HMAC "signed" with the issuer's public key are refused before any key
 * is looked at.
 */
import { HeaderMap } from '@apollo/server';
import { GraphQLError } from 'graphql';
import { createLocalJWKSet, createRemoteJWKSet, errors, jwtVerify, type JSONWebKeySet, type JWTPayload, type JWTVerifyGetKey, type JWTVerifyOptions } from 'jose';
import { ConfigError } from '../runtime/config-error.ts';
import { roles, type Caller, type Role } from './caller.ts';

export type { JSONWebKeySet };

export interface AuthConfig {
  /** The `iss` every token must carry, e.g. the identity provider's URL. */
  issuer: string;
  /** The `aud` every token must carry (one of, if the token has several). */
  audience: string;
  /** Signature algorithms accepted; asymmetric only (see `allowedAlgorithms`). */
  algorithms: string[];
  /** Where the issuer publishes its public keys (fetched, then cached). */
  jwksUrl?: string;
  /** The public keys inline, for tests or a key set kept on disk. */
  jwks?: JSONWebKeySet;
  /** Clock difference tolerated on `exp`, `nbf` and `iat`, in seconds; default 30. */
  clockToleranceSec?: number;
}

/**
 * Algorithms a deployment may accept. Only public-key ones: with an HMAC
 * algorithm anyone holding the (public) verification key could sign tokens.
 */
export const allowedAlgorithms = [
  'ES256', 'ES384', 'ES512',
  'PS256', 'PS384', 'PS512',
  'RS256', 'RS384', 'RS512',
  'EdDSA', 'Ed25519',
  'ML-DSA-44', 'ML-DSA-65', 'ML-DSA-87',
] as const;

/** Longest Authorization header looked at; anything longer is garbage or an attack, refused before parsing. */
export const maxAuthorizationLength = 8192;

const defaultClockToleranceSec = 30;
const maxClockToleranceSec = 300;
const istatCode = /^\d{6}$/;

export const authEnv = {
  issuer: 'LGNET_AUTH_ISSUER',
  audience: 'LGNET_AUTH_AUDIENCE',
  jwksUrl: 'LGNET_AUTH_JWKS_URL',
  jwks: 'LGNET_AUTH_JWKS',
  algorithms: 'LGNET_AUTH_ALGORITHMS',
  clockToleranceSec: 'LGNET_AUTH_CLOCK_TOLERANCE_SEC',
} as const;

type Env = Readonly<Record<string, string | undefined>>;

function required(env: Env, name: string): string {
  const v = env[name]?.trim();
  if (!v) throw new ConfigError(`environment variable ${name} is not set`);
  return v;
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/** Checks a key set URL; `where` names the variable or field in the message. */
function checkJwksUrl(value: string, where: string): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${where}: not a URL`);
  }
  // Keys fetched over plain HTTP could be swapped by anyone on the path, and
  // then they would sign their own tokens; loopback is the sandbox's case.
  if (url.protocol === 'https:') return;
  if (url.protocol === 'http:' && isLoopback(url.hostname)) return;
  throw new ConfigError(`${where}: must be an https URL (plain http only to a loopback address such as 127.0.0.1)`);
}

/** Checks an inline key set; never echoes it, since a misplaced private key could be in it. */
function checkJwks(jwks: unknown, where: string): asserts jwks is JSONWebKeySet {
  if (!jwks || typeof jwks !== 'object' || !Array.isArray((jwks as { keys?: unknown }).keys)) {
    throw new ConfigError(`${where}: not a JSON Web Key Set (an object with a "keys" array)`);
  }
  const keys = (jwks as { keys: unknown[] }).keys;
  if (keys.length === 0) throw new ConfigError(`${where}: the key set has no keys`);
  keys.forEach((k, i) => {
    if (!k || typeof k !== 'object' || typeof (k as { kty?: unknown }).kty !== 'string') {
      throw new ConfigError(`${where}: key ${i} is not a JSON Web Key (no "kty")`);
    }
    if ((k as { kty: string }).kty === 'oct') throw new ConfigError(`${where}: key ${i} is a shared secret; only public keys may be configured`);
    if ('d' in k) throw new ConfigError(`${where}: key ${i} is a private key; configure the public key only`);
  });
}

function checkAlgorithms(algorithms: unknown, where: string): string[] {
  if (!Array.isArray(algorithms) || algorithms.length === 0) throw new ConfigError(`${where}: no algorithm given`);
  for (const a of algorithms) {
    if (!(allowedAlgorithms as readonly unknown[]).includes(a)) {
      throw new ConfigError(`${where}: "${String(a)}" is not an accepted algorithm; use one or more of ${allowedAlgorithms.join(', ')}`);
    }
  }
  return [...new Set(algorithms as string[])];
}

function checkClockTolerance(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > maxClockToleranceSec) {
    throw new ConfigError(`${where}: must be a whole number of seconds from 0 to ${maxClockToleranceSec}`);
  }
  return value;
}

/**
 * The auth configuration from the environment: LGNET_AUTH_ISSUER,
 * LGNET_AUTH_AUDIENCE, one of LGNET_AUTH_JWKS_URL or LGNET_AUTH_JWKS (an inline
 * JSON key set), LGNET_AUTH_ALGORITHMS (comma list, default ES256) and
 * LGNET_AUTH_CLOCK_TOLERANCE_SEC (default 30). A missing or bad variable throws
 * a ConfigError naming it.
 */
export function authConfigFromEnv(env: Env = process.env): AuthConfig {
  const issuer = required(env, authEnv.issuer);
  const audience = required(env, authEnv.audience);

  const algorithmsText = env[authEnv.algorithms]?.trim() || 'ES256';
  const algorithms = checkAlgorithms(
    algorithmsText.split(',').map((a) => a.trim()).filter((a) => a !== ''),
    `environment variable ${authEnv.algorithms}`,
  );

  const jwksUrl = env[authEnv.jwksUrl]?.trim() || undefined;
  const jwksText = env[authEnv.jwks]?.trim() || undefined;
  if (jwksUrl && jwksText) {
    throw new ConfigError(`environment variables ${authEnv.jwksUrl} and ${authEnv.jwks} are both set; set only one, so there is one source of keys`);
  }
  if (!jwksUrl && !jwksText) {
    throw new ConfigError(`environment variable ${authEnv.jwksUrl} (or ${authEnv.jwks} with an inline key set) is not set`);
  }
  const config: AuthConfig = { issuer, audience, algorithms };
  if (jwksUrl) {
    checkJwksUrl(jwksUrl, `environment variable ${authEnv.jwksUrl}`);
    config.jwksUrl = jwksUrl;
  } else {
    let parsed: unknown;
    try {
      parsed = JSON.parse(jwksText!);
    } catch {
      throw new ConfigError(`environment variable ${authEnv.jwks}: not valid JSON`);
    }
    checkJwks(parsed, `environment variable ${authEnv.jwks}`);
    config.jwks = parsed;
  }

  const tolerance = env[authEnv.clockToleranceSec]?.trim();
  if (tolerance) {
    config.clockToleranceSec = checkClockTolerance(/^\d+$/.test(tolerance) ? Number(tolerance) : NaN, `environment variable ${authEnv.clockToleranceSec}`);
  }
  return config;
}

/** The environment that gives `config` back through authConfigFromEnv, e.g. for a child process. */
export function authConfigToEnv(config: AuthConfig): Record<string, string> {
  const env: Record<string, string> = {
    [authEnv.issuer]: config.issuer,
    [authEnv.audience]: config.audience,
    [authEnv.algorithms]: config.algorithms.join(','),
  };
  if (config.jwksUrl) env[authEnv.jwksUrl] = config.jwksUrl;
  else if (config.jwks) env[authEnv.jwks] = JSON.stringify(config.jwks);
  if (config.clockToleranceSec !== undefined) env[authEnv.clockToleranceSec] = String(config.clockToleranceSec);
  return env;
}

/** Why a token was refused, for logs and tests; the message is for the caller. */
export type AuthFailure =
  | 'missing'
  | 'too_long'
  | 'scheme'
  | 'malformed'
  | 'signature'
  | 'algorithm'
  | 'expired'
  | 'not_yet_valid'
  | 'issuer'
  | 'audience'
  | 'claims'
  | 'subject'
  | 'role'
  | 'city';

/**
 * The caller could not be authenticated: their fault, answered 401. The
 * message is what the caller is told; it names the problem and never repeats
 * any part of the token or header.
 */
export class AuthError extends Error {
  override name = 'AuthError';
  readonly reason: AuthFailure;
  constructor(reason: AuthFailure, message: string) {
    super(message);
    this.reason = reason;
  }
}

/**
 * Tokens cannot be checked right now (the identity provider's key set could
 * not be fetched or read): not the caller's fault, answered 503 so clients
 * retry instead of asking the person to log in again. The cause is kept for
 * the server's log.
 */
export class AuthUnavailableError extends Error {
  override name = 'AuthUnavailableError';
}

const bearerHint = 'send Authorization: Bearer <token>';

function refuseClaim(e: errors.JWTClaimValidationFailed, config: AuthConfig): AuthError {
  switch (e.claim) {
    case 'iss':
      return new AuthError('issuer', `Token is from another issuer: this service accepts tokens issued by ${config.issuer}`);
    case 'aud':
      return new AuthError('audience', `Token is for another audience: this service accepts tokens for ${config.audience}`);
    case 'nbf':
      return new AuthError('not_yet_valid', 'Token is not yet valid (its nbf is in the future)');
    case 'exp':
      return new AuthError('claims', e.reason === 'missing' ? 'Token has no expiry (exp): tokens must expire' : 'Token expiry (exp) is not a valid time');
    case 'sub':
      return new AuthError('subject', 'Token has no subject (sub)');
    default:
      // jose names only registered claims (iat, typ...), never a value.
      return new AuthError('claims', `Token claim ${e.claim} is not valid`);
  }
}

/** The caller-facing refusal for an error from jwtVerify; rethrows what is not about the token. */
function refusal(e: unknown, config: AuthConfig): Error {
  if (e instanceof AuthUnavailableError) return e;
  if (e instanceof errors.JOSEAlgNotAllowed) {
    return new AuthError('algorithm', `Token algorithm not allowed: this service accepts ${config.algorithms.join(', ')}`);
  }
  if (e instanceof errors.JWSSignatureVerificationFailed || e instanceof errors.JWKSNoMatchingKey) {
    // An unknown key id and a signature that does not verify are the same
    // thing to the caller: the token was not signed by the issuer.
    return new AuthError('signature', 'Token signature is not valid: it was not signed by a key of the issuer');
  }
  if (e instanceof errors.JWTExpired) return new AuthError('expired', 'Token expired: get a new one');
  if (e instanceof errors.JWTClaimValidationFailed) return refuseClaim(e, config);
  if (e instanceof errors.JWSInvalid || e instanceof errors.JWTInvalid || e instanceof errors.JOSENotSupported) {
    return new AuthError('malformed', 'Malformed token: not a signed JWT (header.payload.signature)');
  }
  return e instanceof Error ? e : new Error(String(e));
}

/** Reads the role-dependent claims of a verified payload into a Caller. */
function callerFrom(payload: JWTPayload, now: number, tolerance: number): Caller {
  const { sub, role, city, iat } = payload;
  // jose checks iat's type but its value only with maxTokenAge; a token issued
  // in the future means a wrong clock or a forged time, either way not yet valid.
  if (typeof iat === 'number' && iat > now + tolerance) {
    throw new AuthError('not_yet_valid', 'Token is not yet valid (its iat is in the future)');
  }
  if (typeof sub !== 'string' || sub.trim() === '') throw new AuthError('subject', 'Token has no subject (sub)');
  if (typeof role !== 'string' || !(roles as readonly string[]).includes(role)) {
    throw new AuthError('role', `Token role is missing or unknown: the role claim must be one of ${roles.join(', ')}`);
  }
  if (role === 'operator') {
    if (city === undefined || city === null || city === '') {
      throw new AuthError('city', 'Operator token has no city: an operator token must carry its city, the six-digit ISTAT code, in the city claim');
    }
    if (typeof city !== 'string' || !istatCode.test(city)) {
      throw new AuthError('city', 'Token city is not a six-digit ISTAT code');
    }
    return Object.freeze({ role, city, subject: sub });
  }
  if (city !== undefined) {
    throw new AuthError('city', `Token for role ${role} carries a city: only operator tokens are bound to a city`);
  }
  return Object.freeze({ role: role as Role, subject: sub });
}

/** Checks a config built in code the way authConfigFromEnv checks the environment. */
function checkConfig(config: AuthConfig): { algorithms: string[]; clockTolerance: number } {
  if (!config.issuer) throw new ConfigError('auth config: issuer is empty');
  if (!config.audience) throw new ConfigError('auth config: audience is empty');
  const algorithms = checkAlgorithms(config.algorithms, 'auth config algorithms');
  if (config.jwksUrl && config.jwks) throw new ConfigError('auth config: give jwksUrl or jwks, not both');
  if (config.jwksUrl) checkJwksUrl(config.jwksUrl, 'auth config jwksUrl');
  else if (config.jwks) checkJwks(config.jwks, 'auth config jwks');
  else throw new ConfigError('auth config: no key set (jwksUrl or jwks)');
  const clockTolerance = config.clockToleranceSec === undefined ? defaultClockToleranceSec : checkClockTolerance(config.clockToleranceSec, 'auth config clockToleranceSec');
  return { algorithms, clockTolerance };
}

/**
 * The key resolver: the issuer's key set, fetched once and cached (jose
 * refetches it after 10 minutes, or at most every 30 s for a key id it does
 * not know). A failure to get or read the key set is the server's problem, not
 * the caller's, so it becomes an AuthUnavailableError; not finding the token's
 * key in a key set that was read is the caller's.
 */
function keyResolver(config: AuthConfig): JWTVerifyGetKey {
  const keySet = config.jwksUrl ? createRemoteJWKSet(new URL(config.jwksUrl)) : createLocalJWKSet(config.jwks!);
  return async (header, token) => {
    try {
      return await keySet(header, token);
    } catch (e) {
      if (e instanceof errors.JWKSNoMatchingKey || e instanceof errors.JWKSMultipleMatchingKeys) throw e;
      throw new AuthUnavailableError("Cannot check tokens now: the identity provider's keys could not be read; try again shortly", { cause: e });
    }
  };
}

/** Checks an Authorization header: the Caller, or a rejection with AuthError (401) or AuthUnavailableError (503). */
export type TokenVerifier = (authorization: string | null | undefined) => Promise<Caller>;

const compactJws = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/**
 * A verifier of Authorization headers, built once per process (it holds the
 * cached key set). It resolves to the Caller, or rejects with an AuthError
 * (answer 401) or an AuthUnavailableError (answer 503).
 */
export function createTokenVerifier(config: AuthConfig): TokenVerifier {
  const { algorithms, clockTolerance } = checkConfig(config);
  const getKey = keyResolver(config);
  const options: JWTVerifyOptions = {
    issuer: config.issuer,
    audience: config.audience,
    algorithms,
    requiredClaims: ['exp', 'sub'],
    clockTolerance,
  };

  async function verify(token: string): Promise<JWTPayload> {
    try {
      return (await jwtVerify(token, getKey, options)).payload;
    } catch (e) {
      // A token without a key id, while the issuer publishes several keys for
      // its algorithm (a key rotation): try each, as jose's documentation does.
      if (e instanceof errors.JWKSMultipleMatchingKeys) {
        for await (const key of e) {
          try {
            return (await jwtVerify(token, key, options)).payload;
          } catch (inner) {
            if (inner instanceof errors.JWSSignatureVerificationFailed) continue;
            throw refusal(inner, config);
          }
        }
        throw refusal(new errors.JWSSignatureVerificationFailed(), config);
      }
      throw refusal(e, config);
    }
  }

  return async (authorization) => {
    if (authorization === null || authorization === undefined || authorization.trim() === '') {
      throw new AuthError('missing', `No token: ${bearerHint}`);
    }
    if (authorization.length > maxAuthorizationLength) {
      throw new AuthError('too_long', `Authorization header is longer than ${maxAuthorizationLength} characters: ${bearerHint}`);
    }
    const match = /^(\S+)(?: +(.*))?$/.exec(authorization.trim());
    if (!match || match[1]!.toLowerCase() !== 'bearer') {
      throw new AuthError('scheme', `Authorization header does not use the Bearer scheme: ${bearerHint}`);
    }
    const token = match[2]?.trim();
    if (!token) throw new AuthError('missing', `No token: ${bearerHint}`);
    if (!compactJws.test(token)) throw new AuthError('malformed', 'Malformed token: not a signed JWT (header.payload.signature)');
    const payload = await verify(token);
    return callerFrom(payload, Math.floor(Date.now() / 1000), clockTolerance);
  };
}

/**
 * The GraphQL error for a failed authentication: code UNAUTHENTICATED, HTTP
 * 401 with a Bearer challenge. Apollo Server 5 uses extensions.http for errors
 * thrown from the context function, and strips it from the response body.
 */
export function unauthenticated(message: string): GraphQLError {
  return new GraphQLError(message, {
    extensions: {
      code: 'UNAUTHENTICATED',
      http: { status: 401, headers: new HeaderMap([['www-authenticate', 'Bearer']]) },
    },
  });
}

/** The GraphQL error for tokens that cannot be checked now: code AUTH_UNAVAILABLE, HTTP 503. */
export function authUnavailable(message: string): GraphQLError {
  return new GraphQLError(message, {
    extensions: {
      code: 'AUTH_UNAVAILABLE',
      http: { status: 503, headers: new HeaderMap([['retry-after', '5']]) },
    },
  });
}

/**
 * For a context function: the Caller, or else the GraphQL error to throw (401
 * for the caller's fault, 503 when tokens cannot be checked now). Anything else
 * is a bug and is rethrown as is, to surface as a 500.
 */
export async function authenticate(verify: TokenVerifier, authorization: string | null | undefined): Promise<Caller> {
  try {
    return await verify(authorization);
  } catch (e) {
    if (e instanceof AuthError) throw unauthenticated(e.message);
    if (e instanceof AuthUnavailableError) throw authUnavailable(e.message);
    throw e;
  }
}
