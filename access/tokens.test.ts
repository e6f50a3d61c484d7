import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SignJWT, base64url, calculateJwkThumbprint, decodeJwt, exportJWK, exportSPKI, generateKeyPair, importJWK, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../runtime/config-error.ts';
import { startSandboxIssuer, writeSandboxState, type SandboxIssuer } from '../sandbox/issuer.ts';
import {
  AuthError,
  AuthUnavailableError,
  authConfigFromEnv,
  authConfigToEnv,
  createTokenVerifier,
  unauthenticated,
  type AuthFailure,
} from './tokens.ts';

const tokenScript = fileURLToPath(new URL('../scripts/token.ts', import.meta.url));
const now = () => Math.floor(Date.now() / 1000);

let issuer: SandboxIssuer;
let verify: ReturnType<typeof createTokenVerifier>;
let tmp: string;

beforeAll(async () => {
  issuer = await startSandboxIssuer();
  // The remote key set, fetched over HTTP from the issuer, as in production.
  verify = createTokenVerifier({ issuer: issuer.issuer, audience: issuer.audience, algorithms: issuer.algorithms, jwksUrl: issuer.jwksUrl });
  tmp = mkdtempSync(join(tmpdir(), 'lgnet-tokens-'));
});

afterAll(async () => {
  await issuer?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** Claims the verifier accepts, to be spoiled one at a time. */
function goodClaims(extra: JWTPayload = {}): JWTPayload {
  return { iss: issuer.issuer, aud: issuer.audience, sub: 'someone', role: 'analyst', iat: now(), exp: now() + 600, ...extra };
}

function without(claims: JWTPayload, name: string): JWTPayload {
  const copy = { ...claims };
  delete copy[name];
  return copy;
}

/** Expects the header to be refused for `reason` with a message matching `message`, and the message not to repeat the token. */
async function expectRefused(authorization: string | null | undefined, reason: AuthFailure, message: RegExp | string) {
  const error = await verify(authorization).then(
    (caller) => new Error(`accepted as ${JSON.stringify(caller)}`),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AuthError);
  expect((error as AuthError).reason).toBe(reason);
  if (typeof message === 'string') expect((error as AuthError).message).toBe(message);
  else expect((error as AuthError).message).toMatch(message);
  for (const part of (authorization ?? '').replace(/^\S+ /, '').split('.')) {
    if (part.length >= 8) expect((error as AuthError).message).not.toContain(part);
  }
}

const bearer = (token: string) => `Bearer ${token}`;

describe('a token verifier with the issuer key set fetched over HTTP', () => {
  it('turns an analyst token into an analyst caller with no city', async () => {
    expect(await verify(bearer(await issuer.mint('analyst')))).toEqual({ role: 'analyst', subject: 'sandbox-analyst' });
  });

  it('turns a dashboard token into a dashboard caller with no city', async () => {
    expect(await verify(bearer(await issuer.mint('dashboard', { subject: 'board-7' })))).toEqual({ role: 'dashboard', subject: 'board-7' });
  });

  it('turns an operator token into an operator caller bound to the city of the token', async () => {
    expect(await verify(bearer(await issuer.mint('operator', { city: '082053' })))).toEqual({
      role: 'operator',
      city: '082053',
      subject: 'sandbox-operator-082053',
    });
  });

  it('accepts the scheme name in any case, as HTTP allows', async () => {
    expect(await verify(`bearer ${await issuer.mint('analyst')}`)).toMatchObject({ role: 'analyst' });
  });

  it('refuses a request without an Authorization header, saying how to send one', async () => {
    for (const header of [undefined, null, '', '   ']) {
      await expectRefused(header, 'missing', 'No token: send Authorization: Bearer <token>');
    }
    await expectRefused('Bearer ', 'missing', 'No token: send Authorization: Bearer <token>');
  });

  it('refuses an Authorization header of another scheme', async () => {
    await expectRefused('Basic dXNlcjpwYXNzd29yZA==', 'scheme', /does not use the Bearer scheme/);
    await expectRefused(`Token ${await issuer.mint('analyst')}`, 'scheme', /does not use the Bearer scheme/);
  });

  it('refuses an Authorization header longer than 8 KB before parsing it', async () => {
    await expectRefused(bearer('a'.repeat(9000)), 'too_long', /longer than 8192 characters/);
  });

  it('refuses garbage as a malformed token', async () => {
    await expectRefused(bearer('not-a-token'), 'malformed', /^Malformed token/);
    await expectRefused(bearer('aaaaaaaa.bbbbbbbb.cccccccc'), 'malformed', /^Malformed token/);
    await expectRefused(bearer(`${base64url.encode('not json')}.${base64url.encode('{}')}.c2ln`), 'malformed', /^Malformed token/);
  });

  it('refuses a genuine token whose payload was changed, keeping the signature', async () => {
    const [header, payload, signature] = (await issuer.mint('dashboard')).split('.');
    const promoted = { ...(JSON.parse(new TextDecoder().decode(base64url.decode(payload!))) as JWTPayload), role: 'analyst' };
    await expectRefused(bearer(`${header}.${base64url.encode(JSON.stringify(promoted))}.${signature}`), 'signature', /signature is not valid/);
  });

  it('refuses an unsigned token (alg none)', async () => {
    const header = base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT' }));
    const payload = base64url.encode(JSON.stringify(goodClaims()));
    await expectRefused(bearer(`${header}.${payload}.`), 'algorithm', 'Token algorithm not allowed: this service accepts ES256');
  });

  it('refuses a token signed with HS256 using the issuer public key as the secret', async () => {
    const { keys } = (await (await fetch(issuer.jwksUrl)).json()) as { keys: JWK[] };
    const publicJwk = keys[0]!;
    const pem = await exportSPKI((await importJWK(publicJwk, 'ES256')) as CryptoKey);
    for (const secret of [pem, JSON.stringify(publicJwk)]) {
      const token = await new SignJWT(goodClaims())
        .setProtectedHeader({ alg: 'HS256', kid: publicJwk.kid!, typ: 'JWT' })
        .sign(new TextEncoder().encode(secret));
      await expectRefused(bearer(token), 'algorithm', /algorithm not allowed/);
    }
  });

  it('refuses a token signed by another key pair with the same issuer and audience', async () => {
    const other = await generateKeyPair('ES256');
    const otherKid = await calculateJwkThumbprint(await exportJWK(other.publicKey));
    const { keys } = (await (await fetch(issuer.jwksUrl)).json()) as { keys: JWK[] };
    // Under its own key id, and pretending to be the issuer's key.
    for (const kid of [otherKid, keys[0]!.kid!, undefined]) {
      const token = await new SignJWT(goodClaims()).setProtectedHeader({ alg: 'ES256', ...(kid ? { kid } : {}) }).sign(other.privateKey);
      await expectRefused(bearer(token), 'signature', 'Token signature is not valid: it was not signed by a key of the issuer');
    }
  });

  it('refuses an expired token', async () => {
    await expectRefused(bearer(await issuer.sign(goodClaims({ iat: now() - 7200, exp: now() - 3600 }))), 'expired', 'Token expired: get a new one');
  });

  it('refuses a token that is not yet valid', async () => {
    await expectRefused(bearer(await issuer.sign(goodClaims({ nbf: now() + 3600 }))), 'not_yet_valid', /not yet valid \(its nbf/);
    await expectRefused(bearer(await issuer.sign(goodClaims({ iat: now() + 3600 }))), 'not_yet_valid', /not yet valid \(its iat/);
  });

  it('refuses a token without an expiry', async () => {
    await expectRefused(bearer(await issuer.sign(without(goodClaims(), 'exp'))), 'claims', /no expiry \(exp\)/);
  });

  it('refuses a token from another issuer, naming the one accepted', async () => {
    await expectRefused(bearer(await issuer.sign(goodClaims({ iss: 'https://idp.example.org' }))), 'issuer', `Token is from another issuer: this service accepts tokens issued by ${issuer.issuer}`);
    await expectRefused(bearer(await issuer.sign(without(goodClaims(), 'iss'))), 'issuer', /another issuer/);
  });

  it('refuses a token for another audience, naming the one accepted', async () => {
    await expectRefused(bearer(await issuer.sign(goodClaims({ aud: 'another-graph' }))), 'audience', 'Token is for another audience: this service accepts tokens for lgnet-graph');
  });

  it('refuses a token without a subject', async () => {
    await expectRefused(bearer(await issuer.sign(without(goodClaims(), 'sub'))), 'subject', 'Token has no subject (sub)');
    await expectRefused(bearer(await issuer.sign(goodClaims({ sub: ' ' }))), 'subject', 'Token has no subject (sub)');
  });

  it('refuses a token with an unknown or missing role, naming the roles allowed', async () => {
    const message = 'Token role is missing or unknown: the role claim must be one of operator, analyst, dashboard';
    await expectRefused(bearer(await issuer.sign(goodClaims({ role: 'admin' }))), 'role', message);
    await expectRefused(bearer(await issuer.sign(without(goodClaims(), 'role'))), 'role', message);
  });

  it('refuses an operator token without a city', async () => {
    await expectRefused(bearer(await issuer.sign(goodClaims({ role: 'operator' }))), 'city', /^Operator token has no city/);
  });

  it('refuses an operator token whose city is not a six-digit ISTAT code', async () => {
    await expectRefused(bearer(await issuer.sign(goodClaims({ role: 'operator', city: '82053' }))), 'city', 'Token city is not a six-digit ISTAT code');
  });

  it('refuses a city on a token of a role that sees every city', async () => {
    await expectRefused(bearer(await issuer.sign(goodClaims({ role: 'analyst', city: '082053' }))), 'city', /role analyst carries a city/);
  });

  it('keeps verifying with the cached key set while the issuer is away', async () => {
    const away = await startSandboxIssuer();
    const verifyAway = createTokenVerifier({ issuer: away.issuer, audience: away.audience, algorithms: away.algorithms, jwksUrl: away.jwksUrl });
    const token = await away.mint('analyst');
    await verifyAway(bearer(token));
    await away.close();
    expect(await verifyAway(bearer(token))).toMatchObject({ role: 'analyst' });
  });

  it('reports an unreachable issuer as unavailable, not as the caller fault', async () => {
    const gone = await startSandboxIssuer();
    const token = await gone.mint('analyst');
    await gone.close();
    const verifyGone = createTokenVerifier({ issuer: gone.issuer, audience: gone.audience, algorithms: gone.algorithms, jwksUrl: gone.jwksUrl });
    const error = await verifyGone(bearer(token)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthUnavailableError);
    expect(error).not.toBeInstanceOf(AuthError);
    expect((error as Error).message).toMatch(/Cannot check tokens now/);
  });

  it('still refuses a bad token as the caller fault while the issuer is unreachable', async () => {
    const verifyGone = createTokenVerifier({ issuer: issuer.issuer, audience: issuer.audience, algorithms: ['ES256'], jwksUrl: 'http://127.0.0.1:1/jwks.json' });
    await expect(verifyGone(bearer('garbage'))).rejects.toBeInstanceOf(AuthError);
    const header = base64url.encode(JSON.stringify({ alg: 'none' }));
    await expect(verifyGone(bearer(`${header}.${base64url.encode('{}')}.`))).rejects.toMatchObject({ reason: 'algorithm' });
  });

  it('verifies with an inline key set as well as a fetched one', async () => {
    const jwks = (await (await fetch(issuer.jwksUrl)).json()) as { keys: JWK[] };
    const local = createTokenVerifier({ issuer: issuer.issuer, audience: issuer.audience, algorithms: ['ES256'], jwks });
    expect(await local(bearer(await issuer.mint('operator', { city: '090064' })))).toMatchObject({ role: 'operator', city: '090064' });
  });

  it('tries every key of a rotating key set for a token that names no key', async () => {
    const [older, newer, stranger] = await Promise.all([generateKeyPair('ES256'), generateKeyPair('ES256'), generateKeyPair('ES256')]);
    const jwks = { keys: [await exportJWK(older.publicKey), await exportJWK(newer.publicKey)] };
    const claims = { iss: 'https://idp.example.org', aud: 'lgnet-graph', sub: 'rotated', role: 'dashboard', exp: now() + 600 };
    const rotating = createTokenVerifier({ issuer: claims.iss, audience: claims.aud, algorithms: ['ES256'], jwks });
    const signedBy = (key: CryptoKey) => new SignJWT(claims).setProtectedHeader({ alg: 'ES256' }).sign(key);
    expect(await rotating(bearer(await signedBy(newer.privateKey)))).toEqual({ role: 'dashboard', subject: 'rotated' });
    await expect(rotating(bearer(await signedBy(stranger.privateKey)))).rejects.toMatchObject({ reason: 'signature' });
  });

  it('refuses to be built with a symmetric algorithm', () => {
    expect(() => createTokenVerifier({ issuer: 'i', audience: 'a', algorithms: ['HS256'], jwksUrl: issuer.jwksUrl })).toThrow(ConfigError);
    expect(() => createTokenVerifier({ issuer: 'i', audience: 'a', algorithms: ['none'], jwksUrl: issuer.jwksUrl })).toThrow(/not an accepted algorithm/);
  });
});

describe('authentication errors in Apollo Server', () => {
  // In a plain Node process, as the gateway runs: under vitest, test files get
  // graphql's ESM build while Apollo Server loads its CommonJS one, so Apollo
  // would not recognise the GraphQLError and would prefix its message.
  const probe = `
    import { ApolloServer, HeaderMap } from '@apollo/server';
    import { authenticate, createTokenVerifier } from './access/tokens.ts';
    const verify = createTokenVerifier({ issuer: 'https://idp.example.org', audience: 'lgnet-graph', algorithms: ['ES256'], jwksUrl: 'http://127.0.0.1:1/jwks.json' });
    const apollo = new ApolloServer({ typeDefs: 'type Query { ok: Boolean }', includeStacktraceInErrorResponses: false });
    await apollo.start();
    const answers = [];
    for (const authorization of JSON.parse(process.argv[1])) {
      const r = await apollo.executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method: 'POST', headers: new HeaderMap([['content-type', 'application/json']]), search: '', body: { query: '{ ok }' } },
        context: () => authenticate(verify, authorization),
      });
      answers.push({ status: r.status, headers: Object.fromEntries(r.headers), body: JSON.parse(r.body.string) });
    }
    await apollo.stop();
    process.stdout.write(JSON.stringify(answers));
  `;
  type Answer = { status: number; headers: Record<string, string>; body: { errors: Array<{ message: string; extensions: Record<string, unknown> }> } };
  let noToken: Answer;
  let issuerAway: Answer;

  beforeAll(() => {
    // An ES256 token header, so the verifier goes for the key set, which is not there.
    const es256Token = `${base64url.encode('{"alg":"ES256"}')}.${base64url.encode('{}')}.c2ln`;
    const child = spawnSync(process.execPath, ['--experimental-strip-types', '--input-type=module', '-e', probe, JSON.stringify([null, bearer(es256Token)])], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      encoding: 'utf8',
      env: { ...process.env, NODE_NO_WARNINGS: '1' },
    });
    expect(child.stderr).toBe('');
    [noToken, issuerAway] = JSON.parse(child.stdout) as [Answer, Answer];
  });

  it('answer 401 UNAUTHENTICATED with the refusal message and a Bearer challenge', () => {
    expect(noToken.status).toBe(401);
    expect(noToken.headers['www-authenticate']).toBe('Bearer');
    expect(noToken.body.errors).toEqual([{ message: 'No token: send Authorization: Bearer <token>', extensions: { code: 'UNAUTHENTICATED' } }]);
  });

  it('answer 503 AUTH_UNAVAILABLE when the issuer cannot be reached', () => {
    expect(issuerAway.status).toBe(503);
    expect(issuerAway.headers['retry-after']).toBe('5');
    expect(issuerAway.body.errors).toEqual([{ message: expect.stringMatching(/^Cannot check tokens now/), extensions: { code: 'AUTH_UNAVAILABLE' } }]);
  });

  it('carry code UNAUTHENTICATED and HTTP status 401 in the error itself', () => {
    expect(unauthenticated('Token expired: get a new one').extensions).toMatchObject({ code: 'UNAUTHENTICATED', http: { status: 401 } });
  });
});

describe('the auth configuration from the environment', () => {
  const base = { LGNET_AUTH_ISSUER: 'https://idp.example.org', LGNET_AUTH_AUDIENCE: 'lgnet-graph', LGNET_AUTH_JWKS_URL: 'https://idp.example.org/jwks.json' };

  it('defaults the algorithms to ES256 and gives back the same environment', () => {
    const config = authConfigFromEnv(base);
    expect(config).toEqual({ issuer: 'https://idp.example.org', audience: 'lgnet-graph', algorithms: ['ES256'], jwksUrl: 'https://idp.example.org/jwks.json' });
    expect(authConfigFromEnv(authConfigToEnv(config))).toEqual(config);
  });

  it('names the variable that is missing', () => {
    expect(() => authConfigFromEnv({ ...base, LGNET_AUTH_ISSUER: '' })).toThrow(/LGNET_AUTH_ISSUER is not set/);
    expect(() => authConfigFromEnv({ ...base, LGNET_AUTH_AUDIENCE: undefined })).toThrow(/LGNET_AUTH_AUDIENCE is not set/);
    expect(() => authConfigFromEnv({ ...base, LGNET_AUTH_JWKS_URL: undefined })).toThrow(/LGNET_AUTH_JWKS_URL \(or LGNET_AUTH_JWKS/);
  });

  it('refuses symmetric and unknown algorithms, naming the variable', () => {
    expect(() => authConfigFromEnv({ ...base, LGNET_AUTH_ALGORITHMS: 'ES256,HS256' })).toThrow(ConfigError);
    expect(() => authConfigFromEnv({ ...base, LGNET_AUTH_ALGORITHMS: 'none' })).toThrow(/LGNET_AUTH_ALGORITHMS: "none" is not an accepted algorithm/);
  });

  it('refuses a key set URL over plain HTTP to another machine', () => {
    expect(() => authConfigFromEnv({ ...base, LGNET_AUTH_JWKS_URL: 'http://idp.example.org/jwks.json' })).toThrow(/LGNET_AUTH_JWKS_URL: must be an https URL/);
    expect(authConfigFromEnv({ ...base, LGNET_AUTH_JWKS_URL: 'http://127.0.0.1:4100/jwks.json' }).jwksUrl).toBe('http://127.0.0.1:4100/jwks.json');
  });

  it('takes an inline key set instead of a URL, but not both', async () => {
    const jwks = { keys: [await exportJWK((await generateKeyPair('ES256')).publicKey)] };
    expect(authConfigFromEnv({ ...base, LGNET_AUTH_JWKS_URL: undefined, LGNET_AUTH_JWKS: JSON.stringify(jwks) }).jwks).toEqual(jwks);
    expect(() => authConfigFromEnv({ ...base, LGNET_AUTH_JWKS: JSON.stringify(jwks) })).toThrow(/are both set/);
    expect(() => authConfigFromEnv({ ...base, LGNET_AUTH_JWKS_URL: undefined, LGNET_AUTH_JWKS: '{"keys": [' })).toThrow(/LGNET_AUTH_JWKS: not valid JSON/);
  });

  it('refuses an inline private key without repeating it', async () => {
    const privateJwk = await exportJWK((await generateKeyPair('ES256', { extractable: true })).privateKey);
    const error = (() => {
      try {
        authConfigFromEnv({ ...base, LGNET_AUTH_JWKS_URL: undefined, LGNET_AUTH_JWKS: JSON.stringify({ keys: [privateJwk] }) });
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error?.message).toMatch(/LGNET_AUTH_JWKS: key 0 is a private key/);
    expect(error?.message).not.toContain(privateJwk.d);
  });

  it('refuses a clock tolerance that is not a small whole number of seconds', () => {
    expect(authConfigFromEnv({ ...base, LGNET_AUTH_CLOCK_TOLERANCE_SEC: '60' }).clockToleranceSec).toBe(60);
    expect(() => authConfigFromEnv({ ...base, LGNET_AUTH_CLOCK_TOLERANCE_SEC: '1h' })).toThrow(/LGNET_AUTH_CLOCK_TOLERANCE_SEC/);
  });
});

describe('the sandbox issuer over HTTP', () => {
  const post = (body: unknown) => fetch(issuer.tokenUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('publishes one public signing key with its key id, algorithm and use', async () => {
    const res = await fetch(issuer.jwksUrl);
    expect(res.status).toBe(200);
    const { keys } = (await res.json()) as { keys: JWK[] };
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig', kid: expect.any(String) });
    expect(keys[0]).not.toHaveProperty('d');
  });

  it('listens on loopback by default', () => {
    expect(new URL(issuer.issuer).hostname).toBe('127.0.0.1');
  });

  it('answers a token request with a token that lasts 8 hours by default', async () => {
    const res = await post({ role: 'analyst' });
    expect(res.status).toBe(200);
    const { token, expiresAt } = (await res.json()) as { token: string; expiresAt: string };
    const claims = decodeJwt(token);
    expect(claims.exp! - claims.iat!).toBe(8 * 3600);
    expect(new Date(expiresAt).getTime()).toBe(claims.exp! * 1000);
    expect(await verify(bearer(token))).toEqual({ role: 'analyst', subject: 'sandbox-analyst' });
  });

  it('grants the lifetime and subject asked for', async () => {
    const res = await post({ role: 'operator', city: '090064', subject: 'mario.rossi', ttlSec: 60 });
    const claims = decodeJwt(((await res.json()) as { token: string }).token);
    expect(claims).toMatchObject({ sub: 'mario.rossi', role: 'operator', city: '090064' });
    expect(claims.exp! - claims.iat!).toBe(60);
  });

  it('refuses a bad token request with 400 and a clear reason', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ role: 'admin' }, /role must be one of operator, analyst, dashboard/],
      [{ role: 'operator' }, /operator token needs city/],
      [{ role: 'operator', city: '90064' }, /six-digit ISTAT code/],
      [{ role: 'dashboard', city: '090064' }, /Only operator tokens carry a city/],
      [{ role: 'analyst', ttlSec: 0 }, /ttlSec must be a whole number of seconds from 1 to 86400/],
      [{ role: 'analyst', ttlSec: 24 * 3600 + 1 }, /ttlSec must be/],
      [{ role: 'analyst', ttl: 60 }, /Unknown field "ttl"/],
      [['analyst'], /must be a JSON object/],
    ];
    for (const [body, message] of cases) {
      const res = await post(body);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(message);
    }
  });

  it('rejects a bad mint with the same reason as over HTTP', async () => {
    await expect(issuer.mint('operator')).rejects.toThrow(/operator token needs city/);
  });
});

describe('scripts/token.ts', () => {
  function run(args: string[], statePath: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--experimental-strip-types', tokenScript, ...args], {
        env: { ...process.env, LGNET_SANDBOX_STATE: statePath, NODE_NO_WARNINGS: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  function stateFile(name: string, tokenUrl: string, pid = process.pid): string {
    const path = join(tmp, name, 'stack.json');
    writeSandboxState({ gatewayUrl: 'http://127.0.0.1:4000/graphql', tokenUrl, pid }, path);
    return path;
  }

  it('prints only a token, which verifies, for a running sandbox', async () => {
    const { code, stdout, stderr } = await run(['operator', '--city', '082053', '--ttl', '120'], stateFile('running', issuer.tokenUrl));
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    expect(await verify(bearer(stdout.trim()))).toEqual({ role: 'operator', city: '082053', subject: 'sandbox-operator-082053' });
  });

  it('exits 2 with the usage for an operator without --city', async () => {
    const { code, stdout, stderr } = await run(['operator'], stateFile('usage', issuer.tokenUrl));
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/operator token needs --city/);
    expect(stderr).toMatch(/^Usage: npm run --silent token -- <operator\|analyst\|dashboard>/m);
  });

  it('exits 2 with the usage for an unknown role', async () => {
    const { code, stderr } = await run(['admin'], stateFile('usage', issuer.tokenUrl));
    expect(code).toBe(2);
    expect(stderr).toMatch(/Unknown role "admin": the roles are operator, analyst, dashboard/);
  });

  it('exits 1 saying there is no running sandbox when the state file is missing', async () => {
    const { code, stdout, stderr } = await run(['analyst'], join(tmp, 'nowhere', 'stack.json'));
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^No running sandbox: start it with npm start/);
  });

  it('exits 1 saying there is no running sandbox when the issuer does not answer', async () => {
    const { code, stderr } = await run(['analyst'], stateFile('silent', 'http://127.0.0.1:1/token'));
    expect(code).toBe(1);
    expect(stderr).toMatch(/^No running sandbox: start it with npm start/);
  });

  it('exits 1 saying there is no running sandbox when the process that wrote the state is gone', async () => {
    const gonePid = spawnSync(process.execPath, ['-e', '']).pid;
    const { code, stderr } = await run(['analyst'], stateFile('stale', issuer.tokenUrl, gonePid));
    expect(code).toBe(1);
    expect(stderr).toMatch(/^No running sandbox: start it with npm start \(process \d+/);
  });
});
