import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CityError } from '../../schema/errors.ts';
import type { ConnectorDeps, LookupKey } from '../port.ts';
import { requestDefaults } from '../config.ts';
import { silentLogger } from '../../runtime/logger.ts';
import { closedPortUrl, file, fixture, routes, startUpstream, type Upstream } from './fixtures/upstream-server.ts';
import { createRestConnector, planChunks, type RestSource } from './rest.ts';

const city = '090064'; // Sassari
const json = 'application/json; charset=utf-8';
const apiKey = 'chiave-di-prova';

let upstream: Upstream;
let agent: Agent;
let clock = Date.parse('2025-03-10T08:00:00Z');
const deps = (): ConnectorDeps => ({ dispatcher: agent, now: () => clock, logger: silentLogger });

beforeAll(async () => {
  upstream = await startUpstream();
  agent = new Agent();
});
afterAll(async () => {
  await agent.close();
  await upstream.close();
});

// config.ts declares batchParams as an exhaustive record (zod 4 z.record over an enum); a source has one or the other.
const batch = (p: Partial<Record<LookupKey, string>>) => p as Record<LookupKey, string>;

/** A SIGeSS-like system: page numbers from 1, envelope `{ risultato: { elementi, totale } }`, key in X-API-Key. */
function peopleSource(overrides: Partial<RestSource> = {}): RestSource {
  return {
    kind: 'rest',
    id: 'main',
    domains: ['people', 'services'],
    baseUrl: upstream.baseUrl,
    apiKey,
    dateFormat: 'dd/mm/yyyy',
    listSeparator: ',',
    vocabularies: {},
    ...requestDefaults,
    timeoutMs: 5_000,
    // No retries here, so that every request counted is one the test expects; retries have their own test.
    retries: 0,
    auth: { header: 'X-API-Key', prefix: '', key: { env: 'SASSARI_API_KEY' } },
    paging: {
      style: 'page', startParam: 'pagina', sizeParam: 'dimensione', firstPage: 1, maxPageSize: 2,
      itemsPath: 'risultato.elementi', totalPath: 'risultato.totale',
    },
    maxBatchSize: 500,
    entities: {
      beneficiaries: {
        path: '/api/v1/assistiti',
        fields: {
          localId: 'id', fiscalCode: 'codiceFiscale', givenName: 'nome', familyName: 'cognome', sex: 'sesso',
          birthDate: 'dataNascita', citizenship: 'cittadinanza', permitType: 'permesso', vulnerabilities: 'vulnerabilita',
          intakeDate: 'dataPresaInCarico', intakeChannel: 'canale', intakeStatus: 'stato',
        },
        batchParams: batch({ localId: 'codici' }),
        filters: {},
      },
      enrollments: {
        path: '/api/v1/iscrizioni',
        fields: { localId: 'id', beneficiaryId: 'assistito', serviceId: 'servizio', from: 'dal', to: 'al' },
        batchParams: batch({ beneficiaryId: 'assistiti' }),
        filters: {},
      },
    },
    ...overrides,
  };
}

const page = (n: number) => JSON.parse(fixture(`rest/assistiti-pagina-${n}.json`).toString()).risultato.elementi;
const sorted = (urls: string[]) => [...urls].sort();
const urls = () => upstream.requests.map((r) => r.url);

/** The rejection of `p`, which must be a CityError. */
async function cityError(p: Promise<unknown>): Promise<CityError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(CityError);
  return e as CityError;
}

