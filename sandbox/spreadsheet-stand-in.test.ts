import ExcelJS from 'exceljs';
import { Agent } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { requestDefaults } from '../adapters/config.ts';
import { SpreadsheetSource as SpreadsheetSourceSchema } from '../adapters/connectors/spreadsheet-config.ts';
import { createSpreadsheetConnector, type SpreadsheetSource } from '../adapters/connectors/spreadsheet.ts';
import { createRowMapper } from '../adapters/mapping.ts';
import type { ConnectorDeps, RawRow } from '../adapters/port.ts';
import { silentLogger } from '../runtime/logger.ts';
import { CityError } from '../schema/errors.ts';
import { fiscalCodeCheckChar } from '../schema/fiscal-code.ts';
import type { EntityName } from '../schema/records.ts';
import { createSpreadsheetStandIn, type SpreadsheetStandIn } from './spreadsheet-stand-in.ts';

const city = '090064';
const apiKey = 'chiave-del-registro';
const exportedAt = new Date('2025-03-10T06:00:00Z');

/** The source as a city's file would declare it. */
const config = SpreadsheetSourceSchema.parse({
  kind: 'spreadsheet',
  id: 'registro',
  domains: ['people', 'services', 'housing'],
  baseUrl: { env: 'LGNET_090064_REGISTRO_URL' },
  dateFormat: 'dd/mm/yyyy',
  auth: { header: 'X-Chiave', key: { env: 'LGNET_090064_REGISTRO_KEY' } },
  vocabularies: {
    sex: { M: 'MALE', F: 'FEMALE' },
    permitType: { Asilo: 'ASYLUM_SEEKER', Lavoro: 'WORK' },
    intakeChannel: { 'Unita mobile': 'MOBILE_UNIT', Sportello: 'ONE_STOP_SHOP' },
    intakeStatus: { 'In carico': 'ACTIVE', Dimesso: 'CLOSED_AUTONOMY' },
    housingKind: { Rifugio: 'PROTECTED_SHELTER', Coabitazione: 'SOLIDARITY_COHOUSING' },
  },
  entities: {
    beneficiaries: {
      path: '/registro.xlsx', sheet: 'Assistiti', groupRow: 2, headerRow: 3,
      fields: {
        localId: 'Codice', fiscalCode: 'Codice fiscale', givenName: 'Nome', familyName: 'Cognome', sex: 'Sesso',
        birthDate: 'Data di nascita', citizenship: 'Cittadinanza', permitType: 'Permesso', vulnerabilities: 'Vulnerabilità',
        intakeDate: 'Presa in carico / Data', intakeChannel: 'Presa in carico / Canale', intakeStatus: 'Presa in carico / Stato',
      },
    },
    enrollments: {
      path: '/registro.xlsx', sheet: 'Iscrizioni',
      fields: { localId: 'N.', beneficiaryId: 'Assistito', serviceId: 'Servizio', from: 'Dal', to: 'Al' },
    },
    housingResources: {
      path: '/strutture.xlsx', headerRow: 2,
      fields: { localId: 'Codice', name: 'Struttura', kind: 'Tipo', capacity: 'Posti', occupancy: 'Occupati' },
    },
  },
});

function fiscalCode(i: number): string {
  const first15 = `BNCLRA${String(80 + i).padStart(2, '0')}A${String(10 + i).padStart(2, '0')}Z31${i % 10}`;
  return first15 + fiscalCodeCheckChar(first15);
}

