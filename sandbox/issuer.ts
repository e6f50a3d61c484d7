/**
 * The sandbox's own identity provider, for `npm start` and the tests: it hands
 * a signed token for any role to whoever asks, so it listens on loopback only
 * and must never stand in for the programme's real identity provider.
 *
 * Its ES256 key pair is made at start and lives in memory only: tokens die
 * with the process, and there is no key on disk to leak or to reuse.
 *
 * Routes:
 * - `GET /.well-known/jwks.json`: the public key, with `kid`, `alg` and `use`;
 * - `POST /token` with JSON `{ role, city?, subject?, ttlSec? }`: answers
 *   `{ token, expiresAt }`, or 400 with `{ error }` saying what is wrong.
 *
 * Also the state file through which `npm start` tells scripts/token.ts where
 * the running sandbox is.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readBody, sendJson } from '../runtime/plain-http.ts';
import { SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK, type JWTPayload } from 'jose';
import { roles, type Role } from '../access/caller.ts';

/** Lifetime of a token when none is asked for: a working day. */
export const defaultTtlSec = 8 * 3600;
/** Longest lifetime the sandbox grants, so a copied token does not work for ever. */
export const maxTtlSec = 24 * 3600;
const maxSubjectLength = 200;
const maxBodyBytes = 16 * 1024;
const algorithm = 'ES256';

export interface TokenRequest {
  role: Role;
  /** Six-digit ISTAT code; operators only. */
  city?: string;
  subject?: string;
  ttlSec?: number;
}

export interface TokenOptions {
  city?: string;
  subject?: string;
  ttlSec?: number;
}

const requestFields = ['role', 'city', 'subject', 'ttlSec'];

/**
 * Checks a token request (the body of POST /token, or mint's arguments): the
 * request, or the sentence that says what is wrong with it. Shared with
 * scripts/token.ts so a bad request is refused before any network call.
 */
export function checkTokenRequest(body: unknown): { ok: true; request: TokenRequest } | { ok: false; error: string } {
  const fail = (error: string) => ({ ok: false as const, error });
  if (!body || typeof body !== 'object' || Array.isArray(body)) return fail('The body must be a JSON object: { "role", "city"?, "subject"?, "ttlSec"? }');
  const b = body as Record<string, unknown>;
  const unknown = Object.keys(b).filter((k) => !requestFields.includes(k));
  // A typo such as "ttl" would otherwise be ignored and give a token unlike the one asked for.
  if (unknown.length > 0) return fail(`Unknown field ${unknown.map((k) => JSON.stringify(k)).join(', ')}: the fields are ${requestFields.join(', ')}`);
  const { role, city, subject, ttlSec } = b;
  if (typeof role !== 'string' || !(roles as readonly string[]).includes(role)) return fail(`role must be one of ${roles.join(', ')}`);
  const request: TokenRequest = { role: role as Role };
  if (role === 'operator') {
    if (typeof city !== 'string' || !/^\d{6}$/.test(city)) {
      return fail("An operator token needs city: the six-digit ISTAT code of the operator's city, e.g. 090064");
    }
    request.city = city;
  } else if (city !== undefined) {
    // Other roles see every city; a city on their token would suggest a limit that does not exist.
    return fail(`Only operator tokens carry a city; leave city out for role ${role}`);
  }
  if (subject !== undefined) {
    if (typeof subject !== 'string' || subject.trim() === '' || subject.length > maxSubjectLength || /\p{Cc}/u.test(subject)) {
      return fail(`subject must be a non-empty string of at most ${maxSubjectLength} printable characters`);
    }
    request.subject = subject;
  }
  if (ttlSec !== undefined) {
    if (typeof ttlSec !== 'number' || !Number.isInteger(ttlSec) || ttlSec < 1 || ttlSec > maxTtlSec) {
      return fail(`ttlSec must be a whole number of seconds from 1 to ${maxTtlSec} (24 h)`);
    }
    request.ttlSec = ttlSec;
  }
  return { ok: true, request };
}

/** A token request the issuer refuses (400); the message says why. */
export class TokenRequestError extends Error {
  override name = 'TokenRequestError';
}

export interface SandboxIssuerOptions {
  /** Interface to listen on; default 127.0.0.1. Anything reachable from elsewhere lets others mint tokens. */
  host?: string;
  /** Port; default 0, any free port. */
  port?: number;
  /** The `aud` of its tokens; default `lgnet-graph`. */
  audience?: string;
}

export interface SandboxIssuer {
  /** Its URL, which is also the `iss` of its tokens. */
  issuer: string;
  audience: string;
  jwksUrl: string;
  tokenUrl: string;
  algorithms: string[];
  /** A token for the role; rejects with the same message POST /token gives in its 400. */
  mint(role: string, options?: TokenOptions): Promise<string>;
  /**
   * Exactly these claims, signed with the issuer's key (and kid): for tests
   * that need a genuine signature on claims the issuer would not grant.
   */
  sign(claims: JWTPayload): Promise<string>;
  close(): Promise<void>;
}


