import ExcelJS from 'exceljs';
import { Agent } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CityError } from '../../schema/errors.ts';
import { fiscalCodeCheckChar } from '../../schema/fiscal-code.ts';
import { silentLogger, type Logger } from '../../runtime/logger.ts';
import { requestDefaults } from '../config.ts';
import { createRowMapper } from '../mapping.ts';
import { cellDefects, rowDefect, type ConnectorDeps } from '../port.ts';
import { closedPortUrl, cutShort, routes, startUpstream, type Reply, type Upstream } from './fixtures/upstream-server.ts';
import { SpreadsheetSource as SpreadsheetSourceSchema } from './spreadsheet-config.ts';
import { XLSX_TYPE, createSpreadsheetConnector, dateText, type SpreadsheetSource } from './spreadsheet.ts';

const city = '090064'; // Sassari
const workbookPath = '/condivisi/registro-assistiti.xlsx';
const housingPath = '/condivisi/strutture.xlsx';
const lastModified = 'Mon, 10 Mar 2025 06:00:00 GMT';

let upstream: Upstream;
let agent: Agent;
let clock = 0;
let warnings: Array<{ msg: string; data?: Record<string, unknown> }> = [];
const logger: Logger = { ...silentLogger, warn: (msg, data) => void warnings.push({ msg, data }) };
const deps = (): ConnectorDeps => ({ dispatcher: agent, now: () => clock, logger });

function fiscalCode(i: number): string {
  const first15 = `RSSMRA${80 + i}A0${i}Z10${i}`;
  return first15 + fiscalCodeCheckChar(first15);
}

const day = (y: number, m: number, d: number) => new Date(Date.UTC(y, m - 1, d));

// ---------------------------------------------------------------------------
// The social worker's register, built here with exceljs: a merged title, a
// two-row header with "Intake" over three sub-columns, blank rows, a totals row.

type Cells = ExcelJS.CellValue[];

const peopleHeader = ['Codice', 'Codice fiscale', 'Nome', 'Cognome', 'Sesso', 'Data di\nnascita', 'Cittadinanza', 'Permesso', 'Vulnerabilità'];
const intakeSubColumns = ['Data', 'Canale', 'Stato'];

const people: Cells[] = [
  [1001, fiscalCode(1), 'Niccolò', { richText: [{ text: 'Abe' }, { text: 'be', font: { bold: true } }] }, 'M', day(1990, 2, 3), 'ET', 'Asilo', '', day(2024, 1, 15), ' Unita mobile ', 'In carico'],
  ['1002', fiscalCode(2), ' Amina ', 'Traoré', 'F', '3/2/1991', 'NG', 'Asilo', 'Salute mentale', '03-04-24', 'UNITA MOBILE', 'In carico'],
  [],
  [{ text: '1003', hyperlink: 'https://intranet.comune.example/scheda/1003' }, fiscalCode(3), 'Josè', 'Mendoza', 'M', '4 marzo 1985', 'PE', 'Lavoro', '', '1° mar 2024', 'Sportello', 'in carico'],
  ['1004', fiscalCode(4), 'Ngozi', "D'Amico", 'F', '1990-05-06', 'NG', 'Asilo', '', 'marzo 2024', 'Sportello', 'In carico'],
  ['1005', fiscalCode(5), 'Fatou', 'Ndiaye', 'F', day(1995, 7, 8), 'SN', 'Asilo', '', '2024-03-04', "UNITA' MOBILE", 'In carico'],
  [null, null, null, null, null, null, null, null, null, null, '', '  '],
  ['TOTALE', null, null, null, null, null, null, null, null, { formula: 'COUNTA(A4:A10)', result: 5 }],
];

interface PeopleOptions {
  sheet?: string;
  /** Header label -> the label the city wrote instead. */
  rename?: Record<string, string>;
  rows?: Cells[];
  enrollments?: Cells[] | null;
}

function addPeopleSheet(wb: ExcelJS.Workbook, options: PeopleOptions = {}): void {
  const ws = wb.addWorksheet(options.sheet ?? 'Assistiti');
  const label = (s: string) => options.rename?.[s] ?? s;
  ws.getCell('A1').value = 'ELENCO ASSISTITI 2024';
  ws.mergeCells('A1:L1');
  peopleHeader.forEach((h, i) => {
    const col = String.fromCharCode(65 + i);
    ws.getCell(`${col}2`).value = label(h);
    ws.mergeCells(`${col}2:${col}3`);
  });
  ws.getCell('J2').value = label('Intake');
  ws.mergeCells('J2:L2');
  intakeSubColumns.forEach((h, i) => (ws.getCell(`${String.fromCharCode(74 + i)}3`).value = label(h)));
  (options.rows ?? people).forEach((cells, i) => (ws.getRow(4 + i).values = cells));
}

const enrollments: Cells[] = [
  ['I01', 1001, 'SRV1', day(2024, 2, 1), null],
  ['I02', '1002', 'SRV2', '01.02.2024', '30/6/24'],
  ['I03', 1001, 'SRV2', day(2024, 3, 1), day(2024, 5, 31)],
];

