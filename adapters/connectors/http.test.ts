import { requestScope } from '../../runtime/request-scope.ts';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CityError, asCityError } from '../../schema/errors.ts';
import { requestDefaults, type ResolvedSource } from '../config.ts';
import type { Logger } from '../../runtime/logger.ts';
import { silentLogger } from '../../runtime/logger.ts';
import { cutShort, startUpstream, type Upstream } from './fixtures/upstream-server.ts';
import { MAX_FAILURE_BODY_BYTES, RECENT_WINDOW, buildUrl, createHttpClient, failureBody, mapConcurrently, mediaType, withHealth } from './http.ts';

const city = '072006'; // Bari

let upstream: Upstream;
let agent: Agent;

beforeAll(async () => {
  upstream = await startUpstream();
  agent = new Agent();
});
afterAll(async () => {
  await agent.close();
  await upstream.close();
});

type Settings = Partial<Pick<ResolvedSource, keyof typeof requestDefaults | 'baseUrl'>>;

/**
 * A client of the upstream fixture. No retries and short pauses unless a
 * test says otherwise, so that every request counted is one the test expects.
 */
function client(settings: Settings = {}, options: { logger?: Logger; dispatcher?: Agent } = {}) {
  const source = {
    kind: 'csv', id: 'export', domains: ['people'], baseUrl: upstream.baseUrl, apiKey: null, dateFormat: 'dd/mm/yyyy',
    listSeparator: ',', vocabularies: {}, ...requestDefaults, retries: 0, retryDelayMs: 10,
    encoding: 'windows-1252', delimiter: ';', revalidateMs: 0, entities: {}, ...settings,
  } satisfies ResolvedSource;
  return createHttpClient(city, source, { dispatcher: options.dispatcher ?? agent, now: Date.now, logger: options.logger ?? silentLogger });
}

const ok = { status: 200, body: 'ok', headers: { 'content-type': 'text/plain' } };
const busy = { status: 503, body: 'busy' };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(() => expect.fail('expected a rejection'), (err: unknown) => err);
}

async function cityError(p: Promise<unknown>): Promise<CityError> {
  const e = await rejection(p);
  expect(e).toBeInstanceOf(CityError);
  return e as CityError;
}

describe('the upstream GET', () => {
  it('encodes each value of a list but keeps the commas between them', () => {
    expect(buildUrl('http://h', '/a', { ids: ['A 1', 'B,2', 'Ò'], size: 10 })).toBe('http://h/a?ids=A%201,B%2C2,%C3%92&size=10');
    expect(buildUrl('http://h', '/a?fixed=1', { page: 2 })).toBe('http://h/a?fixed=1&page=2');
    expect(buildUrl('http://h', '/a')).toBe('http://h/a');
  });

  it('reads only the media type of a Content-Type header, and never echoes an odd one', () => {
    expect(mediaType('Application/JSON; charset=UTF-8')).toBe('application/json');
    expect(mediaType(undefined)).toBeNull();
    expect(mediaType('Niccolò <script>')).toBe('an unreadable content type');
  });

  it("sends the id of the query it serves, and none outside a query", async () => {
    upstream.reset(() => ({ status: 200, headers: { 'content-type': 'application/json' }, body: '{}' }));
    const http = client();
    await requestScope.run({ requestId: 'req-42' }, () => http.getJson('/a'));
    await http.getJson('/b');
    expect(upstream.requests.map((r) => [r.url, r.headers['x-request-id']])).toEqual([['/a', 'req-42'], ['/b', undefined]]);
  });

  it('reports 404 as CITY_BAD_RESPONSE and 403 as CITY_AUTH_FAILED, and the connection stays usable', async () => {
    upstream.reset((req) => (req.url === '/missing'
      ? { status: 404, body: 'x'.repeat(500_000) }
      : { status: 403, body: 'forbidden' }));
    const http = client();

    expect(await cityError(http.get('/missing'))).toMatchObject({ code: 'CITY_BAD_RESPONSE', city, detail: 'status 404' });
    expect(await cityError(http.get('/forbidden'))).toMatchObject({ code: 'CITY_AUTH_FAILED', city, detail: 'status 403' });
  });

  it('accepts JSON labelled text/plain or with a BOM, and refuses other content types', async () => {
    upstream.reset((req) => {
      if (req.url === '/plain') return { headers: { 'content-type': 'text/plain' }, body: '\ufeff{"ok":true}' };
      return { headers: { 'content-type': 'application/xml' }, body: '<ok/>' };
    });
    const http = client();
    expect(await http.getJson('/plain')).toEqual({ ok: true });
    const e = await cityError(http.getJson('/xml'));
    expect(e).toMatchObject({ code: 'CITY_BAD_RESPONSE', city, detail: 'expected JSON, got application/xml' });
  });
});