describe('paging', () => {
  it('asks for one page when the slice is a page, with the API key, and answers its rows and the total', async () => {
    upstream.reset(routes({ '/api/v1/assistiti?pagina=1&dimensione=2': file('rest/assistiti-pagina-1.json', json) }));
    const connector = createRestConnector(city, peopleSource(), deps());

    const result = await connector.page('beneficiaries', { offset: 0, limit: 2 });

    expect(result).toEqual({ rows: page(1), total: 5 });
    expect(result.rows.map((r) => r['nome'])).toEqual(['Niccolò', 'Josè']);
    expect(upstream.requests).toHaveLength(1);
    expect(upstream.requests[0]).toMatchObject({ method: 'GET', url: '/api/v1/assistiti?pagina=1&dimensione=2' });
    expect(upstream.requests[0]!.headers['x-api-key']).toBe(apiKey);
  });

  it('serves an offset off the page boundary from the covering pages, sliced', async () => {
    upstream.reset(routes({
      '/api/v1/assistiti?pagina=1&dimensione=2': file('rest/assistiti-pagina-1.json', json),
      '/api/v1/assistiti?pagina=2&dimensione=2': file('rest/assistiti-pagina-2.json', json),
    }));
    const connector = createRestConnector(city, peopleSource(), deps());

    const result = await connector.page('beneficiaries', { offset: 1, limit: 2 });

    expect(result.rows.map((r) => r['id'])).toEqual(['A002', 'A003']);
    expect(result.rows.map((r) => r['cognome'])).toEqual(['Mendoza', "D'Amico"]);
    expect(result.total).toBe(5);
    expect(sorted(urls())).toEqual(['/api/v1/assistiti?pagina=1&dimensione=2', '/api/v1/assistiti?pagina=2&dimensione=2']);
  });

  it('never asks for more than maxPageSize rows in one request', async () => {
    upstream.reset(routes({
      '/api/v1/assistiti?pagina=1&dimensione=2': file('rest/assistiti-pagina-1.json', json),
      '/api/v1/assistiti?pagina=2&dimensione=2': file('rest/assistiti-pagina-2.json', json),
      '/api/v1/assistiti?pagina=3&dimensione=2': file('rest/assistiti-pagina-3.json', json),
    }));
    const connector = createRestConnector(city, peopleSource(), deps());

    const result = await connector.page('beneficiaries', { offset: 0, limit: 5 });

    expect(result.rows.map((r) => r['id'])).toEqual(['A001', 'A002', 'A003', 'A004', 'A005']);
    expect(sorted(urls())).toEqual([1, 2, 3].map((n) => `/api/v1/assistiti?pagina=${n}&dimensione=2`));
  });

  it('answers no rows, and the total, for a slice past the end', async () => {
    upstream.reset(routes({ '/api/v1/assistiti?pagina=6&dimensione=2': file('rest/assistiti-pagina-6.json', json) }));
    const connector = createRestConnector(city, peopleSource(), deps());

    expect(await connector.page('beneficiaries', { offset: 10, limit: 2 })).toEqual({ rows: [], total: 5 });
    expect(urls()).toEqual(['/api/v1/assistiti?pagina=6&dimensione=2']);
  });

  it('passes offset and limit through to an offset-style source, with a bearer token', async () => {
    upstream.reset(routes({ '/housing/strutture?offset=1&limit=2': file('rest/strutture-offset-1-limit-2.json', 'application/json') }));
    const connector = createRestConnector(city, peopleSource({
      id: 'housing',
      domains: ['housing'],
      apiKey: 'tok-123',
      auth: { header: 'Authorization', prefix: 'Bearer ', key: { env: 'SASSARI_HOUSING_TOKEN' } },
      paging: { style: 'offset', startParam: 'offset', sizeParam: 'limit', firstPage: 1, maxPageSize: 50, itemsPath: 'data', totalPath: 'meta.total' },
      entities: {
        housingResources: {
          path: '/housing/strutture',
          fields: { localId: 'codice', name: 'denominazione', kind: 'tipologia', capacity: 'posti', occupancy: 'occupati' },
          batchParams: batch({}),
          filters: {},
        },
      },
    }), deps());

    const result = await connector.page('housingResources', { offset: 1, limit: 2 });

    expect(result.total).toBe(3);
    expect(result.rows.map((r) => r['denominazione'])).toEqual(['Appartamento Via Roma 12', "Struttura Sant'Agostino"]);
    expect(upstream.requests).toHaveLength(1);
    expect(upstream.requests[0]!.headers['authorization']).toBe('Bearer tok-123');
  });

  it('plans the fewest requests, then the fewest rows', () => {
    expect(planChunks('page', 0, 2, 100)).toEqual({ size: 2, starts: [0] });
    expect(planChunks('page', 5, 10, 100)).toEqual({ size: 100, starts: [0] });
    expect(planChunks('page', 50, 100, 100)).toEqual({ size: 100, starts: [0, 100] });
    expect(planChunks('page', 0, 250, 100)).toEqual({ size: 100, starts: [0, 100, 200] });
    expect(planChunks('offset', 7, 250, 100)).toEqual({ size: 100, starts: [7, 107, 207] });
    expect(planChunks('offset', 7, 0, 100)).toEqual({ size: 1, starts: [7] });
  });

  it('refuses a page shorter than asked while more rows remain (the source pages by a smaller size of its own)', async () => {
    const capped = JSON.stringify({ risultato: { elementi: page(1).slice(0, 1), totale: 5 } });
    upstream.reset(routes({ '/api/v1/assistiti?pagina=1&dimensione=2': { headers: { 'content-type': json }, body: capped } }));
    const connector = createRestConnector(city, peopleSource(), deps());

    const e = await cityError(connector.page('beneficiaries', { offset: 0, limit: 2 }));
    expect(e).toMatchObject({ code: 'CITY_BAD_RESPONSE', city });
    expect(e.message).toContain('maxPageSize');
  });
});

