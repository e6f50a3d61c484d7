import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CityError } from '../../schema/errors.ts';
import { silentLogger } from '../../runtime/logger.ts';
import { requestDefaults } from '../config.ts';
import { rowDefect, type ConnectorDeps, type LookupKey } from '../port.ts';
import { SoapSource as SoapSourceSchema } from './soap-config.ts';
import { createSoapConnector, type SoapSource } from './soap.ts';
import { closedPortUrl } from './fixtures/upstream-server.ts';

const city = '001272'; // Torino
const xml = 'text/xml; charset=utf-8';
const endpoint = '/ws/CartellaSociale';
const action = 'urn:cartellasociale:RicercaAssistiti';

// fixtures/upstream-server.ts does not record request bodies, and a SOAP request is all body: a small recorder of its own.
interface Posted {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}
interface Reply {
  status?: number;
  type?: string;
  body?: string | Buffer;
  hang?: boolean;
  /** Promise the whole body, send this many bytes of it, then cut the connection. */
  cutAfter?: number;
}
let handler: (req: Posted) => Reply = () => ({ status: 404 });
const requests: Posted[] = [];
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const posted = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
    requests.push(posted);
    const reply = handler(posted);
    if (reply.hang) return;
    const body = Buffer.from(reply.body ?? '');
    res.writeHead(reply.status ?? 200, { 'content-type': reply.type ?? xml, 'content-length': String(body.length) });
    if (reply.cutAfter !== undefined) res.write(body.subarray(0, reply.cutAfter), () => res.destroy());
    else res.end(body);
  });
});
const reset = (h: (req: Posted) => Reply) => {
  handler = h;
  requests.length = 0;
};
const fixture = (name: string) => readFileSync(join(import.meta.dirname, 'fixtures', 'soap', name));
const file = (name: string, status = 200): Reply => ({ status, body: fixture(name) });
const wsdl = file('cartella-sociale.wsdl');
const posts = () => requests.filter((r) => r.method === 'POST');

/** Answers the WSDL, and each envelope by its exact text; anything else is a client fault. */
function envelopes(table: Record<string, Reply>): (req: Posted) => Reply {
  return (req) => {
    if (req.method === 'GET' && req.url === `${endpoint}?wsdl`) return wsdl;
    return table[req.body] ?? file('fault-client-pagina.xml', 500);
  };
}
const requestOf = (page: number, size: number, ids?: string[]) =>
  '<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>' +
  '<RicercaAssistitiRichiesta xmlns="http://cartellasociale.comune.example.it/ws/v1">' +
  (ids ? `<elencoCodici>${ids.map((id) => `<codice>${id}</codice>`).join('')}</elencoCodici>` : '') +
  `<pagina>${page}</pagina><dimensionePagina>${size}</dimensionePagina></RicercaAssistitiRichiesta></soap:Body></soap:Envelope>`;