describe('the upstream POST', () => {
  it('posts the body with its headers, and posts it again on a retry', async () => {
    let served = 0;
    upstream.reset(() => (served++ === 0 ? busy : { status: 200, headers: { 'content-type': 'application/json' }, body: '{"ok":true}' }));
    const http = client({ retries: 1 });
    await expect(http.postJson('/q', { body: '{"query":"{ a }"}', headers: { 'content-type': 'application/json' } })).resolves.toEqual({ ok: true });
    expect(upstream.requests.map((r) => [r.method, r.url, r.headers['content-type'], r.headers['content-length']])).toEqual([
      ['POST', '/q', 'application/json', '17'],
      ['POST', '/q', 'application/json', '17'],
    ]);
  });

  it('keeps the body of a status the caller asks for, classified as any other', async () => {
    upstream.reset(() => ({ status: 500, headers: { 'content-type': 'text/xml' }, body: '<fault/>' }));
    const http = client();
    const kept = await rejection(http.post('/s', { body: '<e/>', readBodyOn: (status) => status === 500 }));
    expect(kept).toMatchObject({ code: 'CITY_UNAVAILABLE', detail: 'status 500' });
    expect(failureBody(kept)?.toString('utf8')).toBe('<fault/>');
    const notAsked = await rejection(http.post('/s', { body: '<e/>' }));
    expect(failureBody(notAsked)).toBeUndefined();
  });

  it('keeps no body larger than MAX_FAILURE_BODY_BYTES', async () => {
    upstream.reset(() => ({ status: 500, body: 'x'.repeat(MAX_FAILURE_BODY_BYTES + 1) }));
    const http = client();
    const e = await rejection(http.post('/s', { body: '<e/>', readBodyOn: () => true }));
    expect(e).toMatchObject({ code: 'CITY_UNAVAILABLE' });
    expect(failureBody(e)).toBeUndefined();
  });
});

describe('transport failures', () => {
  it('reports a body shorter than its Content-Length as CITY_BAD_RESPONSE, whether the server closes or cuts the connection', async () => {
    for (const connectionClose of [true, false]) {
      upstream.reset(() => cutShort('{"risultato":', 1000, { connectionClose }));
      const e = await cityError(client({ retries: 2 }).getJson('/cut'));
      expect(e, `connection close: ${connectionClose}`).toMatchObject({ code: 'CITY_BAD_RESPONSE', city });
      expect(e.detail).toMatch(/^body cut short/);
      expect(e.message).not.toContain('risultato');
      // A failing server, not a hiccup: asked once, whatever the retries.
      expect(upstream.requests).toHaveLength(1);
    }
  });

  it('reports a refused connection as CITY_UNAVAILABLE, after trying again', async () => {
    const down = await startUpstream();
    const baseUrl = down.baseUrl;
    await down.close();
    const retried: unknown[] = [];
    const logger: Logger = { ...silentLogger, info: (msg, data) => void (msg === 'retrying a read' && retried.push(data)) };
    const e = await cityError(client({ baseUrl, retries: 1 }, { logger }).get('/x'));
    expect(e).toMatchObject({ code: 'CITY_UNAVAILABLE', city, detail: 'connection failed (ECONNREFUSED)' });
    expect(retried).toEqual([expect.objectContaining({ city, source: 'export', attempt: 1, detail: 'connection failed (ECONNREFUSED)' })]);
  });

  it('gives up on a connection that does not come within connectTimeoutMs, as CITY_TIMEOUT, and tries again', async () => {
    let connects = 0;
    // A host that never completes the handshake: the connector never calls back.
    const blackHole = new Agent({ connect: () => void connects++ });
    try {
      const started = performance.now();
      const e = await cityError(client({ connectTimeoutMs: 100, timeoutMs: 5_000, retries: 1 }, { dispatcher: blackHole }).get('/x'));
      expect(e).toMatchObject({ code: 'CITY_TIMEOUT', city, detail: 'no connection within 100 ms' });
      expect(performance.now() - started).toBeLessThan(1_000);
      expect(connects).toBe(2);
    } finally {
      await blackHole.destroy();
    }
  });

  it('rethrows a fault of the graph itself as it is: not a CityError, not retried, not held against the city', async () => {
    const http = client({ baseUrl: 'not a url', retries: 2, breakerFailures: 1 });
    for (let i = 0; i < 2; i++) {
      const e = await rejection(http.get('/x'));
      expect(e).not.toBeInstanceOf(CityError);
      expect(asCityError(e, city)).toMatchObject({ code: 'INTERNAL_ERROR', city });
    }
    expect(http.health().circuit).toBe('closed');
  });
});