describe('batch look-ups', () => {
  it('asks once for a batch of ids, deduplicated, commas kept', async () => {
    upstream.reset(routes({
      '/api/v1/assistiti?codici=A001,A003&pagina=1&dimensione=500': file('rest/assistiti-codici-A001-A003.json', json),
    }));
    const connector = createRestConnector(city, peopleSource({
      paging: { ...peopleSource().paging, maxPageSize: 500 },
    }), deps());

    const rows = await connector.lookup('beneficiaries', 'localId', ['A001', 'A003', 'A001']);

    expect(rows.map((r) => r['nome'])).toEqual(['Niccolò', 'Ngozi']);
    expect(urls()).toEqual(['/api/v1/assistiti?codici=A001,A003&pagina=1&dimensione=500']);
    expect(upstream.requests[0]!.headers['x-api-key']).toBe(apiKey);
  });

  it('splits 1200 ids into exactly 3 requests of at most maxBatchSize', async () => {
    upstream.reset((req) => {
      const query = new URL(req.url, 'http://x').searchParams;
      const ids = query.get('codici')!.split(',');
      const elementi = ids.map((id) => ({ id, nome: `Persona ${id}` }));
      return { headers: { 'content-type': json }, body: JSON.stringify({ risultato: { elementi, totale: elementi.length } }) };
    });
    const connector = createRestConnector(city, peopleSource({ paging: { ...peopleSource().paging, maxPageSize: 1000 } }), deps());
    const ids = Array.from({ length: 1200 }, (_, i) => `B${String(i).padStart(4, '0')}`);

    const rows = await connector.lookup('beneficiaries', 'localId', ids);

    expect(upstream.requests).toHaveLength(3);
    const sizes = upstream.requests.map((r) => new URL(r.url, 'http://x').searchParams.get('codici')!.split(',').length);
    expect(sizes.sort((a, b) => a - b)).toEqual([200, 500, 500]);
    expect(new Set(rows.map((r) => r['id']))).toEqual(new Set(ids));
  });

  it('follows the pages of a paged batch answer until the total is reached', async () => {
    upstream.reset(routes({
      '/api/v1/iscrizioni?assistiti=A001,A002&pagina=1&dimensione=2': file('rest/iscrizioni-assistiti-A001-A002-pagina-1.json', json),
      '/api/v1/iscrizioni?assistiti=A001,A002&pagina=2&dimensione=2': file('rest/iscrizioni-assistiti-A001-A002-pagina-2.json', json),
    }));
    const connector = createRestConnector(city, peopleSource(), deps());

    const rows = await connector.lookup('enrollments', 'beneficiaryId', ['A001', 'A002']);

    expect(rows.map((r) => r['id'])).toEqual(['I01', 'I02', 'I03']);
    expect(upstream.requests).toHaveLength(2);
  });

  it('without a batch parameter, reads the whole entity and keeps the rows asked for', async () => {
    upstream.reset(routes({
      '/api/v1/assistiti?pagina=1&dimensione=2': file('rest/assistiti-pagina-1.json', json),
      '/api/v1/assistiti?pagina=2&dimensione=2': file('rest/assistiti-pagina-2.json', json),
      '/api/v1/assistiti?pagina=3&dimensione=2': file('rest/assistiti-pagina-3.json', json),
    }));
    const source = peopleSource();
    const connector = createRestConnector(city, {
      ...source,
      entities: { beneficiaries: { ...source.entities.beneficiaries!, batchParams: batch({}) } },
    }, deps());

    const rows = await connector.lookup('beneficiaries', 'localId', ['A005', 'A002', 'Z999']);

    expect(rows.map((r) => r['id'])).toEqual(['A002', 'A005']);
    expect(sorted(urls())).toEqual([1, 2, 3].map((n) => `/api/v1/assistiti?pagina=${n}&dimensione=2`));
  });

  it('makes no request for an empty list of ids', async () => {
    upstream.reset(routes({}));
    const connector = createRestConnector(city, peopleSource(), deps());
    expect(await connector.lookup('beneficiaries', 'localId', [])).toEqual([]);
    expect(upstream.requests).toHaveLength(0);
  });

  it('says the city has no source for an entity the source does not serve, without asking upstream', async () => {
    upstream.reset(routes({}));
    const connector = createRestConnector(city, peopleSource(), deps());

    const e = await cityError(connector.page('placements', { offset: 0, limit: 10 }));
    expect(e).toMatchObject({ code: 'CITY_NOT_CONFIGURED', city });
    expect(upstream.requests).toHaveLength(0);
    expect(connector.status().status).toBe('UNKNOWN');
  });
});