function addEnrollmentsSheet(wb: ExcelJS.Workbook, rows: Cells[] = enrollments): void {
  const ws = wb.addWorksheet('Iscrizioni');
  ws.addRow(['N. iscrizione', 'Assistito', 'Servizio', 'Dal', 'Al']);
  for (const r of rows) ws.addRow(r);
}

async function bytes(wb: ExcelJS.Workbook): Promise<Buffer> {
  return Buffer.from(await wb.xlsx.writeBuffer());
}

async function register(options: PeopleOptions = {}): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  addPeopleSheet(wb, options);
  if (options.enrollments !== null) addEnrollmentsSheet(wb, options.enrollments);
  return bytes(wb);
}

/** One file per entity: the housing list, on its only sheet, with formulas where numbers should be. */
async function housing(): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('Foglio1');
  ws.addRow(['Codice', 'Struttura', 'Tipo', 'Posti', 'Occupati', 'Note']);
  ws.addRow(['S1', 'Casa San Vincenzo', 'Rifugio', { formula: 'D7*1.2', result: 12.000000000000002 }, 5, { error: '#N/A' }]);
  ws.addRow(['S2', { text: 'Co-abitazione Via Roma', hyperlink: 'https://comune.example/strutture/2' }, 'Coabitazione', '6', { formula: 'D3-4' }, '']);
  ws.addRow(['S3', 'Appartamento Corso Vico', 'Semi-autonomia', { error: '#REF!' }, { formula: 'D4*0', result: 0 }, '']);
  ws.addRow(['S4', 'Alloggio Piazza Tola', 'Semi-autonomia', { formula: 'Z99/0', result: { error: '#DIV/0!' } }, { formula: 'D5-1', result: { error: '#VALUE!' } }, '']);
  ws.addRow([]);
  ws.addRow(['Totale posti', null, null, { formula: 'SUM(D2:D5)', result: 18 }, 5, '']);
  return bytes(wb);
}

let v1: Buffer;
let v2: Buffer;
let housingFile: Buffer;

const xlsx = (body: Buffer, headers: Record<string, string> = {}): Reply => ({ status: 200, headers: { 'content-type': XLSX_TYPE, ...headers }, body });
const first: () => Reply = () => xlsx(v1, { etag: '"v1"', 'last-modified': lastModified });

beforeAll(async () => {
  upstream = await startUpstream();
  agent = new Agent();
  v1 = await register();
  v2 = await register({ rows: [...people.slice(0, 2), ['1006', fiscalCode(6), 'Leyla', 'Khan', 'F', day(1999, 9, 9), 'AF', 'Asilo', '', day(2025, 3, 1), 'Sportello', 'In carico']] });
  housingFile = await housing();
});
afterAll(async () => {
  await agent.close();
  await upstream.close();
});
beforeEach(() => {
  clock = Date.parse('2025-03-10T08:00:00Z');
  warnings = [];
});

function spreadsheetSource(overrides: Partial<SpreadsheetSource> = {}): SpreadsheetSource {
  return {
    kind: 'spreadsheet',
    id: 'registro',
    domains: ['people', 'services', 'housing'],
    baseUrl: upstream.baseUrl,
    apiKey: 'segreto',
    auth: { header: 'Authorization', prefix: 'Bearer ', key: { env: 'SASSARI_REGISTRO_TOKEN' } },
    dateFormat: 'dd/mm/yyyy',
    listSeparator: ',',
    vocabularies: {
      sex: { M: 'MALE', F: 'FEMALE' },
      permitType: { Asilo: 'ASYLUM_SEEKER', Lavoro: 'WORK' },
      intakeChannel: { 'Unita mobile': 'MOBILE_UNIT', Sportello: 'ONE_STOP_SHOP' },
      intakeStatus: { 'In carico': 'ACTIVE' },
      vulnerability: { 'Salute mentale': 'MENTAL_HEALTH' },
      housingKind: { Rifugio: 'PROTECTED_SHELTER', Coabitazione: 'SOLIDARITY_COHOUSING', 'Semi-autonomia': 'SEMI_AUTONOMY_FLAT' },
    },
    ...requestDefaults,
    // No retries here, so that every request counted is one the test expects.
    retries: 0,
    revalidateMs: 30_000,
    entities: {
      beneficiaries: {
        path: workbookPath,
        sheet: 'Assistiti',
        headerRow: 3,
        groupRow: 2,
        headerJoin: ' / ',
        totalsPattern: '^totale',
        fields: {
          localId: 'Codice', fiscalCode: 'Codice fiscale', givenName: 'Nome', familyName: 'Cognome', sex: 'Sesso',
          birthDate: 'Data di nascita', citizenship: 'Cittadinanza', permitType: 'Permesso', vulnerabilities: 'Vulnerabilità',
          intakeDate: 'Intake / Data', intakeChannel: 'Intake / Canale', intakeStatus: 'Intake / Stato',
        },
      },
      enrollments: {
        path: workbookPath,
        sheet: 'Iscrizioni',
        headerRow: 1,
        headerJoin: ' / ',
        totalsPattern: '^totale',
        fields: { localId: 'N. iscrizione', beneficiaryId: 'Assistito', serviceId: 'Servizio', from: 'Dal', to: 'Al' },
      },
      housingResources: {
        path: housingPath,
        headerRow: 1,
        headerJoin: ' / ',
        totalsPattern: '^totale',
        fields: { localId: 'Codice', name: 'Struttura', kind: 'Tipo', capacity: 'Posti', occupancy: 'Occupati' },
      },
    },
    ...overrides,
  } as SpreadsheetSource;
}