describe('retries', () => {
  it('tries a read again after 503, pausing longer each time, and answers the success', async () => {
    let served = 0;
    upstream.reset(() => (++served <= 2 ? busy : ok));
    const http = client({ retries: 2, retryDelayMs: 100 });
    expect((await http.get('/flaky')).body.toString()).toBe('ok');
    const at = upstream.requests.map((r) => r.at);
    expect(at).toHaveLength(3);
    // Each pause is drawn between half and all of its nominal length: 100 ms, then 200 ms.
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(45);
    expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(95);
  });

  it('tries 502, 504, 408 and 429 again, but not 500, 404 or 401', async () => {
    const http = client({ retries: 1, breakerFailures: 100 });
    for (const status of [502, 504, 408, 429, 500, 404, 401]) {
      upstream.reset(() => ({ status, body: 'no' }));
      await cityError(http.get('/x'));
      expect(upstream.requests, `status ${status}`).toHaveLength([502, 504, 408, 429].includes(status) ? 2 : 1);
    }
  });

  it('tries again an attempt that ran past timeoutMs, and answers the next one', async () => {
    let served = 0;
    upstream.reset(() => (++served === 1 ? { hang: true } : ok));
    const http = client({ timeoutMs: 150, connectTimeoutMs: 150, retries: 1 });
    expect((await http.get('/slow-once')).body.toString()).toBe('ok');
    expect(upstream.requests).toHaveLength(2);
  });

  it('reports CITY_TIMEOUT, naming timeoutMs, when every attempt runs past it', async () => {
    upstream.reset(() => ({ hang: true }));
    const e = await cityError(client({ timeoutMs: 100, connectTimeoutMs: 100, retries: 1 }).get('/hung'));
    expect(e).toMatchObject({ code: 'CITY_TIMEOUT', city, detail: 'no complete answer within 100 ms' });
    expect(upstream.requests).toHaveLength(2);
  });

  it('stops at once when the caller gives up, rejects with the signal\'s reason, and sends nothing more', async () => {
    const caller = new AbortController();
    const reason = new Error('the query is over');
    upstream.reset(() => {
      setTimeout(() => caller.abort(reason), 20);
      return busy;
    });
    // The first pause is drawn between 500 and 1000 ms.
    const http = client({ retries: 3, retryDelayMs: 1_000 });
    const started = performance.now();
    expect(await rejection(http.get('/busy', { signal: caller.signal }))).toBe(reason);
    expect(performance.now() - started).toBeLessThan(400);
    // Past the pause the retry would have taken.
    await sleep(1_100);
    expect(upstream.requests).toHaveLength(1);
  });

  it('rejects with the signal\'s reason, not CITY_TIMEOUT, when the caller gives up during an attempt', async () => {
    upstream.reset(() => ({ hang: true }));
    const caller = new AbortController();
    const reason = new Error('the query is over');
    setTimeout(() => caller.abort(reason), 50);
    expect(await rejection(client({ retries: 2 }).get('/hung', { signal: caller.signal }))).toBe(reason);
    expect(upstream.requests).toHaveLength(1);
  });
});