let baseUrl: string;
let agent: Agent;
let clock = Date.parse('2025-03-10T08:00:00Z');
const deps = (): ConnectorDeps => ({ dispatcher: agent, now: () => clock, logger: silentLogger });

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  agent = new Agent();
});
afterAll(async () => {
  await agent.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const batch = (p: Partial<Record<LookupKey, string>>) => p as Record<LookupKey, string>;

/** A case-management service: pages of 2 from page 1, ids listed in `<elencoCodici>`, a key in X-API-Key. */
function soapSource(overrides: Partial<SoapSource> = {}): SoapSource {
  return {
    kind: 'soap',
    id: 'main',
    domains: ['people'],
    baseUrl,
    apiKey: 'chiave-di-prova',
    dateFormat: 'dd/mm/yyyy',
    listSeparator: ',',
    vocabularies: {},
    ...requestDefaults,
    retries: 0,
    auth: { header: 'X-API-Key', prefix: '', key: { env: 'TORINO_API_KEY' } },
    namespace: 'http://cartellasociale.comune.example.it/ws/v1',
    elementFormDefault: 'qualified',
    paging: { style: 'page', startParam: 'pagina', sizeParam: 'dimensionePagina', firstPage: 1, maxPageSize: 2 },
    maxBatchSize: 2,
    checkWsdl: true,
    entities: {
      beneficiaries: {
        path: endpoint,
        operation: 'RicercaAssistiti',
        soapAction: action,
        request: 'RicercaAssistitiRichiesta',
        recordsPath: 'RicercaAssistitiRisposta.assistiti.assistito',
        totalPath: 'RicercaAssistitiRisposta.totaleRecord',
        batchParams: batch({ localId: 'elencoCodici.codice' }),
        fields: {
          localId: '@id', fiscalCode: 'anagrafica.codiceFiscale', givenName: 'anagrafica.nome', familyName: 'anagrafica.cognome',
          sex: 'anagrafica.sesso', birthDate: 'anagrafica.dataNascita', citizenship: 'anagrafica.cittadinanza@codice',
          permitType: 'permesso.tipo.codice', vulnerabilities: 'vulnerabilita.voce', intakeDate: 'presaInCarico.data',
          intakeChannel: 'presaInCarico.canale', intakeStatus: 'presaInCarico.stato',
        },
      },
    },
    ...overrides,
  } as SoapSource;
}

async function cityError(p: Promise<unknown>): Promise<CityError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(CityError);
  return e as CityError;
}

describe('paging', () => {
  it('posts the exact envelope of a page to the endpoint, with SOAPAction, content type and key, after reading the WSDL once', async () => {
    reset(envelopes({ [fixture('richiesta-assistiti-pagina-1.xml').toString()]: file('ricerca-assistiti-pagina-1.xml') }));
    const connector = createSoapConnector(city, soapSource(), deps());

    const result = await connector.page('beneficiaries', { offset: 0, limit: 2 });
    await connector.page('beneficiaries', { offset: 0, limit: 2 });

    expect(result.total).toBe(3);
    expect(result.rows.map((r) => r['anagrafica.nome'])).toEqual(['Niccolò', 'Josè']);
    expect(requests.map((r) => `${r.method} ${r.url}`)).toEqual([`GET ${endpoint}?wsdl`, `POST ${endpoint}`, `POST ${endpoint}`]);
    const post = posts()[0]!;
    expect(post.body).toBe(fixture('richiesta-assistiti-pagina-1.xml').toString());
    expect(post.headers['soapaction']).toBe(`"${action}"`);
    expect(post.headers['content-type']).toBe('text/xml; charset=utf-8');
    expect(post.headers['x-api-key']).toBe('chiave-di-prova');
    // No header of the graph's own leaves the process.
    expect(Object.keys(post.headers).filter((h) => h.startsWith('x-lgnet'))).toEqual([]);
  });

  it('flattens each record to dotted paths: attributes, repeated children as a list, empty elements, xsi:nil as null', async () => {
    reset(envelopes({ [requestOf(1, 2)]: file('ricerca-assistiti-pagina-1.xml') }));
    const connector = createSoapConnector(city, soapSource(), deps());

    const { rows } = await connector.page('beneficiaries', { offset: 0, limit: 2 });

    expect(rows[0]).toEqual({
      '@id': 'A001',
      'anagrafica.nome': 'Niccolò', 'anagrafica.cognome': 'Bianchi', 'anagrafica.codiceFiscale': 'BNCNCC90B03Z315K',
      'anagrafica.sesso': 'M', 'anagrafica.dataNascita': '03/02/1990', 'anagrafica.cittadinanza': 'Nigeria', 'anagrafica.cittadinanza@codice': 'NG',
      'permesso.tipo.codice': 'RICH_ASILO',
      'vulnerabilita.voce': ['SENZA_DIMORA', 'SALUTE_MENTALE'],
      'presaInCarico.data': '10/01/2024', 'presaInCarico.canale': 'SPORTELLO', 'presaInCarico.stato': 'ATTIVO',
      'presaInCarico.dataChiusura': null, 'presaInCarico.note': '',
    });
    expect(rows[1]!['presaInCarico.dataChiusura']).toBe('30/06/2024');
  });

  it('reads a response with other prefixes and a default namespace, and a single record as a list of one', async () => {
    reset(envelopes({ [requestOf(2, 2)]: file('ricerca-assistiti-pagina-2.xml') }));
    const connector = createSoapConnector(city, soapSource(), deps());

    const result = await connector.page('beneficiaries', { offset: 2, limit: 2 });

    expect(result.total).toBe(3);
    expect(result.rows.map((r) => r['@id'])).toEqual(['A003']);
    expect(result.rows[0]!['anagrafica.cognome']).toBe("D'Amico");
    expect(result.rows[0]!['vulnerabilita']).toBe('');
  });

  it('serves an offset off the page boundary from the covering pages, sliced', async () => {
    reset(envelopes({ [requestOf(1, 2)]: file('ricerca-assistiti-pagina-1.xml'), [requestOf(2, 2)]: file('ricerca-assistiti-pagina-2.xml') }));
    const connector = createSoapConnector(city, soapSource(), deps());

    const result = await connector.page('beneficiaries', { offset: 1, limit: 2 });

    expect(result.rows.map((r) => r['@id'])).toEqual(['A002', 'A003']);
    expect(posts().map((r) => r.body).sort()).toEqual([requestOf(1, 2), requestOf(2, 2)].sort());
  });

  it('answers no rows, and the total, for a page past the end whose list is empty', async () => {
    reset(envelopes({ [requestOf(6, 2)]: file('ricerca-assistiti-vuota.xml') }));
    const connector = createSoapConnector(city, soapSource(), deps());
    expect(await connector.page('beneficiaries', { offset: 10, limit: 2 })).toEqual({ rows: [], total: 3 });
  });

  it('sends offset and count to an offset-style service, with its child elements unqualified', async () => {
    const unqualified =
      '<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>' +
      '<tns:RicercaAssistitiRichiesta xmlns:tns="http://cartellasociale.comune.example.it/ws/v1"><primo>2</primo><quanti>2</quanti></tns:RicercaAssistitiRichiesta></soap:Body></soap:Envelope>';
    reset(envelopes({ [unqualified]: file('ricerca-assistiti-pagina-2.xml') }));
    const connector = createSoapConnector(city, soapSource({
      elementFormDefault: 'unqualified',
      paging: { style: 'offset', startParam: 'primo', sizeParam: 'quanti', firstPage: 1, maxPageSize: 2 },
    }), deps());

    expect((await connector.page('beneficiaries', { offset: 2, limit: 2 })).rows.map((r) => r['@id'])).toEqual(['A003']);
    expect(posts().map((r) => r.body)).toEqual([unqualified]);
  });

  it('rejects a record element it cannot read as that one row, and serves the others', async () => {
    reset(envelopes({ [requestOf(1, 2)]: file('ricerca-assistiti-record-illeggibile.xml') }));
    const connector = createSoapConnector(city, soapSource(), deps());

    const { rows } = await connector.page('beneficiaries', { offset: 0, limit: 2 });

    expect(rows).toHaveLength(2);
    expect(rows[0]![rowDefect]).toBe('record element without fields');
    expect(Object.keys(rows[0]!)).toEqual([]);
    expect(rows[1]!['anagrafica.nome']).toBe('Josè');
  });
});

describe('batch look-ups', () => {
  it('posts one envelope listing the ids, deduplicated', async () => {
    reset(envelopes({ [fixture('richiesta-assistiti-codici-A001-A003.xml').toString()]: file('ricerca-assistiti-codici-A001-A003.xml') }));
    const connector = createSoapConnector(city, soapSource(), deps());

    const rows = await connector.lookup('beneficiaries', 'localId', ['A001', 'A003', 'A001']);

    expect(rows.map((r) => r['anagrafica.nome'])).toEqual(['Niccolò', 'Ngozi']);
    expect(posts().map((r) => r.body)).toEqual([fixture('richiesta-assistiti-codici-A001-A003.xml').toString()]);
  });

  it('splits 5 ids into exactly 3 requests of at most maxBatchSize', async () => {
    reset((req) => {
      if (req.method === 'GET') return wsdl;
      const ids = [...req.body.matchAll(/<codice>([^<]+)<\/codice>/g)].map((m) => m[1]!);
      const records = ids.map((id) => `<assistito id="${id}"><anagrafica><nome>Persona ${id}</nome></anagrafica></assistito>`).join('');
      return { body: `<Envelope><Body><RicercaAssistitiRisposta><totaleRecord>${ids.length}</totaleRecord><assistiti>${records}</assistiti></RicercaAssistitiRisposta></Body></Envelope>` };
    });
    const connector = createSoapConnector(city, soapSource(), deps());
    const ids = ['B1', 'B2', 'B3', 'B4', 'B5'];

    const rows = await connector.lookup('beneficiaries', 'localId', ids);

    const sizes = posts().map((r) => [...r.body.matchAll(/<codice>/g)].length);
    expect(sizes.sort()).toEqual([1, 2, 2]);
    expect(new Set(rows.map((r) => r['@id']))).toEqual(new Set(ids));
  });

  it('without a batch list, reads the whole entity and keeps the rows asked for', async () => {
    reset(envelopes({ [requestOf(1, 2)]: file('ricerca-assistiti-pagina-1.xml'), [requestOf(2, 2)]: file('ricerca-assistiti-pagina-2.xml') }));
    const source = soapSource();
    const connector = createSoapConnector(city, soapSource({
      entities: { beneficiaries: { ...source.entities.beneficiaries!, batchParams: batch({}) } },
    }), deps());

    const rows = await connector.lookup('beneficiaries', 'localId', ['A003', 'A001', 'Z999']);

    expect(rows.map((r) => r['@id'])).toEqual(['A001', 'A003']);
    expect(posts()).toHaveLength(2);
  });

  it('makes no request for an empty list of ids', async () => {
    reset(envelopes({}));
    const connector = createSoapConnector(city, soapSource(), deps());
    expect(await connector.lookup('beneficiaries', 'localId', [])).toEqual([]);
    expect(requests).toHaveLength(0);
  });
});

describe('the WSDL', () => {
  it('names an operation the WSDL does not declare as CITY_NOT_CONFIGURED, without posting anything', async () => {
    reset(envelopes({}));
    const source = soapSource();
    const connector = createSoapConnector(city, soapSource({
      entities: { beneficiaries: { ...source.entities.beneficiaries!, operation: 'ElencoAssistiti' } },
    }), deps());

    const e = await cityError(connector.page('beneficiaries', { offset: 0, limit: 2 }));
    expect(e).toMatchObject({ code: 'CITY_NOT_CONFIGURED', city });
    expect(e.message).toContain('"ElencoAssistiti"');
    expect(posts()).toHaveLength(0);
    expect(connector.status().status).toBe('UNKNOWN');
  });

  it('names a SOAPAction that differs from the WSDL\'s as CITY_NOT_CONFIGURED', async () => {
    reset(envelopes({}));
    const source = soapSource();
    const connector = createSoapConnector(city, soapSource({
      entities: { beneficiaries: { ...source.entities.beneficiaries!, soapAction: 'RicercaAssistiti' } },
    }), deps());
    const e = await cityError(connector.page('beneficiaries', { offset: 0, limit: 2 }));
    expect(e).toMatchObject({ code: 'CITY_NOT_CONFIGURED', city });
    expect(e.message).toContain('urn:cartellasociale:RicercaAssistiti');
  });

  it('is read again at the next use when reading it failed', async () => {
    let served = 0;
    reset((req) => (req.method === 'GET' ? (served++ === 0 ? { status: 500, type: 'text/plain', body: 'errore' } : wsdl) : file('ricerca-assistiti-pagina-1.xml')));
    const connector = createSoapConnector(city, soapSource(), deps());

    expect(await cityError(connector.page('beneficiaries', { offset: 0, limit: 2 }))).toMatchObject({ code: 'CITY_UNAVAILABLE', detail: 'status 500' });
    expect((await connector.page('beneficiaries', { offset: 0, limit: 2 })).total).toBe(3);
    expect(requests.map((r) => r.method)).toEqual(['GET', 'GET', 'POST']);
  });
});

describe('errors', () => {
  const noWsdl = () => soapSource({ checkWsdl: false });

  it('reports a fault sent with status 500 as CITY_SOURCE_ERROR naming its faultcode, never its text when it holds data', async () => {
    reset(() => file('fault-server-dati-personali.xml', 500));
    const connector = createSoapConnector(city, noWsdl(), deps());
    const e = await cityError(connector.page('beneficiaries', { offset: 0, limit: 2 }));
    expect(e).toMatchObject({ code: 'CITY_SOURCE_ERROR', city, detail: 'SOAP fault soap:Server' });
    expect(e.message).not.toMatch(/Nicc|BNCNCC|ORA-/);
  });

  it('reports a fault sent with status 200 as CITY_SOURCE_ERROR, with its text when it holds no data', async () => {
    reset(() => file('fault-client-pagina.xml', 200));
    const connector = createSoapConnector(city, noWsdl(), deps());
    const e = await cityError(connector.page('beneficiaries', { offset: 0, limit: 2 }));
    expect(e).toMatchObject({ code: 'CITY_SOURCE_ERROR', city, detail: 'SOAP fault env:Client.ParametroNonValido ("dimensione della pagina non valida")' });
  });

  it('reports a WS-Security authentication fault as CITY_AUTH_FAILED', async () => {
    reset(() => file('fault-autenticazione.xml', 500));
    const connector = createSoapConnector(city, noWsdl(), deps());
    const e = await cityError(connector.page('beneficiaries', { offset: 0, limit: 2 }));
    expect(e).toMatchObject({ code: 'CITY_AUTH_FAILED', city });
    expect(e.message).toContain('wsse:FailedAuthentication');
  });

  it('reports 401 as CITY_AUTH_FAILED', async () => {
    reset(() => ({ status: 401, type: 'text/plain', body: 'Unauthorized' }));
    const connector = createSoapConnector(city, soapSource(), deps());
    expect(await cityError(connector.page('beneficiaries', { offset: 0, limit: 2 }))).toMatchObject({ code: 'CITY_AUTH_FAILED', city, detail: 'status 401' });
  });

  it('reports a status 500 without a fault as CITY_UNAVAILABLE', async () => {
    reset(() => ({ status: 500, type: 'text/html', body: '<html><body>Internal Server Error</body></html>' }));
    const connector = createSoapConnector(city, noWsdl(), deps());
    expect(await cityError(connector.page('beneficiaries', { offset: 0, limit: 2 }))).toMatchObject({ code: 'CITY_UNAVAILABLE', city, detail: 'status 500' });
  });

  it('reports an HTML page sent with status 200 as CITY_BAD_RESPONSE', async () => {
    reset(() => ({ type: 'text/html; charset=utf-8', body: '<!DOCTYPE html><html><body><p>Manutenzione</p></body></html>' }));
    const connector = createSoapConnector(city, noWsdl(), deps());
    expect(await cityError(connector.page('beneficiaries', { offset: 0, limit: 2 }))).toMatchObject({ code: 'CITY_BAD_RESPONSE', city, detail: 'expected XML, got text/html' });
  });

  it('reports an envelope cut in the middle as CITY_BAD_RESPONSE, without quoting it', async () => {
    reset(() => file('ricerca-assistiti-troncata.xml'));
    const connector = createSoapConnector(city, noWsdl(), deps());
    const e = await cityError(connector.page('beneficiaries', { offset: 0, limit: 2 }));
    expect(e).toMatchObject({ code: 'CITY_BAD_RESPONSE', city });
    expect(e.message).toContain('does not parse as XML');
    expect(e.message).not.toMatch(/Nicc|A001/);
  });

  it('reports a body cut short of its Content-Length as CITY_BAD_RESPONSE', async () => {
    reset(() => ({ body: fixture('ricerca-assistiti-pagina-1.xml'), cutAfter: 300 }));
    const connector = createSoapConnector(city, noWsdl(), deps());
    expect(await cityError(connector.page('beneficiaries', { offset: 0, limit: 2 }))).toMatchObject({ code: 'CITY_BAD_RESPONSE', city });
  });

  it('reports a response without the total as CITY_BAD_RESPONSE naming the path', async () => {
    reset(() => file('ricerca-assistiti-senza-totale.xml'));
    const connector = createSoapConnector(city, noWsdl(), deps());
    const e = await cityError(connector.page('beneficiaries', { offset: 0, limit: 2 }));
    expect(e).toMatchObject({ code: 'CITY_BAD_RESPONSE', city, detail: 'no element "RicercaAssistitiRisposta.totaleRecord" in the response Body' });
  });

  it('reports a response of another shape as CITY_BAD_RESPONSE naming the first element missing', async () => {
    reset(() => file('ricerca-assistiti-altra-risposta.xml'));
    const connector = createSoapConnector(city, noWsdl(), deps());
    const e = await cityError(connector.page('beneficiaries', { offset: 0, limit: 2 }));
    expect(e).toMatchObject({ code: 'CITY_BAD_RESPONSE', city, detail: 'no element "RicercaAssistitiRisposta" in the response Body' });
  });

  it('reports a refused connection as CITY_UNAVAILABLE', async () => {
    const connector = createSoapConnector(city, soapSource({ baseUrl: await closedPortUrl() }), deps());
    const e = await cityError(connector.page('beneficiaries', { offset: 0, limit: 2 }));
    expect(e).toMatchObject({ code: 'CITY_UNAVAILABLE', city });
    expect(e.message).toContain('ECONNREFUSED');
  });

  it('gives up on a service that never answers after timeoutMs, as CITY_TIMEOUT', async () => {
    reset(() => ({ hang: true }));
    const connector = createSoapConnector(city, soapSource({ checkWsdl: false, timeoutMs: 200, connectTimeoutMs: 200 }), deps());
    expect(await cityError(connector.page('beneficiaries', { offset: 0, limit: 2 }))).toMatchObject({ code: 'CITY_TIMEOUT', city });
  }, 10_000);

  it('posts the same envelope again on a retry after a 503', async () => {
    let served = 0;
    reset(() => (served++ === 0 ? { status: 503, type: 'text/plain', body: '' } : file('ricerca-assistiti-pagina-1.xml')));
    const connector = createSoapConnector(city, soapSource({ checkWsdl: false, retries: 1, retryDelayMs: 1 }), deps());

    expect((await connector.page('beneficiaries', { offset: 0, limit: 2 })).total).toBe(3);
    expect(posts().map((r) => r.body)).toEqual([requestOf(1, 2), requestOf(1, 2)]);
    expect(posts().map((r) => r.headers['soapaction'])).toEqual([`"${action}"`, `"${action}"`]);
  });
});

describe('status', () => {
  it('is UNKNOWN before any call, UP as of the last good answer, DOWN after a fault', async () => {
    const connector = createSoapConnector(city, soapSource({ checkWsdl: false }), deps());
    expect(connector.status()).toEqual({ status: 'UNKNOWN', asOf: null });

    reset(() => file('ricerca-assistiti-pagina-1.xml'));
    clock = Date.parse('2025-03-10T09:30:00Z');
    await connector.page('beneficiaries', { offset: 0, limit: 2 });
    expect(connector.status()).toEqual({ status: 'UP', asOf: new Date('2025-03-10T09:30:00Z') });

    reset(() => file('fault-server-dati-personali.xml', 500));
    await cityError(connector.page('beneficiaries', { offset: 0, limit: 2 }));
    expect(connector.status()).toEqual({ status: 'DOWN', asOf: new Date('2025-03-10T09:30:00Z') });
  });
});

describe('config', () => {
  it('refuses a batch list that is also a paging element, naming both', () => {
    const source = soapSource();
    const parsed = SoapSourceSchema.safeParse({
      ...source, baseUrl: 'http://x', apiKey: undefined,
      entities: { beneficiaries: { ...source.entities.beneficiaries!, batchParams: { localId: 'pagina.codice' } } },
    });
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues.map((i) => i.message)).toContain('"pagina.codice" starts with the paging element "pagina"');
  });
});