describe('errors', () => {
  it('reports a refused connection as CITY_UNAVAILABLE', async () => {
    const connector = createRestConnector(city, peopleSource({ baseUrl: await closedPortUrl() }), deps());
    const e = await cityError(connector.page('beneficiaries', { offset: 0, limit: 2 }));
    expect(e).toMatchObject({ code: 'CITY_UNAVAILABLE', city });
    expect(e.message).toContain('ECONNREFUSED');
  });

  it('gives up on a server that never answers after timeoutMs, as CITY_TIMEOUT', async () => {
    upstream.reset(() => ({ hang: true }));
    const connector = createRestConnector(city, peopleSource({ timeoutMs: 200 }), deps());
    const e = await cityError(connector.page('beneficiaries', { offset: 0, limit: 2 }));
    expect(e).toMatchObject({ code: 'CITY_TIMEOUT', city });
    expect(e.message).toContain('200 ms');
  }, 10_000);

  it('rethrows the caller\'s own abort rather than calling it a timeout, and does not mark the city down', async () => {
    upstream.reset(() => ({ hang: true }));
    const connector = createRestConnector(city, peopleSource({ timeoutMs: 5_000 }), deps());
    const controller = new AbortController();
    const reason = new Error('client went away');
    const pending = connector.page('beneficiaries', { offset: 0, limit: 2 }, controller.signal);
    setTimeout(() => controller.abort(reason), 50);
    await expect(pending).rejects.toBe(reason);
    expect(connector.status().status).toBe('UNKNOWN');
  }, 10_000);

  it('reports an HTML page sent with status 200 as CITY_BAD_RESPONSE, without quoting it', async () => {
    upstream.reset(() => file('html/manutenzione.html', 'text/html; charset=utf-8'));
    const connector = createRestConnector(city, peopleSource(), deps());
    const e = await cityError(connector.page('beneficiaries', { offset: 0, limit: 2 }));
    expect(e).toMatchObject({ code: 'CITY_BAD_RESPONSE', city });
    expect(e.message).toContain('expected JSON, got text/html');
    expect(e.message).not.toContain('Niccolò');
  });

  it('reports 401 as CITY_AUTH_FAILED', async () => {
    upstream.reset(() => ({ status: 401, headers: { 'content-type': 'application/json' }, body: '{"errore":"chiave non valida"}' }));
    const connector = createRestConnector(city, peopleSource(), deps());
    const e = await cityError(connector.page('beneficiaries', { offset: 0, limit: 2 }));
    expect(e).toMatchObject({ code: 'CITY_AUTH_FAILED', city });
    expect(e.message).toContain('status 401');
  });

  it('reports 500 as CITY_UNAVAILABLE, never repeating the body (it names a person)', async () => {
    upstream.reset(() => ({ status: 500, headers: { 'content-type': json }, body: fixture('rest/errore-500.json') }));
    const connector = createRestConnector(city, peopleSource(), deps());
    const e = await cityError(connector.page('beneficiaries', { offset: 0, limit: 2 }));
    expect(e).toMatchObject({ code: 'CITY_UNAVAILABLE', city });
    expect(e.message).toContain('status 500');
    expect(e.message).not.toMatch(/Niccolò|BBENCC90B03Z315K/);
  });

  it('reports a body cut in the middle of the JSON as CITY_BAD_RESPONSE, without quoting it', async () => {
    upstream.reset(() => file('rest/assistiti-troncato.json', json));
    const connector = createRestConnector(city, peopleSource(), deps());
    const e = await cityError(connector.page('beneficiaries', { offset: 0, limit: 2 }));
    expect(e).toMatchObject({ code: 'CITY_BAD_RESPONSE', city });
    expect(e.message).toContain('does not parse');
    expect(e.message).not.toMatch(/Nicc|A001/);
    expect(e.cause).toBeUndefined();
  });

  it('reports items that are not records as CITY_BAD_RESPONSE', async () => {
    upstream.reset(() => file('rest/assistiti-elementi-non-record.json', json));
    const connector = createRestConnector(city, peopleSource(), deps());
    const e = await cityError(connector.page('beneficiaries', { offset: 0, limit: 2 }));
    expect(e).toMatchObject({ code: 'CITY_BAD_RESPONSE', city });
    expect(e.message).toContain('risultato.elementi');
  });

  it('reports a negative total as CITY_BAD_RESPONSE', async () => {
    upstream.reset(() => file('rest/assistiti-totale-negativo.json', json));
    const connector = createRestConnector(city, peopleSource(), deps());
    const e = await cityError(connector.page('beneficiaries', { offset: 0, limit: 2 }));
    expect(e).toMatchObject({ code: 'CITY_BAD_RESPONSE', city });
    expect(e.message).toContain('risultato.totale');
  });
});