function inTurn(...replies: Array<() => Reply>) {
  let i = 0;
  return () => replies[Math.min(i++, replies.length - 1)]!();
}

async function cityError(p: Promise<unknown>): Promise<CityError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(CityError);
  return e as CityError;
}

/** No personal data of the register in a text (an error, a log line). */
function expectNoContent(text: string): void {
  expect(text).not.toMatch(/Niccol|Amina|Traor|Mendoza|Ngozi|Ndiaye|RSSMRA|Vincenzo|Via Roma|Z99/);
}

describe('reading a register', () => {
  it('reads the header below a merged title, names sub-columns after their merged group, and sends the key', async () => {
    upstream.reset(routes({ [workbookPath]: first() }));
    const connector = createSpreadsheetConnector(city, spreadsheetSource(), deps());

    const { rows, total, version } = await connector.page('beneficiaries', { offset: 0, limit: 10 });

    expect(total).toBe(5);
    expect(version).toBeDefined();
    expect(rows[0]).toEqual({
      Codice: '1001', 'Codice fiscale': fiscalCode(1), Nome: 'Niccolò', Cognome: 'Abebe', Sesso: 'M',
      'Data di nascita': '03/02/1990', Cittadinanza: 'ET', Permesso: 'Asilo', 'Vulnerabilità': '',
      'Intake / Data': '15/01/2024', 'Intake / Canale': 'Unita mobile', 'Intake / Stato': 'In carico',
    });
    expect(Object.isFrozen(rows[0])).toBe(true);
    expect(upstream.requests).toHaveLength(1);
    expect(upstream.requests[0]).toMatchObject({ method: 'GET', url: workbookPath });
    expect(upstream.requests[0]!.headers).toMatchObject({ authorization: 'Bearer segreto', accept: `${XLSX_TYPE}, application/octet-stream;q=0.5` });
    expect(upstream.requests[0]!.headers['if-none-match']).toBeUndefined();
    expect(upstream.requests[0]!.headers['if-modified-since']).toBeUndefined();
  });

  it('skips blank rows and the totals row, which are neither records nor rejections', async () => {
    upstream.reset(routes({ [workbookPath]: first() }));
    const connector = createSpreadsheetConnector(city, spreadsheetSource(), deps());

    const { rows } = await connector.page('beneficiaries', { offset: 0, limit: 10 });

    expect(rows.map((r) => r['Codice'])).toEqual(['1001', '1002', '1003', '1004', '1005']);
    expect(rows.every((r) => r[rowDefect] === undefined)).toBe(true);
  });

  it('reduces rich text, hyperlinks, numbers and numbers stored as text to trimmed plain text', async () => {
    upstream.reset(routes({ [workbookPath]: first(), [housingPath]: xlsx(housingFile) }));
    const connector = createSpreadsheetConnector(city, spreadsheetSource(), deps());

    const { rows } = await connector.page('beneficiaries', { offset: 0, limit: 10 });
    const housingRows = (await connector.page('housingResources', { offset: 0, limit: 10 })).rows;

    expect(rows[0]!['Cognome']).toBe('Abebe');
    expect(rows[1]!['Codice']).toBe('1002');
    expect(rows[1]!['Nome']).toBe('Amina');
    expect(rows[2]!['Codice']).toBe('1003');
    expect(housingRows[1]!['Struttura']).toBe('Co-abitazione Via Roma');
    expect(housingRows[1]!['Posti']).toBe('6');
  });

  it('passes codes trimmed as the city typed them, for the shared mapper to match through the vocabulary', async () => {
    upstream.reset(routes({ [workbookPath]: first() }));
    const connector = createSpreadsheetConnector(city, spreadsheetSource(), deps());

    const { rows } = await connector.page('beneficiaries', { offset: 0, limit: 10 });

    expect(rows.map((r) => r['Intake / Canale'])).toEqual(['Unita mobile', 'UNITA MOBILE', 'Sportello', 'Sportello', "UNITA' MOBILE"]);
  });

  it('writes Excel date cells and unambiguous text dates in the source format, and leaves the rest as the city wrote it', async () => {
    upstream.reset(routes({ [workbookPath]: first() }));
    const connector = createSpreadsheetConnector(city, spreadsheetSource(), deps());

    const people = (await connector.page('beneficiaries', { offset: 0, limit: 10 })).rows;
    const enrolled = (await connector.page('enrollments', { offset: 0, limit: 10 })).rows;

    expect(people.map((r) => r['Data di nascita'])).toEqual(['03/02/1990', '03/02/1991', '04/03/1985', '06/05/1990', '08/07/1995']);
    expect(people.map((r) => r['Intake / Data'])).toEqual(['15/01/2024', '03/04/2024', '01/03/2024', 'marzo 2024', '04/03/2024']);
    expect(enrolled.map((r) => [r['Dal'], r['Al']])).toEqual([['01/02/2024', ''], ['01/02/2024', '30/06/2024'], ['01/03/2024', '31/05/2024']]);
  });

  it('writes Excel date cells in a year-first source format too', async () => {
    upstream.reset(routes({ [workbookPath]: first() }));
    const connector = createSpreadsheetConnector(city, spreadsheetSource({ dateFormat: 'yyyy-mm-dd' }), deps());

    const { rows } = await connector.page('enrollments', { offset: 0, limit: 10 });

    expect(rows.map((r) => r['Dal'])).toEqual(['2024-02-01', '2024-02-01', '2024-03-01']);
  });

  it('uses the cached result of a formula, a result of 0 too', async () => {
    upstream.reset(routes({ [housingPath]: xlsx(housingFile) }));
    const connector = createSpreadsheetConnector(city, spreadsheetSource(), deps());

    const { rows } = await connector.page('housingResources', { offset: 0, limit: 10 });

    expect(rows[0]!['Posti']).toBe('12');
    expect(rows[2]!['Occupati']).toBe('0');
  });

  it('marks the cells of a row that hold an error or a formula without its result, naming row and cell only', async () => {
    upstream.reset(routes({ [housingPath]: xlsx(housingFile) }));
    const connector = createSpreadsheetConnector(city, spreadsheetSource(), deps());

    const { rows, total } = await connector.page('housingResources', { offset: 0, limit: 10 });

    expect(total).toBe(4);
    expect(rows.map((r) => [r['Codice'], r['Posti'], r['Occupati']])).toEqual([['S1', '12', '5'], ['S2', '6', ''], ['S3', '', '0'], ['S4', '', '']]);
    expect(rows.map((r) => r[cellDefects])).toEqual([
      // An error in a column nobody reads (Note) does not matter.
      undefined,
      { Occupati: 'row 3: column "Occupati" (E3) holds a formula saved without its result' },
      { Posti: 'row 4: column "Posti" (D4) holds the error #REF!' },
      {
        Posti: 'row 5: column "Posti" (D5) holds a formula whose result is the error #DIV/0!',
        Occupati: 'row 5: column "Occupati" (E5) holds a formula whose result is the error #VALUE!',
      },
    ]);
    expect(rows.every((r) => r[rowDefect] === undefined)).toBe(true);
    for (const r of rows) expectNoContent(JSON.stringify(r[cellDefects] ?? ''));
  });

  it('has the mapper reject a formula where a number belongs as INVALID_VALUE naming the field: an error result, or text', async () => {
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('Foglio1');
    ws.addRow(['Codice', 'Struttura', 'Tipo', 'Posti', 'Occupati', 'Note']);
    ws.addRow(['S1', 'Casa San Vincenzo', 'Rifugio', { formula: 'B2+', result: { error: '#VALUE!' } }, 5, '']);
    ws.addRow(['S2', 'Casa Via Roma', 'Rifugio', { formula: 'D2&" posti"', result: 'dieci posti' }, 2, '']);
    ws.addRow(['S3', 'Casa Corso Vico', 'Rifugio', { formula: '4*2', result: 8 }, 3, '']);
    upstream.reset(routes({ [housingPath]: xlsx(await bytes(wb)) }));
    const source = spreadsheetSource();
    const connector = createSpreadsheetConnector(city, source, deps());
    const mapper = createRowMapper(city, source, 'a-test-secret', () => clock);

    const { rows } = await connector.page('housingResources', { offset: 0, limit: 10 });
    const mapped = rows.map((r) => mapper.map('housingResources', r));

    expect(mapped.map((m) => (m.ok ? m.record.capacity : [m.rejection.reason, m.rejection.field, m.rejection.detail]))).toEqual([
      ['INVALID_VALUE', 'capacity', 'capacity: row 2: column "Posti" (D2) holds a formula whose result is the error #VALUE!'],
      ['INVALID_VALUE', 'capacity', 'capacity is not a whole number'],
      8,
    ]);
  });

  it('hands rows the shared mapper accepts, rejecting only what is wrong, each for one reason', async () => {
    upstream.reset(routes({ [workbookPath]: first(), [housingPath]: xlsx(housingFile) }));
    const source = spreadsheetSource();
    const connector = createSpreadsheetConnector(city, source, deps());
    const mapper = createRowMapper(city, source, 'a-test-secret', () => clock);

    const people = (await connector.page('beneficiaries', { offset: 0, limit: 10 })).rows.map((r) => mapper.map('beneficiaries', r));
    const places = (await connector.page('housingResources', { offset: 0, limit: 10 })).rows.map((r) => mapper.map('housingResources', r));

    expect(people.map((m) => (m.ok ? m.record.intake : m.rejection.reason))).toEqual([
      { date: '2024-01-15', channel: 'MOBILE_UNIT', status: 'ACTIVE' },
      { date: '2024-04-03', channel: 'MOBILE_UNIT', status: 'ACTIVE' },
      { date: '2024-03-01', channel: 'ONE_STOP_SHOP', status: 'ACTIVE' },
      'INVALID_DATE',
      // The mapper folds case, accents, apostrophes and spaces: "UNITA' MOBILE" finds "Unita mobile".
      { date: '2024-03-04', channel: 'MOBILE_UNIT', status: 'ACTIVE' },
    ]);
    expect(places.map((m) => (m.ok ? [m.record.capacity, m.record.occupancy] : [m.rejection.reason, m.rejection.field]))).toEqual([
      [12, 5],
      ['INVALID_VALUE', 'occupancy'],
      ['INVALID_VALUE', 'capacity'],
      ['INVALID_VALUE', 'capacity'],
    ]);
  });

  it('reads one workbook once for every entity whose sheet it holds', async () => {
    upstream.reset(routes({ [workbookPath]: first() }));
    const connector = createSpreadsheetConnector(city, spreadsheetSource(), deps());

    const [people, enrolled] = await Promise.all([
      connector.page('beneficiaries', { offset: 0, limit: 10 }),
      connector.page('enrollments', { offset: 0, limit: 10 }),
    ]);

    expect(people.total).toBe(5);
    expect(enrolled.rows.map((r) => r['N. iscrizione'])).toEqual(['I01', 'I02', 'I03']);
    expect(upstream.requests).toHaveLength(1);
  });

  it('reads the first sheet of a file of its own when no sheet is named', async () => {
    upstream.reset(routes({ [housingPath]: xlsx(housingFile) }));
    const connector = createSpreadsheetConnector(city, spreadsheetSource(), deps());

    const { rows } = await connector.page('housingResources', { offset: 1, limit: 2 });

    expect(rows.map((r) => r['Codice'])).toEqual(['S2', 'S3']);
    expect(upstream.requests.map((r) => r.url)).toEqual([housingPath]);
  });

  it('looks rows up by the key column, as the same objects the pages give', async () => {
    upstream.reset(routes({ [workbookPath]: first() }));
    const connector = createSpreadsheetConnector(city, spreadsheetSource(), deps());

    const found = await connector.lookup('enrollments', 'beneficiaryId', ['1001', '9999']);
    const { rows } = await connector.page('enrollments', { offset: 0, limit: 10 });

    expect(found.map((r) => r['N. iscrizione'])).toEqual(['I01', 'I03']);
    expect(found[0]).toBe(rows[0]);
    expect(upstream.requests).toHaveLength(1);
  });

  it('answers no rows past the end', async () => {
    upstream.reset(routes({ [workbookPath]: first() }));
    const connector = createSpreadsheetConnector(city, spreadsheetSource(), deps());

    const { rows, total } = await connector.page('beneficiaries', { offset: 10, limit: 5 });

    expect(rows).toEqual([]);
    expect(total).toBe(5);
  });
});