export async function startSandboxIssuer(options: SandboxIssuerOptions = {}): Promise<SandboxIssuer> {
  const host = options.host ?? '127.0.0.1';
  const audience = options.audience ?? 'lgnet-graph';
  // Not extractable: the private key cannot leave the process, even by mistake.
  const { privateKey, publicKey } = await generateKeyPair(algorithm, { extractable: false });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  const jwks = { keys: [{ ...publicJwk, kid, alg: algorithm, use: 'sig' } satisfies JWK] };

  let issuer = '';
  const sign = (claims: JWTPayload) => new SignJWT(claims).setProtectedHeader({ alg: algorithm, kid, typ: 'JWT' }).sign(privateKey);

  async function issue(body: unknown): Promise<{ token: string; expiresAt: string }> {
    const checked = checkTokenRequest(body);
    if (!checked.ok) throw new TokenRequestError(checked.error);
    const { role, city, subject, ttlSec = defaultTtlSec } = checked.request;
    const now = Math.floor(Date.now() / 1000);
    const exp = now + ttlSec;
    const claims: JWTPayload = {
      iss: issuer,
      aud: audience,
      sub: subject ?? (city ? `sandbox-${role}-${city}` : `sandbox-${role}`),
      role,
      ...(city ? { city } : {}),
      iat: now,
      exp,
      jti: randomUUID(),
    };
    return { token: await sign(claims), expiresAt: new Date(exp * 1000).toISOString() };
  }

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === '/.well-known/jwks.json') {
      if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { error: 'Use GET' }, { allow: 'GET, HEAD' });
      return sendJson(res, 200, jwks, { 'cache-control': 'public, max-age=300' });
    }
    if (path === '/token') {
      if (req.method !== 'POST') return sendJson(res, 405, { error: 'Use POST with a JSON body { "role", "city"?, "subject"?, "ttlSec"? }' }, { allow: 'POST' });
      const text = await readBody(req, maxBodyBytes);
      if (text === null) return sendJson(res, 413, { error: `Request body larger than ${maxBodyBytes} bytes` });
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        return sendJson(res, 400, { error: 'The request body is not valid JSON' });
      }
      try {
        // Tokens are credentials: never cached by anything in between.
        return sendJson(res, 200, await issue(body), { 'cache-control': 'no-store' });
      } catch (e) {
        if (e instanceof TokenRequestError) return sendJson(res, 400, { error: e.message });
        throw e;
      }
    }
    return sendJson(res, 404, { error: `No route ${path}: this issuer serves GET /.well-known/jwks.json and POST /token` });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: (e as Error).message });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  issuer = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  return {
    issuer,
    audience,
    jwksUrl: `${issuer}/.well-known/jwks.json`,
    tokenUrl: `${issuer}/token`,
    algorithms: [algorithm],
    mint: async (role, opts = {}) => (await issue({ role, ...opts })).token,
    sign,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Where `npm start` says where the running sandbox is, for scripts/token.ts. */
export interface SandboxState {
  gatewayUrl: string;
  tokenUrl: string;
  /** The `npm start` process, to tell a live sandbox from a file left by one that crashed. */
  pid: number;
}

/** The state file: LGNET_SANDBOX_STATE, or data/sandbox/stack.json under the repository. */
export function sandboxStatePath(env: Readonly<Record<string, string | undefined>> = process.env): string {
  return env.LGNET_SANDBOX_STATE || fileURLToPath(new URL('../data/sandbox/stack.json', import.meta.url));
}

/** Writes the state file whole (through a rename), so a reader never sees half of it. */
export function writeSandboxState(state: SandboxState, path: string = sandboxStatePath()): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
  renameSync(tmp, path);
}

/** The state file's content, or null when there is none or it is not a state file. */
export function readSandboxState(path: string = sandboxStatePath()): SandboxState | null {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return null;
  }
  const s = json as Partial<SandboxState> | null;
  if (!s || typeof s.gatewayUrl !== 'string' || typeof s.tokenUrl !== 'string' || !Number.isInteger(s.pid)) return null;
  return { gatewayUrl: s.gatewayUrl, tokenUrl: s.tokenUrl, pid: s.pid as number };
}

/**
 * Removes the state file when this process wrote it: a second `npm start`
 * may have replaced it, and stopping the first must not hide the second.
 */
export function removeSandboxState(path: string = sandboxStatePath(), ownerPid: number = process.pid): void {
  if (readSandboxState(path)?.pid === ownerPid) rmSync(path, { force: true });
}
