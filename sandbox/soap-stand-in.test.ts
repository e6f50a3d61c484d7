import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestDefaults } from '../adapters/config.ts';
import { createSoapConnector, type SoapSource } from '../adapters/connectors/soap.ts';
import type { RawRow } from '../adapters/port.ts';
import { CityError } from '../schema/errors.ts';
import { silentLogger } from '../runtime/logger.ts';
import { createSoapStandIn, type SoapStandIn, type SoapStandInDialect } from './soap-stand-in.ts';

const city = '001272';
const apiKey = 'chiave-sandbox';

const dialect: SoapStandInDialect = {
  id: 'main',
  namespace: 'http://cartellasociale.comune.example.it/ws/v1',
  auth: { header: 'X-API-Key', prefix: '' },
  paging: { style: 'page', startParam: 'pagina', sizeParam: 'dimensionePagina', firstPage: 1, maxPageSize: 3 },
  maxBatchSize: 2,
  checkWsdl: true,
  entities: {
    beneficiaries: {
      path: '/CartellaSociale',
      operation: 'RicercaAssistiti',
      soapAction: 'urn:cartellasociale:RicercaAssistiti',
      request: 'RicercaAssistitiRichiesta',
      recordsPath: 'RicercaAssistitiRisposta.assistiti.assistito',
      totalPath: 'RicercaAssistitiRisposta.totaleRecord',
      batchParams: { localId: 'elencoCodici.codice' },
      fields: {
        localId: '@id', fiscalCode: 'anagrafica.codiceFiscale', givenName: 'anagrafica.nome', familyName: 'anagrafica.cognome',
        sex: 'anagrafica.sesso', birthDate: 'anagrafica.dataNascita', citizenship: 'anagrafica.cittadinanza@codice',
        permitType: 'permesso.codice', vulnerabilities: 'vulnerabilita.voce', intakeDate: 'presaInCarico.data',
        intakeChannel: 'presaInCarico.canale', intakeStatus: 'presaInCarico.stato',
      },
    },
  },
} as unknown as SoapStandInDialect;

const rows: RawRow[] = Array.from({ length: 7 }, (_, i) => ({
  '@id': `A00${i + 1}`,
  'anagrafica.nome': ['Niccolò', 'Josè', 'Ngozi', 'Aïssatou', 'Oksana', 'Amal', "D'Artagnan"][i],
  'anagrafica.cognome': 'Rossi & Figli <srl>',
  'anagrafica.cittadinanza': 'Nigeria',
  'anagrafica.cittadinanza@codice': 'NG',
  'permesso.codice': 'RICH_ASILO',
  'vulnerabilita.voce': i % 2 === 0 ? ['SENZA_DIMORA', 'GRAVIDANZA'] : ['SALUTE_MENTALE'],
  'presaInCarico.data': '10/01/2024',
  'presaInCarico.dataChiusura': null,
}));

let standIn: SoapStandIn;
let agent: Agent;

beforeAll(async () => {
  standIn = await createSoapStandIn({ dialect, rows: new Map([['beneficiaries', rows]]), apiKey, basePath: '/ws' });
  agent = new Agent();
});
afterAll(async () => {
  await agent.close();
  await standIn.close();
});

function connector(overrides: Partial<SoapSource> = {}) {
  const source = {
    ...dialect, kind: 'soap', domains: ['people'], baseUrl: standIn.url, apiKey, dateFormat: 'dd/mm/yyyy', listSeparator: ',', vocabularies: {},
    ...requestDefaults, retries: 0, elementFormDefault: 'qualified',
    auth: { header: 'X-API-Key', prefix: '', key: { env: 'K' } }, ...overrides,
  } as SoapSource;
  return createSoapConnector(city, source, { dispatcher: agent, now: Date.now, logger: silentLogger });
}

async function cityError(p: Promise<unknown>): Promise<CityError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(CityError);
  return e as CityError;
}

