/**
 * The query IDE at /graphql and cross-origin calls, end to end: the gateway
 * as `npm start` runs it (IDE on, here with two allowed origins), and the
 * gateway process alone with production's defaults, asked over HTTP; and,
 * where a Chromium is installed, the IDE rendered and used in a real browser.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, guardPage, hasChromium, launchChromium } from './browser.ts';
import { authConfigToEnv } from '../access/tokens.ts';
import { loadCityConfigs } from '../adapters/config.ts';
import { defaultCitiesDir } from '../adapters/fleet.ts';
import { ConfigError } from '../runtime/config-error.ts';
import { corsOrigins, ide } from '../runtime/settings.ts';
import { subgraphNames } from '../schema/sdl.ts';
import { startStack, type Stack } from '../scripts/stack.ts';
import { gql } from './helpers.ts';

const root = fileURLToPath(new URL('../', import.meta.url));
/** What a browser sends when a user opens a URL (Chromium's Accept for a page). */
const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8';
const ALLOWED = 'https://dash.example.it';
const OTHER_ALLOWED = 'http://localhost:8080';
const STRANGER = 'https://elsewhere.example.com';

/** The files the page must serve, found here independently of the gateway's own lookup: as npm installed them, and the IDE's own two. */
const expectedFiles: Record<string, { path: string; type: string }> = {
  'react.production.min.js': { path: 'node_modules/react/umd/react.production.min.js', type: 'text/javascript; charset=utf-8' },
  'react-dom.production.min.js': { path: 'node_modules/react-dom/umd/react-dom.production.min.js', type: 'text/javascript; charset=utf-8' },
  'graphiql.min.js': { path: 'node_modules/graphiql/graphiql.min.js', type: 'text/javascript; charset=utf-8' },
  'graphiql.min.css': { path: 'node_modules/graphiql/graphiql.min.css', type: 'text/css; charset=utf-8' },
  'ide.js': { path: 'gateway/ide-page/ide.js', type: 'text/javascript; charset=utf-8' },
  'ide.css': { path: 'gateway/ide-page/ide.css', type: 'text/css; charset=utf-8' },
};

let stack: Stack;
let base: string;
let analyst: string;

beforeAll(async () => {
  stack = await startStack({ port: 0, env: { LGNET_CORS_ORIGINS: `${ALLOWED}, ${OTHER_ALLOWED}` } });
  base = new URL(stack.gatewayUrl).origin;
  analyst = await stack.token('analyst');
});
afterAll(async () => {
  await stack?.close();
});

const openInBrowser = (url: string) => fetch(url, { headers: { accept: BROWSER_ACCEPT } });

/** Every src and href of a page. */
const references = (html: string) => [...html.matchAll(/\b(?:src|href)="([^"]*)"/g)].map((m) => m[1]!);

interface GatewayProcess {
  url: Promise<string>;
  exit: Promise<number | null>;
  stderr: () => string;
  proc: ChildProcess;
}

/**
 * The gateway process alone, over the stack's subgraphs, with only the
 * environment given (and what a production deployment must set): no
 * setting of the sandbox's leaks in.
 */
function gatewayProcess(env: Record<string, string>): GatewayProcess {
  const urls = Object.fromEntries(subgraphNames.map((n) => [`LGNET_SUBGRAPH_${n.toUpperCase()}_URL`, stack.subgraphUrls[n]]));
  const auth = authConfigToEnv({ issuer: stack.issuer.issuer, audience: stack.issuer.audience, algorithms: stack.issuer.algorithms, jwksUrl: stack.issuer.jwksUrl });
  const proc = spawn(process.execPath, ['--experimental-strip-types', 'gateway/main.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', ...auth, ...urls, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'error', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exit = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const url = new Promise<string>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).on('line', (l) => {
      try {
        const ready = (JSON.parse(l) as { ready?: string }).ready;
        if (ready) resolve(ready);
      } catch {
        // Not the ready line.
      }
    });
    void exit.then((code) => reject(new Error(`the gateway exited with code ${code}: ${stderr}`)));
  });
  url.catch(() => {});
  return { url, exit, stderr: () => stderr, proc };
}

async function stopProcess(p: GatewayProcess): Promise<void> {
  if (p.proc.exitCode === null && p.proc.signalCode === null) p.proc.kill('SIGTERM');
  await p.exit;
}