const PEOPLE = 16;
const rows = new Map<EntityName, RawRow[]>([
  ['beneficiaries', Array.from({ length: PEOPLE }, (_, i) => ({
    Codice: String(2001 + i), 'Codice fiscale': fiscalCode(i), Nome: ['Aïssatou', 'Sékou', 'Oksana', 'José'][i % 4]!, Cognome: ['Traoré', 'Keïta', 'Shevchenko', 'Quispe'][i % 4]!,
    Sesso: i % 2 === 0 ? 'F' : 'M', 'Data di nascita': `${String(1 + i).padStart(2, '0')}/0${1 + (i % 9)}/19${80 + i}`, Cittadinanza: ['ML', 'SN', 'UA', 'PE'][i % 4]!,
    Permesso: i % 3 === 0 ? 'Lavoro' : 'Asilo', 'Vulnerabilità': '', 'Presa in carico / Data': `${String(1 + i).padStart(2, '0')}/1${i % 3}/2024`,
    'Presa in carico / Canale': i % 2 === 0 ? 'Unita mobile' : 'Sportello', 'Presa in carico / Stato': i % 5 === 0 ? 'Dimesso' : 'In carico',
  }))],
  ['enrollments', [
    { 'N.': 'I1', Assistito: '2001', Servizio: 'S1', Dal: '15/01/2024', Al: '' },
    { 'N.': 'I2', Assistito: '2002', Servizio: 'S2', Dal: '01/02/2024', Al: '30/06/2024' },
  ]],
  ['housingResources', [
    { Codice: '1', Struttura: 'Casa San Vincenzo', Tipo: 'Rifugio', Posti: '12', Occupati: '5' },
    { Codice: '2', Struttura: 'Co-abitazione Via Roma', Tipo: 'Coabitazione', Posti: '6', Occupati: '0' },
  ]],
]);

let standIn: SpreadsheetStandIn;
let agent: Agent;

beforeAll(async () => {
  standIn = await createSpreadsheetStandIn({ source: config, basePath: '/condivisi', rows, apiKey, exportedAt, seed: 7 });
  agent = new Agent();
});
afterAll(async () => {
  await agent.close();
  await standIn.close();
});
beforeEach(async () => {
  await standIn.setFault(null);
  standIn.resetRequestCount();
});

function connectorFor(overrides: Partial<SpreadsheetSource> = {}, now = () => Date.parse('2025-03-10T08:00:00Z')) {
  const source = { ...config, ...requestDefaults, retries: 0, baseUrl: standIn.url, apiKey, ...overrides } as SpreadsheetSource;
  const deps: ConnectorDeps = { dispatcher: agent, now, logger: silentLogger };
  return { source, connector: createSpreadsheetConnector(city, source, deps) };
}

async function cityError(p: Promise<unknown>): Promise<CityError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(CityError);
  return e as CityError;
}