describe('text dates', () => {
  it.each([
    ['3/4/2024', '03/04/2024'],
    ['03-04-24', '03/04/2024'],
    ['3.4.1985', '03/04/1985'],
    ['15-06-35', '15/06/1935'],
    ['2024-03-04', '04/03/2024'],
    ['4 marzo 2024', '04/03/2024'],
    ['4 Marzo 2024', '04/03/2024'],
    ['1° mar 2024', '01/03/2024'],
    ['04-set-24', '04/09/2024'],
    ['12 sett. 2023', '12/09/2023'],
    ['03/04/2024', '03/04/2024'],
  ])('reads "%s" as %s', (text, written) => {
    expect(dateText(text, 'dd/mm/yyyy')).toBe(written);
  });

  it.each([['marzo 2024'], ['31/02/2024'], ['12/25/2024'], ['3/4-2024'], ['4 ma 2024'], ['domani'], ['45000']])('leaves "%s" as written, for the mapper to reject', (text) => {
    expect(dateText(text, 'dd/mm/yyyy')).toBe(text);
  });

  it('writes a date in each format a city may declare', () => {
    expect(['yyyy-mm-dd', 'dd/mm/yyyy', 'dd-mm-yyyy', 'dd.mm.yyyy', 'yyyymmdd'].map((f) => dateText('4 marzo 2024', f as 'yyyy-mm-dd'))).toEqual([
      '2024-03-04', '04/03/2024', '04-03-2024', '04.03.2024', '20240304',
    ]);
  });
});