describe('the SOAP stand-in with the connector', () => {
  it('serves every row back as it was given, across pages, through its WSDL and operation', async () => {
    standIn.resetRequestCount();
    const page = await connector().page('beneficiaries', { offset: 0, limit: 7 });
    expect(page.total).toBe(7);
    // Without reading the schema, one repeated child cannot be told from a single one: a list of one arrives as its value (the mapper reads both).
    const asSent = rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Array.isArray(v) && v.length === 1 ? v[0] : v])));
    expect(page.rows).toEqual(asSent);
    // The WSDL once, then three pages of 3.
    expect(standIn.requestCount()).toBe(4);
  });

  it('answers a batch look-up, split by its maximum batch size', async () => {
    standIn.resetRequestCount();
    const found = await connector({ checkWsdl: false }).lookup('beneficiaries', 'localId', ['A002', 'A005', 'A007', 'Z999']);
    expect(found.map((r) => r['@id']).sort()).toEqual(['A002', 'A005', 'A007']);
    expect(standIn.requestCount()).toBe(2);
  });

  it('answers a page larger than its maximum with a fault, which the connector names', async () => {
    const e = await cityError(connector({ checkWsdl: false, paging: { ...dialect.paging, maxPageSize: 10 } }).page('beneficiaries', { offset: 0, limit: 10 }));
    expect(e).toMatchObject({ code: 'CITY_SOURCE_ERROR', city, detail: 'SOAP fault soap:Client' });
  });

  it('answers a wrong key with an authentication fault', async () => {
    const e = await cityError(connector({ checkWsdl: false, apiKey: 'sbagliata' }).page('beneficiaries', { offset: 0, limit: 3 }));
    expect(e).toMatchObject({ code: 'CITY_AUTH_FAILED', city });
  });

  it('declares only its own operations in its WSDL', async () => {
    const e = await cityError(connector({
      entities: { beneficiaries: { ...dialect.entities.beneficiaries!, operation: 'ElencoAssistiti' } },
    } as Partial<SoapSource>).page('beneficiaries', { offset: 0, limit: 3 }));
    expect(e).toMatchObject({ code: 'CITY_NOT_CONFIGURED', city });
  });

  it.each([
    [{ kind: 'garbage' } as const, 'CITY_BAD_RESPONSE'],
    [{ kind: 'html' } as const, 'CITY_BAD_RESPONSE'],
    [{ kind: 'half' } as const, 'CITY_BAD_RESPONSE'],
    [{ kind: 'auth' } as const, 'CITY_AUTH_FAILED'],
    [{ kind: 'flaky', probability: 1 } as const, 'CITY_UNAVAILABLE'],
    [{ kind: 'down' } as const, 'CITY_UNAVAILABLE'],
  ])('under the sandbox fault %o the connector reports %s', async (fault, code) => {
    await standIn.setFault(fault);
    try {
      const e = await cityError(connector({ checkWsdl: false }).page('beneficiaries', { offset: 0, limit: 3 }));
      expect(e).toMatchObject({ code, city });
    } finally {
      await standIn.setFault(null);
    }
  });

  it('under the slow fault the connector gives up after its timeout', async () => {
    await standIn.setFault({ kind: 'slow', delayMs: 1_000 });
    try {
      const e = await cityError(connector({ checkWsdl: false, timeoutMs: 200, connectTimeoutMs: 200 }).page('beneficiaries', { offset: 0, limit: 3 }));
      expect(e).toMatchObject({ code: 'CITY_TIMEOUT', city });
    } finally {
      await standIn.setFault(null);
    }
  }, 10_000);
});