describe('the circuit breaker', () => {
  it('opens after breakerFailures failed attempts, then answers at once without asking the city', async () => {
    // A city that takes 300 ms to say it is busy: an answer sooner cannot be its.
    upstream.reset(() => ({ ...busy, delayMs: 300 }));
    const http = client({ breakerFailures: 3, breakerHalfOpenAfterMs: 60_000 });
    for (let i = 0; i < 3; i++) expect(await cityError(http.get('/down'))).toMatchObject({ code: 'CITY_UNAVAILABLE', detail: 'status 503' });
    expect(upstream.requests).toHaveLength(3);

    const started = performance.now();
    const e = await cityError(http.get('/down'));
    expect(performance.now() - started).toBeLessThan(150);
    expect(e).toMatchObject({ code: 'CITY_UNAVAILABLE', city });
    expect(e.detail).toMatch(/^circuit open since \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z: status 503$/);
    expect(upstream.requests).toHaveLength(3);
    expect(http.health()).toMatchObject({ circuit: 'open', reason: e.detail });
  });

  it('counts each attempt, so that retries do not hammer a city that is down', async () => {
    upstream.reset(() => busy);
    const http = client({ retries: 2, breakerFailures: 5, breakerHalfOpenAfterMs: 60_000 });
    await cityError(http.get('/down'));
    const e = await cityError(http.get('/down'));
    // The second request's third attempt found the circuit open.
    expect(upstream.requests).toHaveLength(5);
    expect(e.detail).toMatch(/^circuit open since /);
  });

  it('lets one request through after breakerHalfOpenAfterMs, and closes when it succeeds', async () => {
    upstream.reset(() => busy);
    const http = client({ breakerFailures: 2, breakerHalfOpenAfterMs: 200 });
    await cityError(http.get('/x'));
    await cityError(http.get('/x'));
    expect(http.health().circuit).toBe('open');
    upstream.reset(() => ok);
    expect(await cityError(http.get('/x'))).toMatchObject({ detail: expect.stringMatching(/^circuit open since /) });
    expect(upstream.requests).toHaveLength(0);

    await sleep(250);
    expect((await http.get('/x')).body.toString()).toBe('ok');
    expect(upstream.requests).toHaveLength(1);
    expect(http.health()).toMatchObject({ circuit: 'closed', reason: null });
    await http.get('/x');
    expect(upstream.requests).toHaveLength(2);
  });

  it('opens again at once when the probe after breakerHalfOpenAfterMs fails', async () => {
    upstream.reset(() => busy);
    const http = client({ breakerFailures: 2, breakerHalfOpenAfterMs: 200 });
    await cityError(http.get('/x'));
    await cityError(http.get('/x'));
    await sleep(250);
    expect(await cityError(http.get('/x'))).toMatchObject({ detail: 'status 503' });
    expect(await cityError(http.get('/x'))).toMatchObject({ detail: expect.stringMatching(/^circuit open since /) });
    expect(upstream.requests).toHaveLength(3);
  });

  it('does not count a 404, which says the request was wrong, not that the city is down; counts 401', async () => {
    upstream.reset(() => ({ status: 404 }));
    const http = client({ breakerFailures: 2, breakerHalfOpenAfterMs: 60_000 });
    for (let i = 0; i < 4; i++) expect(await cityError(http.get('/missing'))).toMatchObject({ detail: 'status 404' });
    expect(upstream.requests).toHaveLength(4);
    expect(http.health().circuit).toBe('closed');

    upstream.reset(() => ({ status: 401 }));
    await cityError(http.get('/x'));
    await cityError(http.get('/x'));
    expect(await cityError(http.get('/x'))).toMatchObject({ code: 'CITY_UNAVAILABLE', detail: expect.stringMatching(/: status 401$/) });
    expect(upstream.requests).toHaveLength(2);
  });

  it('does not count the caller giving up', async () => {
    upstream.reset(() => ({ hang: true }));
    const http = client({ breakerFailures: 1, breakerHalfOpenAfterMs: 60_000 });
    await rejection(http.get('/hung', { signal: AbortSignal.timeout(30) }));
    expect(http.health().circuit).toBe('closed');
  });
});