describe('snapshots', () => {
  it('makes no request for a second call within revalidateMs, and answers the same row objects', async () => {
    upstream.reset(routes({ [workbookPath]: first() }));
    const connector = createSpreadsheetConnector(city, spreadsheetSource(), deps());
    const before = await connector.page('beneficiaries', { offset: 0, limit: 10 });
    upstream.reset(routes({ [workbookPath]: first() }));

    clock += 29_999;
    const again = await connector.page('beneficiaries', { offset: 0, limit: 10 });

    expect(upstream.requests).toHaveLength(0);
    again.rows.forEach((row, i) => expect(row).toBe(before.rows[i]));
  });

  it('revalidates after revalidateMs with If-None-Match and If-Modified-Since, and keeps rows and version on 304', async () => {
    upstream.reset(routes({ [workbookPath]: first() }));
    const connector = createSpreadsheetConnector(city, spreadsheetSource(), deps());
    const before = await connector.page('beneficiaries', { offset: 0, limit: 10 });
    upstream.reset(routes({ [workbookPath]: { status: 304, headers: { etag: '"v1"' } } }));

    clock += 30_000;
    const again = await connector.page('beneficiaries', { offset: 0, limit: 10 });

    expect(upstream.requests).toHaveLength(1);
    expect(upstream.requests[0]!.headers).toMatchObject({ 'if-none-match': '"v1"', 'if-modified-since': lastModified, authorization: 'Bearer segreto' });
    again.rows.forEach((row, i) => expect(row).toBe(before.rows[i]));
    expect(again.version).toBe(before.version);
    expect(connector.status()).toEqual({ status: 'UP', asOf: new Date(lastModified) });
  });

  it('takes a new workbook when the file changed, with a new version', async () => {
    upstream.reset(routes({ [workbookPath]: first() }));
    const connector = createSpreadsheetConnector(city, spreadsheetSource(), deps());
    const before = await connector.page('beneficiaries', { offset: 0, limit: 10 });
    upstream.reset(routes({ [workbookPath]: xlsx(v2, { etag: '"v2"', 'last-modified': 'Tue, 11 Mar 2025 06:00:00 GMT' }) }));

    clock += 30_000;
    const after = await connector.page('beneficiaries', { offset: 0, limit: 10 });

    expect(after.version).not.toBe(before.version);
    expect(after.rows.map((r) => r['Codice'])).toEqual(['1001', '1002', '1006']);
    expect(connector.status()).toEqual({ status: 'UP', asOf: new Date('Tue, 11 Mar 2025 06:00:00 GMT') });
  });

  it('shares one in-flight fetch between concurrent callers of the same workbook', async () => {
    upstream.reset(routes({ [workbookPath]: first() }));
    const connector = createSpreadsheetConnector(city, spreadsheetSource(), deps());

    const [a, b, c] = await Promise.all([
      connector.page('beneficiaries', { offset: 0, limit: 10 }),
      connector.page('beneficiaries', { offset: 2, limit: 1 }),
      connector.lookup('enrollments', 'localId', ['I02']),
    ]);

    expect(upstream.requests).toHaveLength(1);
    expect(b.rows[0]).toBe(a.rows[2]);
    expect(c.map((r) => r['Assistito'])).toEqual(['1002']);
  });

  it('lets a caller give up waiting without cancelling the fetch others share', async () => {
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    upstream.reset(async () => {
      await held;
      return first();
    });
    const connector = createSpreadsheetConnector(city, spreadsheetSource(), deps());
    const controller = new AbortController();
    const reason = new Error('client went away');

    const impatient = connector.page('beneficiaries', { offset: 0, limit: 1 }, controller.signal);
    const patient = connector.page('beneficiaries', { offset: 0, limit: 1 });
    controller.abort(reason);
    await expect(impatient).rejects.toBe(reason);
    release();

    expect((await patient).rows[0]!['Nome']).toBe('Niccolò');
    expect(upstream.requests).toHaveLength(1);
  });
});

