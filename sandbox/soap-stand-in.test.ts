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
