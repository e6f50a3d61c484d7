import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CityError } from '../../schema/errors.ts';
import type { ResolvedSource } from '../config.ts';
import { silentLogger } from '../../runtime/logger.ts';
import { startUpstream, type Upstream } from './fixtures/upstream-server.ts';
import { buildUrl, createHttpClient, mapConcurrently, mediaType } from './http.ts';

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

function client(retries = 0) {
  const source = {
    kind: 'csv', id: 'export', domains: ['people'], baseUrl: upstream.baseUrl, apiKey: null, dateFormat: 'dd/mm/yyyy',
    listSeparator: ',', vocabularies: {}, timeoutMs: 5_000, retries, encoding: 'windows-1252', delimiter: ';', revalidateMs: 0, entities: {},
  } satisfies ResolvedSource;
  return createHttpClient(city, source, { dispatcher: agent, now: Date.now, logger: silentLogger });
}

async function cityError(p: Promise<unknown>): Promise<CityError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
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

  it('tries a read again after a server error, and only after a server error', async () => {
    let served = 0;
    upstream.reset((req) => {
      if (req.url === '/missing') return { status: 404, body: 'no' };
      served++;
      return served === 1 ? { status: 503, body: 'busy' } : { status: 200, body: 'ok', headers: { 'content-type': 'text/plain' } };
    });
    const http = client(1);
    expect((await http.get('/flaky')).body.toString()).toBe('ok');
    expect(upstream.requests.map((r) => r.url)).toEqual(['/flaky', '/flaky']);

    upstream.reset((req) => (req.url === '/missing' ? { status: 404, body: 'no' } : { status: 503, body: 'busy' }));
    expect(await cityError(http.get('/down'))).toMatchObject({ code: 'CITY_UNAVAILABLE', city });
    expect(await cityError(http.get('/missing'))).toMatchObject({ code: 'CITY_BAD_RESPONSE', city });
    // Two attempts at the failing read, one at the missing page: a 404 is an answer, not a hiccup.
    expect(upstream.requests.map((r) => r.url)).toEqual(['/down', '/down', '/missing']);
  });

  it('reports 404 as CITY_BAD_RESPONSE and 403 as CITY_AUTH_FAILED, and the connection stays usable', async () => {
    upstream.reset((req) => (req.url === '/missing'
      ? { status: 404, body: 'x'.repeat(500_000) }
      : { status: 403, body: 'forbidden' }));
    const http = client();

    expect(await cityError(http.get('/missing'))).toMatchObject({ code: 'CITY_BAD_RESPONSE', city, detail: 'status 404' });
    expect(await cityError(http.get('/forbidden'))).toMatchObject({ code: 'CITY_AUTH_FAILED', city, detail: 'status 403' });
  });

  it('reports a connection dropped in the middle of the body as CITY_UNAVAILABLE', async () => {
    upstream.reset(() => ({ headers: { 'content-type': 'application/json', 'content-length': '1000' }, dropAfter: '{"risultato":' }));
    const e = await cityError(client().getJson('/dropped'));
    expect(e).toMatchObject({ code: 'CITY_UNAVAILABLE', city });
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