describe('a file that cannot be used', () => {
  async function failure(reply: Reply, entity: 'beneficiaries' | 'housingResources' = 'beneficiaries'): Promise<CityError> {
    upstream.reset(() => reply);
    const connector = createSpreadsheetConnector(city, spreadsheetSource(), deps());
    const e = await cityError(connector.page(entity, { offset: 0, limit: 10 }));
    expect(e).toMatchObject({ code: 'CITY_BAD_RESPONSE', city });
    expectNoContent(e.message);
    expect(connector.status().status).toBe('DOWN');
    return e;
  }

  it('is refused when it is an HTML page sent as 200', async () => {
    const e = await failure({ status: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, body: '<!DOCTYPE html><html><body>Manutenzione</body></html>' });
    expect(e.detail).toBe('expected an xlsx workbook, got text/html');
  });

  it('is refused when it is an HTML page labelled as a workbook', async () => {
    const e = await failure(xlsx(Buffer.from('\n<html><body>Sessione scaduta</body></html>')));
    expect(e.detail).toBe(`expected an xlsx workbook, got markup (${XLSX_TYPE})`);
  });

  it('is refused when it is bytes that are not a zip file', async () => {
    const e = await failure(xlsx(Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x13, 0x37, 0x00, 0x42])));
    expect(e.detail).toBe(`expected an xlsx workbook, got bytes that are not a zip file (${XLSX_TYPE})`);
  });

  it('is refused when it is a truncated workbook', async () => {
    const e = await failure(xlsx(v1.subarray(0, Math.floor(v1.length / 2))));
    expect(e.detail).toBe('not a readable xlsx workbook (a truncated or corrupt file?)');
  });

  it('is refused when it is an old .xls workbook', async () => {
    const e = await failure(xlsx(Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 0, 0, 0])));
    expect(e.detail).toBe('expected an xlsx workbook, got an old-format .xls or a password-protected workbook');
  });

  it('is refused when it is empty', async () => {
    const e = await failure(xlsx(Buffer.alloc(0)));
    expect(e.detail).toBe('expected an xlsx workbook, got an empty body');
  });

  it('is refused when the body is cut short', async () => {
    upstream.reset(() => cutShort(v1.subarray(0, 100).toString('latin1'), v1.length, { connectionClose: true, contentType: XLSX_TYPE }));
    const connector = createSpreadsheetConnector(city, spreadsheetSource(), deps());
    const e = await cityError(connector.page('beneficiaries', { offset: 0, limit: 10 }));
    expect(e).toMatchObject({ code: 'CITY_BAD_RESPONSE', city });
  });

  it('names the sheet the workbook lacks', async () => {
    const e = await failure(xlsx(await register({ sheet: 'Assistiti 2025' })));
    expect(e.detail).toBe('sheet "Assistiti": not in the workbook (it has 2 sheet(s))');
    expect(e.message).not.toContain('2025');
  });

  it('finds its sheet whatever the case and surrounding spaces of its name', async () => {
    upstream.reset(routes({ [workbookPath]: xlsx(await register({ sheet: ' ASSISTITI ' })) }));
    const connector = createSpreadsheetConnector(city, spreadsheetSource(), deps());
    expect((await connector.page('beneficiaries', { offset: 0, limit: 10 })).total).toBe(5);
  });

  it('names the sheet and the column a renamed header lacks', async () => {
    const e = await failure(xlsx(await register({ rename: { 'Codice fiscale': 'C.F.', Canale: 'Canale di accesso' } })));
    expect(e.detail).toBe(
      'sheet "Assistiti": the header (rows 2 and 3) has no column "Codice fiscale", "Intake / Canale" (renamed or removed?): ' +
        "change sources[id=registro].entities.beneficiaries.fields.{fiscalCode, intakeChannel} in the city's file to the column's name in the sheet",
    );
  });

  it('names the column the header repeats', async () => {
    const e = await failure(xlsx(await register({ rename: { Nome: 'Cognome' } })));
    expect(e.detail).toBe('sheet "Assistiti": column "Cognome" appears 2 times in the header (columns C, D)');
  });

  it('serves the last good rows as STALE when a new file is broken, keeps its validators, and recovers', async () => {
    upstream.reset(routes({ [workbookPath]: first() }));
    const connector = createSpreadsheetConnector(city, spreadsheetSource(), deps());
    const before = await connector.page('beneficiaries', { offset: 0, limit: 10 });
    upstream.reset(routes({ [workbookPath]: xlsx(v1.subarray(0, 300), { etag: '"v2-partial"' }) }));

    clock += 30_000;
    const served = await connector.page('beneficiaries', { offset: 0, limit: 10 });

    served.rows.forEach((row, i) => expect(row).toBe(before.rows[i]));
    expect(served.version).toBe(before.version);
    expect(connector.status()).toEqual({ status: 'STALE', asOf: new Date(lastModified), reason: 'beneficiaries: CITY_BAD_RESPONSE: not a readable xlsx workbook (a truncated or corrupt file?)' });
    expect(warnings.map((w) => w.data)).toEqual([
      expect.objectContaining({ city, entity: 'beneficiaries', code: 'CITY_BAD_RESPONSE' }),
      expect.objectContaining({ city, entity: 'enrollments', code: 'CITY_BAD_RESPONSE' }),
    ]);
    expectNoContent(JSON.stringify(warnings));

    clock += 30_000;
    upstream.reset(routes({ [workbookPath]: { status: 304 } }));
    await connector.page('beneficiaries', { offset: 0, limit: 1 });
    expect(upstream.requests[0]!.headers['if-none-match']).toBe('"v1"');
    expect(connector.status().status).toBe('UP');
  });

  it('serves a sheet whose new version lost a column from its last good rows, while the other sheets move on', async () => {
    upstream.reset(routes({ [workbookPath]: first() }));
    const connector = createSpreadsheetConnector(city, spreadsheetSource(), deps());
    const people = await connector.page('beneficiaries', { offset: 0, limit: 10 });
    const renamed = await register({ rename: { Sesso: 'Genere' }, enrollments: enrollments.slice(0, 2) });
    upstream.reset(routes({ [workbookPath]: xlsx(renamed, { etag: '"v2"' }) }));

    clock += 30_000;
    const enrolled = await connector.page('enrollments', { offset: 0, limit: 10 });
    const stale = await connector.page('beneficiaries', { offset: 0, limit: 10 });

    expect(enrolled.total).toBe(2);
    expect(stale.rows[0]).toBe(people.rows[0]);
    expect(connector.status()).toMatchObject({
      status: 'STALE',
      reason:
        'beneficiaries: CITY_BAD_RESPONSE: sheet "Assistiti": the header (rows 2 and 3) has no column "Sesso" (renamed or removed?): ' +
        "change sources[id=registro].entities.beneficiaries.fields.sex in the city's file to the column's name in the sheet",
    });
    // The file did not change again: its sheet is still broken, and the other rows still served.
    clock += 30_000;
    upstream.reset(routes({ [workbookPath]: { status: 304 } }));
    expect((await connector.page('beneficiaries', { offset: 0, limit: 10 })).rows[0]).toBe(people.rows[0]);
    expect(connector.status().status).toBe('STALE');
  });
});