describe('the spreadsheet stand-in', () => {
  it('serves workbooks whose every record the connector and the shared mapper read back as given', async () => {
    const { source, connector } = connectorFor();
    const mapper = createRowMapper(city, source, 'secret', () => Date.parse('2025-03-10T08:00:00Z'));

    for (const entity of ['beneficiaries', 'enrollments', 'housingResources'] as const) {
      const page = await connector.page(entity, { offset: 0, limit: Infinity });
      const given = rows.get(entity)!;
      expect(page.total).toBe(given.length);
      expect(page.rows).toEqual(given);
      const mapped = page.rows.map((r) => mapper.map(entity, r));
      expect(mapped.filter((m) => !m.ok)).toEqual([]);
    }
    // Two workbooks: the register with two sheets, the housing list.
    expect(standIn.requestCount()).toBe(2);
  });

  it('writes a hand-kept register: title, merged group header, date cells and Italian text dates, padded codes, links, blank rows and a totals row', async () => {
    const res = await fetch(`${standIn.url}/registro.xlsx`, { headers: { 'x-chiave': apiKey } });
    expect(res.status).toBe(200);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(await res.arrayBuffer());
    const ws = wb.getWorksheet('Assistiti')!;

    expect(ws.getCell('A1').value).toBe('ELENCO ASSISTITI 2025');
    expect(ws.getCell('L1').isMerged).toBe(true);
    expect([ws.getCell('J2').value, ws.getCell('K2').value, ws.getCell('J3').value, ws.getCell('K3').value]).toEqual(['Presa in carico', 'Presa in carico', 'Data', 'Canale']);
    expect(ws.getCell('A3').master.address).toBe('A2');
    expect(ws.getCell('F4').value).toEqual(new Date(Date.UTC(1980, 0, 1)));
    expect(ws.getCell('J5').value).toBe('2 novembre 2024');
    expect(ws.getCell('K4').value).toBe(' Unita mobile ');
    expect(ws.getCell('A4').value).toMatchObject({ text: '2001' });
    // A blank row after the seventh record, and TOTALE below the last one.
    expect(ws.getRow(11).hasValues).toBe(false);
    expect(ws.getCell('A12').value).toMatchObject({ text: '2008' });
    const totals = [...Array(ws.rowCount).keys()].map((i) => ws.getCell(`A${i + 1}`).value).filter((v) => v === 'TOTALE');
    expect(totals).toHaveLength(1);
  });

  it('answers a conditional request for an unchanged workbook with 304 and no body', async () => {
    let now = Date.parse('2025-03-10T08:00:00Z');
    const { connector } = connectorFor({}, () => now);
    const before = await connector.page('housingResources', { offset: 0, limit: 10 });
    standIn.resetRequestCount();

    now += 30_000;
    const after = await connector.page('housingResources', { offset: 0, limit: 10 });

    expect(standIn.requestCount()).toBe(1);
    expect(standIn.bytesSent()).toBe(0);
    expect(after.version).toBe(before.version);
    expect(connector.status()).toEqual({ status: 'UP', asOf: exportedAt });
  });

  it('refuses a wrong key, and the connector says CITY_AUTH_FAILED', async () => {
    const { connector } = connectorFor({ apiKey: 'sbagliata' });
    expect(await cityError(connector.page('beneficiaries', { offset: 0, limit: 1 }))).toMatchObject({ code: 'CITY_AUTH_FAILED', city });
  });

  it.each([
    [{ kind: 'auth' } as const, 'CITY_AUTH_FAILED', /^status 401$/],
    [{ kind: 'html' } as const, 'CITY_BAD_RESPONSE', /^expected an xlsx workbook, got text\/html$/],
    [{ kind: 'garbage' } as const, 'CITY_BAD_RESPONSE', /^expected an xlsx workbook, got bytes that are not a zip file/],
    [{ kind: 'half' } as const, 'CITY_BAD_RESPONSE', /body cut short/],
    [{ kind: 'down' } as const, 'CITY_UNAVAILABLE', /connection failed/],
    [{ kind: 'rename', field: 'Sesso' } as const, 'CITY_BAD_RESPONSE', /^sheet "Assistiti": the header \(rows 2 and 3\) has no column "Sesso" \(renamed or removed\?\): change sources\[id=\w+\]\.entities\.beneficiaries\.fields\.sex in /],
  ])('under the fault %o the connector reports %s', async (fault, code, detail) => {
    await standIn.setFault(fault);
    const { connector } = connectorFor();
    const e = await cityError(connector.page('beneficiaries', { offset: 0, limit: 1 }));
    expect(e).toMatchObject({ code, city });
    expect(e.detail).toMatch(detail);
  });

  it('serves the other sheets as usual under a rename of one column', async () => {
    await standIn.setFault({ kind: 'rename', field: 'Sesso' });
    const { connector } = connectorFor();
    expect((await connector.page('enrollments', { offset: 0, limit: 10 })).total).toBe(2);
  });
});

describe('the spreadsheet stand-in with a totals pattern of the city’s own', () => {
  it('writes no TOTALE row where the config’s totalsPattern would take it for a record', async () => {
    const own = SpreadsheetSourceSchema.parse({
      ...config,
      baseUrl: { env: 'LGNET_090064_REGISTRO_URL' },
      entities: { housingResources: { ...config.entities.housingResources, totalsPattern: '^somma complessiva' } },
    });
    const server = await createSpreadsheetStandIn({ source: own, rows, apiKey, exportedAt });
    try {
      const source = { ...own, ...requestDefaults, retries: 0, baseUrl: server.url, apiKey } as SpreadsheetSource;
      const connector = createSpreadsheetConnector(city, source, { dispatcher: agent, now: () => Date.parse('2025-03-10T08:00:00Z'), logger: silentLogger });
      const page = await connector.page('housingResources', { offset: 0, limit: 10 });
      expect(page.rows).toEqual(rows.get('housingResources'));
    } finally {
      await server.close();
    }
  });
});