describe('the bulkhead', () => {
  it('holds the requests in flight to the source to maxConcurrent, the others waiting their turn', async () => {
    upstream.reset(() => ({ ...ok, delayMs: 40 }));
    const http = client({ maxConcurrent: 3, maxQueued: 20 });
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => http.get(`/r${i}`)));
    expect(answers.every((a) => a.body.toString() === 'ok')).toBe(true);
    expect(upstream.requests).toHaveLength(10);
    expect(upstream.maxInFlight()).toBe(3);
  });

  it('refuses at once, as CITY_UNAVAILABLE, a request beyond maxQueued, without holding it against the city', async () => {
    upstream.reset(() => ({ ...ok, delayMs: 100 }));
    const http = client({ maxConcurrent: 1, maxQueued: 1, breakerFailures: 1 });
    const settled = await Promise.allSettled([http.get('/a'), http.get('/b'), http.get('/c')]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
    expect((settled[2] as PromiseRejectedResult).reason).toMatchObject({ code: 'CITY_UNAVAILABLE', detail: 'too many requests to this source at once (1 in flight, 1 waiting)' });
    expect(upstream.requests.map((r) => r.url)).toEqual(['/a', '/b']);
    expect(http.health().circuit).toBe('closed');
  });
});

describe('the source\'s health', () => {
  it(`is DEGRADED once more than a fifth of the last ${RECENT_WINDOW} requests needed a retry, and UP again once they no longer do`, async () => {
    const seen = new Set<string>();
    // Each /hiccup path fails once, then answers; /fine always answers.
    upstream.reset((req) => {
      if (req.url === '/fine' || seen.has(req.url)) return ok;
      seen.add(req.url);
      return busy;
    });
    const http = client({ retries: 1, retryDelayMs: 1, breakerFailures: 100 });
    const status = () => withHealth({ status: 'UP', asOf: null }, http.health());

    // The share is of the whole window, not of the requests seen so far: 4 retried requests out of 4 are not enough.
    for (let i = 0; i < 4; i++) await http.get(`/hiccup-${i}`);
    expect(status()).toEqual({ status: 'UP', asOf: null });
    await http.get('/hiccup-4');
    expect(status()).toEqual({ status: 'DEGRADED', asOf: null, reason: 'needed retries on 5 of its last 5 requests' });

    for (let i = 0; i < RECENT_WINDOW - 5; i++) await http.get('/fine');
    expect(status()).toEqual({ status: 'DEGRADED', asOf: null, reason: `needed retries on 5 of its last ${RECENT_WINDOW} requests` });
    // The oldest hiccup leaves the window.
    await http.get('/fine');
    expect(status()).toEqual({ status: 'UP', asOf: null });
    expect(upstream.requests).toHaveLength(5 * 2 + RECENT_WINDOW - 4);
  });

  it('makes a source DOWN, with the reason, while its circuit is open; a snapshot source serving its last export stays STALE', async () => {
    upstream.reset(() => busy);
    const http = client({ breakerFailures: 1, breakerHalfOpenAfterMs: 60_000 });
    await cityError(http.get('/x'));
    const reason = expect.stringMatching(/^circuit open since .*: status 503$/);
    expect(withHealth({ status: 'UP', asOf: null }, http.health())).toEqual({ status: 'DOWN', asOf: null, reason });
    const asOf = new Date('2025-03-10T06:00:00Z');
    expect(withHealth({ status: 'STALE', asOf }, http.health())).toEqual({ status: 'STALE', asOf, reason });
  });
});

describe('mapConcurrently', () => {
  it('keeps the order of the items and never runs more than the limit at once', async () => {
    let running = 0;
    let most = 0;
    const out = await mapConcurrently([5, 1, 4, 2, 3], 2, async (n) => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, n));
      running--;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30]);
    expect(most).toBe(2);
  });
});