describe('upstream failures', () => {
  it.each([401, 403])('reports %i as CITY_AUTH_FAILED', async (status) => {
    upstream.reset(() => ({ status }));
    const connector = createSpreadsheetConnector(city, spreadsheetSource(), deps());
    const e = await cityError(connector.page('beneficiaries', { offset: 0, limit: 10 }));
    expect(e).toMatchObject({ code: 'CITY_AUTH_FAILED', city, detail: `status ${status}` });
  });

  it('keeps serving the previous rows when the server fails, as STALE, then recovers', async () => {
    upstream.reset(routes({ [workbookPath]: first() }));
    const connector = createSpreadsheetConnector(city, spreadsheetSource(), deps());
    const before = await connector.page('beneficiaries', { offset: 0, limit: 10 });

    upstream.reset(inTurn(() => ({ status: 500, body: 'Errore interno' }), () => xlsx(v2, { etag: '"v2"' })));
    clock += 30_000;
    expect((await connector.page('beneficiaries', { offset: 0, limit: 10 })).rows[0]).toBe(before.rows[0]);
    expect(connector.status()).toMatchObject({ status: 'STALE', reason: 'beneficiaries: CITY_UNAVAILABLE: status 500' });
    // Within revalidateMs the failing server is left alone.
    await connector.page('beneficiaries', { offset: 0, limit: 10 });
    expect(upstream.requests).toHaveLength(1);

    clock += 30_000;
    expect((await connector.page('beneficiaries', { offset: 0, limit: 10 })).total).toBe(3);
    expect(connector.status().status).toBe('UP');
  });

  it('reports a refused connection as CITY_UNAVAILABLE when there is nothing to serve', async () => {
    const connector = createSpreadsheetConnector(city, spreadsheetSource({ baseUrl: await closedPortUrl() }), deps());
    const e = await cityError(connector.page('beneficiaries', { offset: 0, limit: 10 }));
    expect(e).toMatchObject({ code: 'CITY_UNAVAILABLE', city });
    expect(connector.status()).toMatchObject({ status: 'DOWN', asOf: null });
  });

  it('says the city has no source for an entity without a sheet, without asking upstream', async () => {
    upstream.reset(routes({}));
    const connector = createSpreadsheetConnector(city, spreadsheetSource(), deps());
    const e = await cityError(connector.lookup('placements', 'beneficiaryId', ['1001']));
    expect(e).toMatchObject({ code: 'CITY_NOT_CONFIGURED', city });
    expect(upstream.requests).toHaveLength(0);
  });

  it('is UNKNOWN before any call, then UP as of the fetch time when the server gives no Last-Modified', async () => {
    upstream.reset(routes({ [housingPath]: xlsx(housingFile) }));
    const connector = createSpreadsheetConnector(city, spreadsheetSource(), deps());
    expect(connector.status()).toEqual({ status: 'UNKNOWN', asOf: null });

    await connector.page('housingResources', { offset: 0, limit: 1 });
    expect(connector.status()).toEqual({ status: 'UP', asOf: new Date('2025-03-10T08:00:00Z') });
  });
});