describe('the SOAP stand-in as a city config may describe it', () => {
  /** A one-operation service at "/Persone" with these rows, without a key unless `auth` is given. */
  async function service(fields: Record<string, string>, rows: RawRow[], auth: SoapStandInDialect['auth'] = null) {
    const own = {
      ...dialect,
      auth,
      entities: { beneficiaries: { ...dialect.entities.beneficiaries!, path: '/Persone', fields } },
    } as SoapStandInDialect;
    const server = await createSoapStandIn({ dialect: own, rows: new Map([['beneficiaries', rows]]), apiKey: auth ? apiKey : null });
    const read = (overrides: Partial<SoapSource> = {}) => {
      const source = {
        ...own, kind: 'soap', domains: ['people'], baseUrl: server.url, apiKey: null, dateFormat: 'dd/mm/yyyy', listSeparator: ',', vocabularies: {},
        ...requestDefaults, retries: 0, elementFormDefault: 'qualified', checkWsdl: false, auth: undefined, ...overrides,
      } as SoapSource;
      return createSoapConnector(city, source, { dispatcher: agent, now: Date.now, logger: silentLogger }).page('beneficiaries', { offset: 0, limit: 3 });
    };
    return { server, read };
  }
  const envelopeFor = (path: string) =>
    fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: '"urn:cartellasociale:RicercaAssistiti"' },
      body: '<?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>' +
        '<RicercaAssistitiRichiesta xmlns="http://cartellasociale.comune.example.it/ws/v1"><pagina>1</pagina><dimensionePagina>3</dimensionePagina></RicercaAssistitiRichiesta>' +
        '</soap:Body></soap:Envelope>',
    });

  it('answers without a key a service whose config has no auth, and refuses everything under the auth fault', async () => {
    const { server, read } = await service({ localId: '@id' }, [{ '@id': 'TS.A.000041' }]);
    try {
      expect((await read()).rows).toEqual([{ '@id': 'TS.A.000041' }]);
      await server.setFault({ kind: 'auth' });
      expect(await cityError(read())).toMatchObject({ code: 'CITY_AUTH_FAILED', city });
    } finally {
      await server.close();
    }
  });

  it('still asks for the key when the config has auth, and cannot be started without one', async () => {
    const { server, read } = await service({ localId: '@id' }, [{ '@id': 'A001' }], { header: 'Authorization', prefix: 'Basic ' });
    try {
      expect(await cityError(read())).toMatchObject({ code: 'CITY_AUTH_FAILED', city });
      const withKey = await read({ apiKey, auth: { header: 'Authorization', prefix: 'Basic ', key: { env: 'K' } } });
      expect(withKey.rows).toEqual([{ '@id': 'A001' }]);
    } finally {
      await server.close();
    }
    await expect(createSoapStandIn({ dialect: { ...dialect, auth: { header: 'Authorization', prefix: 'Basic ' } }, rows: new Map() })).rejects.toThrow(/Authorization/);
  });

  it('writes a list of attribute values as one repeated element each, beside their texts, and the connector reads both lists back', async () => {
    const rows: RawRow[] = [
      { '@id': 'SS-1', 'fragilita.voce': ['Senza dimora', 'Disagio psichico'], 'fragilita.voce@codice': ['SD', 'PSI'] },
      { '@id': 'SS-2', 'fragilita.voce@codice': ['TRA', 'GRAV'] },
      { '@id': 'SS-3', 'fragilita.voce@codice': [] },
    ];
    const { server, read } = await service({ localId: '@id', vulnerabilities: 'fragilita.voce@codice' }, rows);
    try {
      const xml = await (await envelopeFor(`${server.url}/Persone`)).text();
      expect(xml).toContain('<ns2:fragilita><ns2:voce codice="SD">Senza dimora</ns2:voce><ns2:voce codice="PSI">Disagio psichico</ns2:voce></ns2:fragilita>');
      expect(xml).toContain('<ns2:fragilita><ns2:voce codice="TRA"/><ns2:voce codice="GRAV"/></ns2:fragilita>');
      const page = await read();
      expect(page.rows.map((r) => [r['@id'], r['fragilita.voce@codice'] ?? null])).toEqual([['SS-1', ['SD', 'PSI']], ['SS-2', ['TRA', 'GRAV']], ['SS-3', null]]);
      expect(page.rows[0]!['fragilita.voce']).toEqual(['Senza dimora', 'Disagio psichico']);
    } finally {
      await server.close();
    }
  });

  it('leaves out an attribute whose value is absent, rather than writing it as text', async () => {
    const { server, read } = await service({ localId: '@id', permitType: 'permesso@tipo' }, [{ '@id': 'SS-4', 'permesso@tipo': null, 'permesso.scadenza': '31/12/2025' }]);
    try {
      const [row] = (await read()).rows;
      expect(row).toEqual({ '@id': 'SS-4', 'permesso.scadenza': '31/12/2025' });
    } finally {
      await server.close();
    }
  });
});