describe('the query IDE', () => {
  it('is what a browser opening /graphql gets, under a policy that allows only this origin', async () => {
    const res = await openInBrowser(`${base}/graphql`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain("style-src 'self';");
    expect(csp).toContain("connect-src 'self';");
    expect(csp).not.toMatch(/unsafe|https?:|\*/);
    const html = await res.text();
    // Nothing from anywhere else: no absolute URL at all, no inline script or style.
    expect(html).not.toMatch(/https?:|\/\/[a-z]/i);
    expect(html).not.toMatch(/<script>|<script(?![^>]*\bsrc=)[^>]*>|<style|\bstyle=/);
    expect(html).toContain('data-introspection="on"');
    const refs = references(html);
    expect(refs.map((r) => r.split('/').pop()).sort()).toEqual(Object.keys(expectedFiles).sort());
    for (const ref of refs) expect(ref).toMatch(/^\/ide\/assets\/[0-9a-f]{16}\/[\w.-]+$/);
  });

  it('serves each asset of the page as installed, with its content type and a cache that lasts', async () => {
    const refs = references(await (await openInBrowser(`${base}/graphql`)).text());
    for (const ref of refs) {
      const expected = expectedFiles[ref.split('/').pop()!]!;
      const res = await fetch(base + ref);
      expect(res.status, ref).toBe(200);
      expect(res.headers.get('content-type'), ref).toBe(expected.type);
      expect(res.headers.get('cache-control'), ref).toBe('public, max-age=31536000, immutable');
      expect(res.headers.get('x-content-type-options'), ref).toBe('nosniff');
      const bytes = Buffer.from(await res.arrayBuffer());
      expect(bytes.equals(readFileSync(`${root}${expected.path}`)), ref).toBe(true);
    }
    // An asset under a hash the page does not name is no asset.
    const stale = refs[0]!.replace(/\/[0-9a-f]{16}\//, '/0000000000000000/');
    expect((await fetch(base + stale)).status).toBe(404);
  });

  it('leaves GraphQL as it was: a client GET is still refused as a possible CSRF, and a POST is answered', async () => {
    const query = `${base}/graphql?query=${encodeURIComponent('{ __typename }')}`;
    for (const accept of ['application/json', '*/*', 'application/graphql-response+json', null]) {
      const res = await fetch(query, { headers: { authorization: `Bearer ${analyst}`, ...(accept ? { accept } : {}) } });
      expect(res.status, String(accept)).toBe(400);
      expect(await res.text(), String(accept)).toContain('Cross-Site Request Forgery');
    }
    const posted = await gql(stack.gatewayUrl, '{ __typename }', undefined, { authorization: `Bearer ${analyst}` });
    expect([posted.status, posted.data]).toEqual([200, { __typename: 'Query' }]);
  });

  it('is off by default in production: a browser opening /graphql is told so, and the assets are not served', async () => {
    const refs = references(await (await openInBrowser(`${base}/graphql`)).text());
    const gateway = gatewayProcess({});
    try {
      const origin = new URL(await gateway.url).origin;
      const res = await openInBrowser(`${origin}/graphql`);
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      const text = await res.text();
      expect(text).toContain('The query IDE is off on this gateway');
      expect(text).toContain('LGNET_IDE=1');
      for (const ref of refs) expect((await fetch(origin + ref)).status, ref).toBe(404);
      // A GraphQL client is answered as ever.
      const posted = await gql(`${origin}/graphql`, '{ __typename }', undefined, { authorization: `Bearer ${analyst}` });
      expect(posted.data).toEqual({ __typename: 'Query' });
      // And no origin is allowed by default.
      const preflight = await fetch(`${origin}/graphql`, { method: 'OPTIONS', headers: { origin: ALLOWED, 'access-control-request-method': 'POST' } });
      expect([...preflight.headers.keys()].filter((k) => k.startsWith('access-control-'))).toEqual([]);
    } finally {
      await stopProcess(gateway);
    }
  });

  it('says on the page when introspection is off, so that missing docs are explained', async () => {
    const gateway = gatewayProcess({ LGNET_IDE: '1', LGNET_INTROSPECTION: '0' });
    try {
      const origin = new URL(await gateway.url).origin;
      const html = await (await openInBrowser(`${origin}/graphql`)).text();
      expect(html).toContain('data-introspection="off"');
      expect(readFileSync(`${root}gateway/ide-page/ide.js`, 'utf8')).toContain('Introspection is off on this gateway (LGNET_INTROSPECTION)');
    } finally {
      await stopProcess(gateway);
    }
  });

  it('renders in a headless browser and, with a pasted analyst token, runs a query, asking nothing of any other origin', async (ctx) => {
    ctx.skip(!hasChromium(), `no browser at ${CHROMIUM}: the IDE was not tried in a browser`);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const guard = await guardPage(page, base);
      await page.goto(`${base}/graphql`);
      await page.locator('.graphiql-container').waitFor({ timeout: 20_000 });
      const status = () => page.getByRole('status').textContent();
      await expect.poll(status).toMatch(/^No token/);

      await page.locator('input[name="token"]').fill(`Bearer ${analyst}`);
      await expect.poll(status).toMatch(/^analyst, until /);
      // With the token, GraphiQL reads the schema by introspection: its docs name the root type.
      await page.locator('.graphiql-doc-explorer').getByText('Query', { exact: true }).first().waitFor({ timeout: 20_000 });
      // Kept in this tab only.
      expect(await page.evaluate(() => [sessionStorage.getItem('lgnet:token'), localStorage.length])).toEqual([analyst, 0]);

      await page.locator('.graphiql-query-editor .CodeMirror').click();
      await page.keyboard.press('Control+A');
      await page.keyboard.insertText('{ cities { code name } }');
      const answered = page.waitForResponse((r) => r.url() === `${base}/graphql` && r.request().method() === 'POST' && (r.request().postData() ?? '').includes('cities'));
      await page.locator('.graphiql-execute-button').click();
      const response = await answered;
      expect((JSON.parse(response.request().postData()!) as { query: string }).query).toBe('{ cities { code name } }');
      expect(response.request().headers().authorization).toBe(`Bearer ${analyst}`);
      const body = (await response.json()) as { data?: { cities: Array<{ code: string; name: string }> }; errors?: unknown };
      expect(body.errors).toBeUndefined();
      const cities = loadCityConfigs(defaultCitiesDir);
      expect(body.data!.cities.map((c) => c.code).sort()).toEqual(cities.map((c) => c.code).sort());
      // And the answer is shown.
      await page.locator('.graphiql-response').getByText(body.data!.cities[0]!.name).first().waitFor({ timeout: 10_000 });

      expect(guard.elsewhere).toEqual([]);
      expect(guard.refused).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});

describe('cross-origin calls', () => {
  const preflight = (origin: string) =>
    fetch(stack.gatewayUrl, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' },
    });
  const corsHeaders = (res: Response) => [...res.headers.keys()].filter((k) => k.startsWith('access-control-'));

  it('answers a preflight from an allowed origin with what it may send', async () => {
    for (const origin of [ALLOWED, OTHER_ALLOWED]) {
      const res = await preflight(origin);
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBe(origin);
      expect(res.headers.get('access-control-allow-methods')).toBe('POST, GET');
      expect(res.headers.get('access-control-allow-headers')).toBe('content-type, authorization, apollo-require-preflight, x-request-id');
      expect(res.headers.get('access-control-max-age')).toBe('7200');
      expect(res.headers.get('access-control-allow-credentials')).toBeNull();
      expect(res.headers.get('vary')).toMatch(/\bOrigin\b/);
    }
  });

  it('gives any other origin no CORS header, for a preflight or a request', async () => {
    for (const origin of [STRANGER, `${ALLOWED}.evil.example`, 'null']) {
      expect(corsHeaders(await preflight(origin)), origin).toEqual([]);
      const res = await fetch(stack.gatewayUrl, {
        method: 'POST',
        headers: { origin, 'content-type': 'application/json', authorization: `Bearer ${analyst}` },
        body: JSON.stringify({ query: '{ __typename }' }),
      });
      expect(corsHeaders(res), origin).toEqual([]);
    }
  });

  it('lets a page of an allowed origin read its answer, while CSRF prevention still holds for it', async () => {
    const res = await fetch(stack.gatewayUrl, {
      method: 'POST',
      headers: { origin: ALLOWED, 'content-type': 'application/json', authorization: `Bearer ${analyst}` },
      body: JSON.stringify({ query: '{ cities { code } }' }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(((await res.json()) as { data: { cities: unknown[] } }).data.cities.length).toBeGreaterThan(0);
    const simple = await fetch(`${stack.gatewayUrl}?query=${encodeURIComponent('{ __typename }')}`, { headers: { origin: ALLOWED, authorization: `Bearer ${analyst}` } });
    expect(simple.status).toBe(400);
    expect(await simple.text()).toContain('Cross-Site Request Forgery');
  });

  it('refuses a bad LGNET_CORS_ORIGINS at start, naming the variable', async () => {
    expect(corsOrigins({})).toEqual([]);
    expect(corsOrigins({ LGNET_CORS_ORIGINS: ' https://a.example.it ,http://127.0.0.1:8080' })).toEqual(['https://a.example.it', 'http://127.0.0.1:8080']);
    for (const bad of ['*', 'dash.example.it', 'https://dash.example.it/', 'https://dash.example.it/app', 'ftp://dash.example.it', 'https://a.example.it,', 'https://Dash.example.it', 'null']) {
      expect(() => corsOrigins({ LGNET_CORS_ORIGINS: bad }), bad).toThrow(ConfigError);
      expect(() => corsOrigins({ LGNET_CORS_ORIGINS: bad }), bad).toThrow(/^LGNET_CORS_ORIGINS /);
    }
    expect(() => ide({ LGNET_IDE: 'yes' })).toThrow(/LGNET_IDE must be 1 or 0/);
    // The process itself stops, before it listens.
    const gateway = gatewayProcess({ LGNET_CORS_ORIGINS: 'https://dash.example.it/app' });
    expect(await gateway.exit).toBe(1);
    expect(gateway.stderr()).toContain('LGNET_CORS_ORIGINS must list origins');
  });
});