describe('config', () => {
  const base = {
    kind: 'spreadsheet',
    id: 'registro',
    domains: ['housing'],
    baseUrl: { env: 'LGNET_090064_REGISTRO_URL' },
    dateFormat: 'dd/mm/yyyy',
    vocabularies: {},
    auth: { header: 'Authorization', prefix: 'Bearer ', key: { env: 'LGNET_090064_REGISTRO_KEY' } },
    entities: { housingResources: { path: housingPath, fields: { localId: 'Codice', name: 'Struttura', kind: 'Tipo', capacity: 'Posti', occupancy: 'Occupati' } } },
  };
  const issues = (input: unknown) => {
    const r = SpreadsheetSourceSchema.safeParse(input);
    return r.success ? [] : r.error.issues.map((i) => i.message);
  };

  it('fills the defaults of a minimal source', () => {
    const parsed = SpreadsheetSourceSchema.parse(base);
    expect(parsed.revalidateMs).toBe(30_000);
    expect(parsed.entities.housingResources).toMatchObject({ headerRow: 1, headerJoin: ' / ', totalsPattern: '^totale' });
    expect(parsed.entities.housingResources!.sheet).toBeUndefined();
  });

  it('requires auth: a register holds personal data', () => {
    const { auth: _, ...open } = base;
    expect(SpreadsheetSourceSchema.safeParse(open).success).toBe(false);
  });

  it('requires each entity sharing a workbook to name its own sheet', () => {
    const shared = { ...base, domains: ['housing'], entities: { ...base.entities, placements: { path: housingPath, fields: { localId: 'N', beneficiaryId: 'A', resourceId: 'S', from: 'Dal', to: 'Al' } } } };
    expect(issues(shared)).toEqual(expect.arrayContaining([expect.stringContaining('housingResources shares the workbook /condivisi/strutture.xlsx with placements: name its sheet')]));
    const same = { ...shared, entities: { housingResources: { ...shared.entities.housingResources, sheet: 'Strutture' }, placements: { ...shared.entities.placements, sheet: 'strutture' } } };
    expect(issues(same)).toEqual(['placements and housingResources both read sheet "strutture" of /condivisi/strutture.xlsx']);
  });

  it('refuses a group row that is not above the header row, and a totals pattern that does not compile', () => {
    const entity = base.entities.housingResources;
    expect(issues({ ...base, entities: { housingResources: { ...entity, headerRow: 2, groupRow: 2 } } })).toEqual(['groupRow must be above headerRow']);
    expect(issues({ ...base, entities: { housingResources: { ...entity, totalsPattern: '^(totale' } } })).toEqual(['not a valid regular expression']);
  });
});