describe('status', () => {
  it('is UNKNOWN before any call, UP as of the last good answer, DOWN after a failed call', async () => {
    const connector = createRestConnector(city, peopleSource(), deps());
    expect(connector.status()).toEqual({ status: 'UNKNOWN', asOf: null });

    upstream.reset(routes({ '/api/v1/assistiti?pagina=1&dimensione=2': file('rest/assistiti-pagina-1.json', json) }));
    clock = Date.parse('2025-03-10T09:30:00Z');
    await connector.page('beneficiaries', { offset: 0, limit: 2 });
    expect(connector.status()).toEqual({ status: 'UP', asOf: new Date('2025-03-10T09:30:00Z') });

    upstream.reset(() => ({ status: 503 }));
    clock = Date.parse('2025-03-10T09:31:00Z');
    const e = await cityError(connector.page('beneficiaries', { offset: 0, limit: 2 }));
    expect(e).toMatchObject({ code: 'CITY_UNAVAILABLE', city });
    expect(connector.status()).toEqual({ status: 'DOWN', asOf: new Date('2025-03-10T09:30:00Z') });
  });
});

describe('status under the resilience policy', () => {
  const firstPage = '/api/v1/assistiti?pagina=1&dimensione=2';

  it('is DOWN, saying since when and why, while the circuit is open, and UP once the probe after it succeeds', async () => {
    const connector = createRestConnector(city, peopleSource({ breakerFailures: 2, breakerHalfOpenAfterMs: 150 }), deps());
    upstream.reset(() => ({ status: 503 }));
    clock = Date.parse('2025-03-10T09:31:00Z');
    await cityError(connector.page('beneficiaries', { offset: 0, limit: 2 }));
    await cityError(connector.page('beneficiaries', { offset: 0, limit: 2 }));
    const open = 'circuit open since 2025-03-10T09:31:00.000Z: status 503';
    expect(connector.status()).toEqual({ status: 'DOWN', asOf: null, reason: open });

    upstream.reset(routes({ [firstPage]: file('rest/assistiti-pagina-1.json', json) }));
    expect(await cityError(connector.page('beneficiaries', { offset: 0, limit: 2 }))).toMatchObject({ code: 'CITY_UNAVAILABLE', detail: open });
    expect(upstream.requests).toHaveLength(0);
    await new Promise((resolve) => setTimeout(resolve, 200));
    clock = Date.parse('2025-03-10T09:32:00Z');
    expect((await connector.page('beneficiaries', { offset: 0, limit: 2 })).total).toBe(5);
    expect(connector.status()).toEqual({ status: 'UP', asOf: new Date('2025-03-10T09:32:00Z') });
  });

  it('is DEGRADED, saying why, when it answers but needed retries on more than a fifth of its recent requests', async () => {
    const connector = createRestConnector(city, peopleSource({ retries: 1, retryDelayMs: 1 }), deps());
    let served = 0;
    // Every other request is refused once, then answered.
    upstream.reset(() => (served++ % 2 === 0 ? { status: 503 } : file('rest/assistiti-pagina-1.json', json)));
    for (let i = 0; i < 5; i++) await connector.page('beneficiaries', { offset: 0, limit: 2 });
    expect(upstream.requests).toHaveLength(10);
    expect(connector.status()).toEqual({ status: 'DEGRADED', asOf: new Date(clock), reason: 'needed retries on 5 of its last 5 requests' });
  });
});
