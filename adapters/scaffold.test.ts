import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import ExcelJS from 'exceljs';
import { buildSchema, graphql, introspectionFromSchema } from 'graphql';
import iconv from 'iconv-lite';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createGraphqlStandIn } from '../sandbox/graphql-stand-in.ts';
import { createSoapStandIn, type SoapStandInDialect } from '../sandbox/soap-stand-in.ts';
import { CityConfig } from './config.ts';
import { GraphqlSource } from './connectors/graphql-config.ts';
import type { RawRow } from './port.ts';
import {
  findHeader,
  matchEntities,
  planGraphqlQuery,
  proposeFields,
  proposeSoap,
  readWsdl,
  sampleFromCsv,
  sampleFromJson,
  sampleFromWorkbook,
  scaffoldConfig,
  scaffoldKinds,
  todoPaths,
} from './scaffold.ts';

const run = promisify(execFile);
const script = fileURLToPath(new URL('../scripts/adapter-new.ts', import.meta.url));
const sassari = { code: '090064', name: 'Sassari', region: 'Sardegna', province: 'SS' };

/** The config as a city team would leave it after replacing each placeholder by a plain name. */
const withNames = (config: unknown) => JSON.parse(JSON.stringify(config).replace(/TODO_(\w+)/g, '$1')) as unknown;

const records = [
  { id: 'A1', codice_fiscale: 'RSSMRA90A01Z999X', anagrafica: { nome: 'Ada', cognome: 'Obi', sesso: 'F', data_nascita: '1990-01-02', cittadinanza: 'NG' }, permesso: { tipo: { codice: '01', descrizione: 'Asilo' } }, fragilita: [{ codice: 'VIT' }, { codice: 'MSNA' }], data_presa_in_carico: '2024-03-01', canale: 'UDS', stato: 'attivo' },
  { id: 'A2', codice_fiscale: 'BNCLCU85B02Z999Y', anagrafica: { nome: 'Luca', cognome: 'Bianchi', sesso: 'M', data_nascita: '1985-02-02', cittadinanza: 'SN' }, permesso: { tipo: { codice: '02', descrizione: 'Rifugiato' } }, fragilita: [], data_presa_in_carico: '2024-04-11', canale: 'SPORTELLO', stato: 'chiuso' },
];

describe('a scaffold', () => {
  it.each(scaffoldKinds)('of a %s source parses with CityConfig once its placeholders are replaced by plain names', (kind) => {
    const config = scaffoldConfig({ kind, ...sassari });
    expect(todoPaths(config)).toContain('sources[0].entities.beneficiaries.fields.intakeDate');
    expect((config.sources as Array<{ entities: { beneficiaries: { fields: Record<string, string> } } }>)[0]!.entities.beneficiaries.fields.intakeDate).toBe('TODO_intakeDate');
    const named = withNames(config);
    expect(todoPaths(named)).toEqual([]);
    const parsed = CityConfig.safeParse(named);
    expect(parsed.error?.issues ?? []).toEqual([]);
    expect(parsed.data?.sources[0]?.kind).toBe(kind);
    expect(parsed.data?.editions).toEqual(['LGNET3']);
  });

  it('refers to the environment for the endpoint and the key, by the name given with --key-env', () => {
    const config = scaffoldConfig({ kind: 'rest', ...sassari, keyEnv: 'SASSARI_API_KEY' }) as { sources: Array<{ baseUrl: unknown; auth: { key: unknown } }> };
    expect(config.sources[0]!.baseUrl).toEqual({ env: 'LGNET_090064_MAIN_URL' });
    expect(config.sources[0]!.auth.key).toEqual({ env: 'SASSARI_API_KEY' });
  });

  it('fails validation while a local code seen in a sample is still mapped to TODO, and passes once it is mapped', () => {
    const sample = { ...sampleFromJson('beneficiaries', { data: records }), path: '/assistiti' };
    const named = withNames(scaffoldConfig({ kind: 'rest', ...sassari, sample })) as { sources: Array<{ vocabularies: Record<string, Record<string, string>> }> };
    const vocabularies = named.sources[0]!.vocabularies;
    expect(vocabularies.sex).toEqual({ F: 'TODO', M: 'TODO' });
    const failed = CityConfig.safeParse(named);
    expect(failed.success).toBe(false);
    expect(failed.error!.issues.map((i) => i.path.slice(2).join('.'))).toContain('vocabularies.sex.F');

    Object.assign(vocabularies, {
      sex: { F: 'FEMALE', M: 'MALE' },
      permitType: { '01': 'ASYLUM_SEEKER', '02': 'REFUGEE_STATUS' },
      vulnerability: { MSNA: 'SINGLE_PARENT', VIT: 'TRAFFICKING' },
      intakeChannel: { SPORTELLO: 'ONE_STOP_SHOP', UDS: 'MOBILE_UNIT' },
      intakeStatus: { attivo: 'ACTIVE', chiuso: 'CLOSED_AUTONOMY' },
    });
    expect(todoPaths(named)).toEqual([]);
    const passed = CityConfig.safeParse(named);
    expect(passed.error?.issues ?? []).toEqual([]);
  });
});

describe('field proposals', () => {
  it('name the best matching field of a nested REST record for each canonical field, and leave the others null', () => {
    const sample = sampleFromJson('beneficiaries', { data: records, total: 2 });
    expect(sample.itemsPath).toBe('data');
    expect(sample.totalPath).toBe('total');
    expect(proposeFields('beneficiaries', sample.columns)).toEqual({
      localId: 'id',
      fiscalCode: 'codice_fiscale',
      givenName: 'anagrafica.nome',
      familyName: 'anagrafica.cognome',
      sex: 'anagrafica.sesso',
      birthDate: 'anagrafica.data_nascita',
      citizenship: 'anagrafica.cittadinanza',
      permitType: 'permesso.tipo.codice',
      vulnerabilities: 'fragilita.codice',
      intakeDate: 'data_presa_in_carico',
      intakeChannel: 'canale',
      intakeStatus: 'stato',
    });
    expect(proposeFields('services', ['codice', 'nome_servizio', 'colore'])).toEqual({ localId: 'codice', name: 'nome_servizio', category: null });
  });

  it('come from a CSV export in windows-1252 with Italian headers, with its codes, citizenship names and date format', () => {
    const csv = 'Codice;Codice fiscale;Nome;Cognome;Sesso;Data di nascita;Cittadinanza;Permesso;Vulnerabilità;Data presa in carico;Canale;Stato\r\n'
      + 'A1;RSSMRA90A01Z999X;Ada;Obi;F;02/01/1990;Nigeria;01;VIT,MSNA;01/03/2024;UDS;attivo\r\n'
      + 'A2;BNCLCU85B02Z999Y;Luca;Bianchi;M;02/02/1985;Senegal;02;;11/04/2024;SPORTELLO;chiuso\r\n';
    const sample = sampleFromCsv('beneficiaries', iconv.encode(csv, 'windows-1252'));
    expect(sample).toMatchObject({ encoding: 'windows-1252', delimiter: ';' });
    expect(proposeFields('beneficiaries', sample.columns)).toMatchObject({ localId: 'Codice', fiscalCode: 'Codice fiscale', birthDate: 'Data di nascita', vulnerabilities: 'Vulnerabilità', intakeDate: 'Data presa in carico' });
    const config = scaffoldConfig({ kind: 'csv', ...sassari, sample: { ...sample, path: '/export/assistiti.csv' } }) as { sources: Array<Record<string, unknown>> };
    const source = config.sources[0]!;
    expect(source).toMatchObject({ dateFormat: 'dd/mm/yyyy', encoding: 'windows-1252', citizenship: { Nigeria: 'TODO', Senegal: 'TODO' } });
    expect((source.vocabularies as Record<string, unknown>).vulnerability).toEqual({ MSNA: 'TODO', VIT: 'TODO' });
    expect(todoPaths(config)).toContain('sources[0].citizenship.Nigeria');
  });
});

/** The workbook a social worker keeps: a title, group labels merged above sub-columns, a label merged down over both rows, dates as Excel cells and as text, a blank row and a totals row. */
async function register(): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  workbook.addWorksheet('Note');
  const ws = workbook.addWorksheet('Assistiti');
  ws.getCell('A1').value = 'REGISTRO ASSISTITI LGNET 2024';
  ws.mergeCells('A1:K1');
  ws.getCell('A2').value = 'Codice';
  ws.mergeCells('A2:A3');
  ws.getCell('B2').value = 'Anagrafica';
  ws.mergeCells('B2:G2');
  ws.getCell('H2').value = 'Presa in carico';
  ws.mergeCells('H2:J2');
  ws.getCell('K2').value = 'Vulnerabilità';
  ws.mergeCells('K2:K3');
  ['Codice fiscale', 'Nome', 'Cognome', 'Sesso', 'Data di nascita', 'Cittadinanza', 'Data', 'Canale', 'Stato'].forEach((label, i) => (ws.getRow(3).getCell(i + 2).value = label));
  const day = (y: number, m: number, d: number) => new Date(Date.UTC(y, m - 1, d));
  ws.addRow(['A001', 'RSSMRA90A01Z999X', 'Ada', 'Obi', 'F', day(1990, 1, 2), 'Nigeria', '01.03.2024', 'Unità mobile', 'Attivo', 'SD, PSI']);
  ws.addRow(['A002', 'BNCLCU85B02Z999Y', 'Luca', 'Bianchi', 'M', day(1985, 2, 2), 'Senegal', '11.04.2024', 'Sportello', 'Chiuso', '']);
  ws.addRow([]);
  ws.addRow(['A003', 'KFOBSS97B54Z335Q', 'Blessing', 'Okafor', 'F', day(1997, 2, 14), 'Nigeria', '02.05.2024', 'Invio', 'Attivo', 'TRA']);
  ws.addRow(['TOTALE', 3]);
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

describe('a workbook', () => {
  it('has its header found below the title, with the merged group labels above it, and its columns named as the connector names them', async () => {
    const sample = await sampleFromWorkbook('beneficiaries', await register(), undefined, 'assistiti ');
    expect(sample).toMatchObject({ sheet: 'Assistiti', headerRow: 3, groupRow: 2 });
    expect(sample.columns).toEqual([
      'Codice', 'Anagrafica / Codice fiscale', 'Anagrafica / Nome', 'Anagrafica / Cognome', 'Anagrafica / Sesso', 'Anagrafica / Data di nascita',
      'Anagrafica / Cittadinanza', 'Presa in carico / Data', 'Presa in carico / Canale', 'Presa in carico / Stato', 'Vulnerabilità',
    ]);
    // The blank row and the totals row are no records.
    expect(sample.values.Codice).toEqual(['A001', 'A002', 'A003']);
    expect(sample.dates).toEqual({ 'Anagrafica / Data di nascita': 'date', 'Presa in carico / Data': 'text' });
    expect(proposeFields('beneficiaries', sample.columns)).toMatchObject({
      localId: 'Codice', fiscalCode: 'Anagrafica / Codice fiscale', givenName: 'Anagrafica / Nome', birthDate: 'Anagrafica / Data di nascita',
      intakeDate: 'Presa in carico / Data', intakeChannel: 'Presa in carico / Canale', intakeStatus: 'Presa in carico / Stato', vulnerabilities: 'Vulnerabilità',
    });
  });

  it('does not take a header with a label merged across two columns for group labels when a record written all in text follows it', async () => {
    const workbook = new ExcelJS.Workbook();
    const ws = workbook.addWorksheet('Utenti');
    ws.addRow(['ID utente', 'Nome', 'Data di ingresso', 'Note']);
    ws.mergeCells('D1:E1');
    ws.addRow(['U-17', 'Amal', '03/04/2024', 'da richiamare', 'urgente']);
    expect(findHeader(ws)).toEqual({ headerRow: 1 });
    const sample = await sampleFromWorkbook('beneficiaries', Buffer.from(await workbook.xlsx.writeBuffer()), undefined, undefined);
    // "Note" names two columns, which the connector cannot tell apart: it is left out, as the connector leaves it.
    expect(sample).toMatchObject({ headerRow: 1, columns: ['ID utente', 'Nome', 'Data di ingresso'], dates: { 'Data di ingresso': 'text' } });
    expect(sample.groupRow).toBeUndefined();
  });

  it('that is an HTML page is refused, saying so', async () => {
    await expect(sampleFromWorkbook('beneficiaries', Buffer.from('<html><body>Manutenzione</body></html>'), 'text/html', undefined)).rejects.toThrow(/expected an xlsx workbook, got text\/html/);
  });
});

describe('a GraphQL query planned from introspection', () => {
  const schema = buildSchema(`
    type Query { persone(pagina: Int!, perPagina: Int = 20, filtro: String): [Persona!]!  versione: String }
    type Persona { id: ID!  nome: String  anagrafica: Anagrafica  foto(formato: String!): String }
    type Anagrafica { nascita: Nascita  sesso: Sesso }
    type Nascita { data: String  luogo: Luogo }
    type Luogo { comune: String }
    enum Sesso { M F }
  `);

  it('selects every leaf of a record down to three levels, pages by the Int arguments, and leaves out fields that need arguments', () => {
    const plan = planGraphqlQuery(introspectionFromSchema(schema));
    expect(plan).toMatchObject({
      rootField: 'persone',
      itemsPath: 'persone',
      totalPath: null,
      paging: { style: 'page', startVariable: 'pagina', sizeVariable: 'perPagina' },
      leaves: ['id', 'nome', 'anagrafica.nascita.data', 'anagrafica.sesso'],
      required: [],
    });
    expect(plan.query).toBe('query ($pagina: Int!, $perPagina: Int) { persone(pagina: $pagina, perPagina: $perPagina) { id nome anagrafica { nascita { data } sesso } } }');
  });

  it('names the root fields when the one asked for is not there', () => {
    expect(() => planGraphqlQuery(introspectionFromSchema(schema), 'assistiti')).toThrow('the API has no root field "assistiti" (root fields: persone, versione)');
  });
});

describe('a WSDL', () => {
  const wsdl = readWsdl(readFileSync(new URL('./connectors/fixtures/soap/cartella-sociale.wsdl', import.meta.url), 'utf8'));

  it('gives each entity the operation named after it, and the paging elements its schema declares for the request', () => {
    expect(proposeSoap(wsdl)).toEqual({
      namespace: 'http://cartellasociale.comune.example.it/ws/v1',
      elementFormDefault: 'qualified',
      entities: {
        beneficiaries: { operation: 'RicercaAssistiti', soapAction: 'urn:cartellasociale:RicercaAssistiti', request: 'RicercaAssistitiRichiesta' },
        services: { operation: 'RicercaInterventi', soapAction: 'urn:cartellasociale:RicercaInterventi', request: 'RicercaInterventiRichiesta' },
      },
      paging: { style: 'page', startParam: 'pagina', sizeParam: 'dimensionePagina' },
      whyNoSample: null,
    });
  });

  it('matches operations to entities by a word of their name, a listing operation before one that reads a single record', () => {
    expect(matchEntities(['DettaglioAssistito', 'RicercaAssistiti', 'cercaUtenti', 'ElencoStruttureAccoglienza', 'Ping'])).toEqual({
      beneficiaries: 'RicercaAssistiti',
      housingResources: 'ElencoStruttureAccoglienza',
    });
  });
});

describe('npm run adapter:new', () => {
  const folders: string[] = [];
  const folder = () => {
    const dir = mkdtempSync(join(tmpdir(), 'adapter-new-'));
    folders.push(dir);
    return dir;
  };
  /** What a test started (servers, stand-ins, schemas and databases): undone after it, last first. */
  const undo: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const dir of folders.splice(0)) rmSync(dir, { recursive: true, force: true });
    for (const step of undo.splice(0).reverse()) await step();
  });
  const cli = (args: string[], env: Record<string, string> = {}) =>
    run(process.execPath, ['--experimental-strip-types', '--no-warnings', script, ...args], { env: { ...process.env, ...env }, timeout: 30_000 }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );
  /** A server on 127.0.0.1 for the test's length; its base URL. */
  const serve = async (handler: RequestListener): Promise<string> => {
    const server: Server = createServer(handler);
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    undo.push(() => {
      server.closeAllConnections();
      return new Promise((done) => server.close(done));
    });
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };
  /** A port on 127.0.0.1 that nothing listens on. */
  const closedPort = async (): Promise<number> => {
    const server = createServer();
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const { port } = server.address() as AddressInfo;
    await new Promise((done) => server.close(done));
    return port;
  };
  const draft = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as { sources: Array<Record<string, any>> };
  const unique = () => `scaffold_${randomBytes(5).toString('hex')}`;

  it('writes the file into the folder given, exits 0, and refuses to overwrite it', async () => {
    const out = join(folder(), 'city.json');
    const first = await cli(['--kind', 'soap', '--city', '021008', '--out', out]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/sources\[0\]\.entities\.beneficiaries\.fields: .*intakeDate/);
    const written = JSON.parse(readFileSync(out, 'utf8')) as { name: string; altNames: string[]; region: string; province: string };
    expect(written).toMatchObject({ name: 'Bolzano', altNames: ['Bozen'], province: 'BZ' });
    const before = statSync(out).mtimeMs;

    const second = await cli(['--kind', 'rest', '--city', '021008', '--out', out]);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/exists already: not overwritten/);
    expect(statSync(out).mtimeMs).toBe(before);
    expect(JSON.parse(readFileSync(out, 'utf8')).sources[0].kind).toBe('soap');
  });

  it('exits 2 naming an unknown city code, and on a missing --kind without a terminal', async () => {
    const unknown = await cli(['--kind', 'rest', '--city', '999999', '--out', join(folder(), 'x.json')]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/"999999" is not the ISTAT code/);
    const missing = await cli(['--city', '090064', '--out', join(folder(), 'x.json')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/missing --kind/);
  });

  it('reads five records of a REST system with the key from --key-env, proposes its fields and codes, and never prints the key', async () => {
    const requests: IncomingMessage[] = [];
    const server = createServer((req, res) => {
      requests.push(req);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ data: [...records, ...records, ...records], total: 6 }));
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const stop = setTimeout(() => server.close(), 30_000).unref();
    try {
      const { port } = server.address() as AddressInfo;
      const out = join(folder(), 'sassari.json');
      const key = 'k-3f9a-secret';
      const result = await cli(['--kind', 'rest', '--city', '090064', '--url', `http://127.0.0.1:${port}/api`, '--path', '/assistiti', '--key-env', 'SASSARI_KEY', '--out', out], { SASSARI_KEY: key });
      expect(result.code).toBe(0);
      expect(requests.map((r) => r.url)).toEqual(['/api/assistiti?limit=5']);
      expect(requests[0]!.headers['x-api-key']).toBe(key);
      expect(result.stdout + result.stderr).not.toContain(key);
      expect(result.stdout).toMatch(/fails validation until each has its national code/);
      expect(result.stdout).toMatch(/vocabularies\.sex: .*F/);
      const source = JSON.parse(readFileSync(out, 'utf8')).sources[0];
      expect(source).toMatchObject({ dateFormat: 'yyyy-mm-dd', auth: { key: { env: 'SASSARI_KEY' } }, paging: { sizeParam: 'limit', itemsPath: 'data', totalPath: 'total' } });
      expect(source.entities.beneficiaries).toMatchObject({ path: '/assistiti', fields: { givenName: 'anagrafica.nome', permitType: 'permesso.tipo.codice', intakeDate: 'data_presa_in_carico' } });
      expect(source.vocabularies.intakeChannel).toEqual({ SPORTELLO: 'TODO', UDS: 'TODO' });
    } finally {
      clearTimeout(stop);
      await new Promise((done) => server.close(done));
    }
  });
  it('refuses, with exit 2, a view that is not a plain name and a flag of another kind of system', async () => {
    const out = join(folder(), 'x.json');
    const view = await cli(['--kind', 'sql', '--city', '037006', '--url', 'postgres://postgres@127.0.0.1:5432/test', '--view', 'v; DROP TABLE t', '--out', out]);
    expect(view.code).toBe(2);
    expect(view.stderr).toMatch(/--view "v; DROP TABLE t" is not a plain view name/);
    const sheet = await cli(['--kind', 'rest', '--city', '037006', '--sheet', 'Assistiti', '--out', out]);
    expect(sheet.code).toBe(2);
    expect(sheet.stderr).toMatch(/--sheet is for spreadsheet systems, not rest/);
    const scheme = await cli(['--kind', 'sql', '--city', '037006', '--url', 'http://127.0.0.1/db', '--out', out]);
    expect(scheme.code).toBe(2);
    expect(scheme.stderr).toMatch(/--url of a sql system is a connection string/);
  });

  it('reads the columns and five rows of a PostgreSQL view, proposes its fields, DATE columns, date format and codes, and never prints the password', async () => {
    const schema = unique();
    const admin = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' });
    await admin.connect();
    undo.push(async () => {
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
    });
    await admin.query(`CREATE SCHEMA ${schema}`);
    await admin.query(`CREATE TABLE ${schema}.cartelle (id_assistito text, codice_fiscale text, nome text, cognome text, genere text, data_nascita date,
      nazionalita text, permesso_soggiorno text, fragilita text, data_accesso text, modalita_accesso text, esito text, note_interne text)`);
    await admin.query(`INSERT INTO ${schema}.cartelle VALUES
      ('BO-1', 'RSSMRA90A01Z999X', 'Ada', 'Obi', 'F', '1990-01-02', 'Nigeria', 'RIC', 'SD|PSI', '01/03/2024', 'UDS', 'attivo', NULL),
      ('BO-2', 'BNCLCU85B02Z999Y', 'Luca', 'Bianchi', 'M', '1985-02-02', 'Senegal', 'LAV', NULL, '11/04/2024', 'SPORTELLO', 'chiuso', 'x'),
      ('BO-3', 'KFOBSS97B54Z335Q', 'Blessing', 'Okafor', 'F', '1997-02-14', 'Nigeria', 'RIC', 'TRA', '02/05/2024', 'UDS', 'attivo', NULL),
      ('BO-4', 'DLLBRH94H30Z319A', 'Ibrahima', 'Diallo', 'M', '1994-06-30', 'Guinea', 'RIC', '', '03/06/2024', 'UDS', 'attivo', NULL),
      ('BO-5', 'LMRYSF88T01Z330B', 'Youssef', 'El Amrani', 'M', '1988-12-01', 'Marocco', 'LAV', 'SD', '04/07/2024', 'SPORTELLO', 'attivo', NULL),
      ('BO-6', 'JVNMLC90M59Z158C', 'Milica', 'Jovanovic', 'F', '1990-08-19', 'Serbia', 'FAM', 'VDG', '05/08/2024', 'INVIO', 'trasferito', NULL)`);
    await admin.query(`CREATE VIEW ${schema}.v_assistiti AS SELECT * FROM ${schema}.cartelle ORDER BY id_assistito`);

    const out = join(folder(), 'bologna.json');
    const password = 'pw-7c1d-secret';
    const result = await cli(['--kind', 'sql', '--city', '037006', '--url', 'postgres://postgres@127.0.0.1:5432/test', '--view', `${schema}.v_assistiti`, '--key-env', 'BOLOGNA_DB_PASSWORD', '--out', out], { BOLOGNA_DB_PASSWORD: password });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Read a sample of the beneficiaries from postgres://postgres@127.0.0.1:5432/test, view "${schema}.v_assistiti": 13 columns, 5 rows.`);
    expect(result.stdout).toContain('Dates seen: "data_nascita" (DATE), "data_accesso" (dates as text).');
    expect(result.stdout + result.stderr).not.toContain(password);
    const source = draft(out).sources[0]!;
    expect(source).toMatchObject({ kind: 'sql', dialect: 'postgres', dateFormat: 'dd/mm/yyyy', listSeparator: '|', auth: { key: { env: 'BOLOGNA_DB_PASSWORD' } } });
    expect(source.entities.beneficiaries).toEqual({
      view: `${schema}.v_assistiti`,
      dates: { birthDate: 'date', intakeDate: 'text' },
      fields: {
        localId: 'id_assistito', fiscalCode: 'codice_fiscale', givenName: 'nome', familyName: 'cognome', sex: 'genere', birthDate: 'data_nascita', citizenship: 'nazionalita',
        permitType: 'permesso_soggiorno', vulnerabilities: 'fragilita', intakeDate: 'data_accesso', intakeChannel: 'modalita_accesso', intakeStatus: 'esito',
      },
    });
    // Five rows: the sixth one's codes are not seen.
    expect(source.vocabularies).toMatchObject({ intakeChannel: { SPORTELLO: 'TODO', UDS: 'TODO' }, vulnerability: { PSI: 'TODO', SD: 'TODO', TRA: 'TODO' }, permitType: { LAV: 'TODO', RIC: 'TODO' } });
    expect(source.citizenship).toEqual({ Guinea: 'TODO', Marocco: 'TODO', Nigeria: 'TODO', Senegal: 'TODO' });
  });

  it('reads a MariaDB view in another database, with its DATE columns', async () => {
    const database = unique();
    const admin = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root', database: 'test' });
    undo.push(async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${database}`);
      await admin.end();
    });
    await admin.query(`CREATE DATABASE ${database}`);
    await admin.query(`CREATE TABLE ${database}.utenti (id_utente varchar(20), nome varchar(50), cognome varchar(50), sesso char(1), data_nascita date, cittadinanza char(2),
      tipo_permesso varchar(10), vulnerabilita varchar(50), data_presa_in_carico date, canale_accesso varchar(20), stato_presa_in_carico varchar(20), codice_fiscale char(16))`);
    await admin.query(`INSERT INTO ${database}.utenti VALUES
      ('FI-1', 'Ada', 'Obi', 'F', '1990-01-02', 'NG', '01', 'SD,PSI', '2024-03-01', 'UDS', 'attivo', 'RSSMRA90A01Z999X'),
      ('FI-2', 'Luca', 'Bianchi', 'M', '1985-02-02', 'SN', '06', NULL, '2024-04-11', 'SPORTELLO', 'chiuso', 'BNCLCU85B02Z999Y')`);
    await admin.query(`CREATE VIEW ${database}.v_utenti AS SELECT * FROM ${database}.utenti`);

    const out = join(folder(), 'firenze.json');
    const result = await cli(['--kind', 'sql', '--city', '048017', '--url', 'mysql://root@127.0.0.1:3306/test', '--view', `${database}.v_utenti`, '--out', out]);
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain(`view "${database}.v_utenti": 12 columns, 2 rows.`);
    const source = draft(out).sources[0]!;
    expect(source).toMatchObject({ dialect: 'mysql', listSeparator: ',', vocabularies: { vulnerability: { PSI: 'TODO', SD: 'TODO' }, permitType: { '01': 'TODO', '06': 'TODO' } } });
    // Citizenship already in ISO codes needs no table.
    expect(source.citizenship).toBeUndefined();
    expect(source.entities.beneficiaries).toMatchObject({
      view: `${database}.v_utenti`,
      dates: { birthDate: 'date', intakeDate: 'date' },
      fields: { localId: 'id_utente', fiscalCode: 'codice_fiscale', permitType: 'tipo_permesso', intakeDate: 'data_presa_in_carico', intakeChannel: 'canale_accesso', intakeStatus: 'stato_presa_in_carico' },
    });
  });

  it('reads a workbook with the key from --key-env, and proposes its header rows, columns, date format and codes', async () => {
    const key = 'k-registro-secret';
    const workbook = await register();
    const asked: IncomingMessage[] = [];
    const url = await serve((req, res) => {
      asked.push(req);
      if (req.headers['x-api-key'] !== key) return void res.writeHead(401).end();
      res.writeHead(200, { 'content-type': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' }).end(workbook);
    });
    const out = join(folder(), 'campobasso.json');
    const result = await cli(['--kind', 'spreadsheet', '--city', '070006', '--url', url, '--path', '/condivisi/registro.xlsx', '--sheet', 'Assistiti', '--key-env', 'REGISTRO_KEY', '--out', out], { REGISTRO_KEY: key });
    expect(result.stderr).toBe('');
    expect(asked.map((r) => r.url)).toEqual(['/condivisi/registro.xlsx']);
    expect(result.stdout).toContain(`Read a sample of the beneficiaries from ${url}/condivisi/registro.xlsx: column names in row 3, group labels in row 2, 11 columns.`);
    expect(result.stdout).toContain('Dates seen: "Anagrafica / Data di nascita" (Excel dates), "Presa in carico / Data" (written as text).');
    expect(result.stdout).not.toContain(key);
    const source = draft(out).sources[0]!;
    expect(source).toMatchObject({ dateFormat: 'dd.mm.yyyy', citizenship: { Nigeria: 'TODO', Senegal: 'TODO' } });
    expect(source.vocabularies).toMatchObject({ intakeChannel: { Invio: 'TODO', Sportello: 'TODO', 'Unità mobile': 'TODO' }, vulnerability: { PSI: 'TODO', SD: 'TODO', TRA: 'TODO' } });
    expect(source.entities.beneficiaries).toMatchObject({
      path: '/condivisi/registro.xlsx', sheet: 'Assistiti', headerRow: 3, groupRow: 2,
      fields: { localId: 'Codice', familyName: 'Anagrafica / Cognome', sex: 'Anagrafica / Sesso', citizenship: 'Anagrafica / Cittadinanza', intakeDate: 'Presa in carico / Data', permitType: 'TODO_permitType' },
    });
  });

  it('introspects the GraphQL stand-in of Bari, asks it for five records, and drafts a query that selects every field it maps', async () => {
    const config = GraphqlSource.parse(JSON.parse(readFileSync(new URL('./connectors/fixtures/graphql-city-bari.json', import.meta.url), 'utf8')));
    const person = (i: number, rest: Record<string, unknown>): RawRow => ({
      codice: `BA-${i}`, 'persona.nome': `Nome${i}`, 'persona.cognome': `Cognome${i}`, 'persona.codiceFiscale': `RSSMRA90A01Z99${i}X`, 'persona.dataNascita': `199${i}-01-02`,
      'permesso.tipo.codice': 'RIC', 'presaInCarico.data': `2024-0${i}-01`, 'presaInCarico.stato': 'attivo', ...rest,
    });
    const rows: RawRow[] = [
      person(1, { 'persona.sesso': 'F', 'persona.cittadinanza': 'Nigeria', 'fragilita.codice': ['SD', 'PSI'], 'presaInCarico.canale': 'UDS' }),
      person(2, { 'persona.sesso': 'M', 'persona.cittadinanza': 'Senegal', 'fragilita.codice': [], 'presaInCarico.canale': 'SPORTELLO' }),
      ...[3, 4, 5, 6].map((i) => person(i, { 'persona.sesso': 'M', 'persona.cittadinanza': 'Mali', 'fragilita.codice': ['TRA'], 'presaInCarico.canale': i === 6 ? 'INVIO' : 'UDS' })),
    ];
    const key = 'tok-bari-secret';
    const standIn = await createGraphqlStandIn({ source: config, rows: new Map([['beneficiaries', rows]]), apiKey: key, basePath: '/bari' });
    undo.push(() => standIn.close());

    const out = join(folder(), 'bari.json');
    const result = await cli(['--kind', 'graphql', '--city', '072006', '--url', `${standIn.url}/graphql`, '--key-env', 'BARI_TOKEN', '--out', out], { BARI_TOKEN: key });
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain(`Read the schema of ${standIn.url}/graphql: root field "assistiti", records at "assistiti.elementi", total at "assistiti.totale", paged by $dopo (offset) and $primi (size)`);
    expect(result.stdout).toContain(`Read a sample of the beneficiaries from ${standIn.url}/graphql.`);
    expect(result.stdout).not.toContain(key);
    const source = draft(out).sources[0]!;
    expect(source).toMatchObject({ dateFormat: 'yyyy-mm-dd', paging: { style: 'offset', startVariable: 'dopo', sizeVariable: 'primi' }, auth: { header: 'Authorization', prefix: 'Bearer ', key: { env: 'BARI_TOKEN' } } });
    const beneficiaries = source.entities.beneficiaries;
    expect(beneficiaries).toMatchObject({
      path: '', itemsPath: 'assistiti.elementi', totalPath: 'assistiti.totale',
      fields: {
        localId: 'codice', fiscalCode: 'persona.codiceFiscale', givenName: 'persona.nome', familyName: 'persona.cognome', sex: 'persona.sesso', birthDate: 'persona.dataNascita',
        citizenship: 'persona.cittadinanza', permitType: 'permesso.tipo.codice', vulnerabilities: 'fragilita.codice', intakeDate: 'presaInCarico.data', intakeChannel: 'presaInCarico.canale', intakeStatus: 'presaInCarico.stato',
      },
    });
    expect(beneficiaries.query).toMatch(/^query \(\$primi: Int!?, \$dopo: Int!?\) \{ assistiti\(primi: \$primi, dopo: \$dopo\) \{ totale elementi \{ /);
    // Five records were read: the sixth one's channel is not among the codes.
    expect(source.vocabularies.intakeChannel).toEqual({ SPORTELLO: 'TODO', UDS: 'TODO' });

    // Once its codes are mapped, the entity validates: its query selects every field it maps.
    Object.assign(source.vocabularies, {
      sex: { F: 'FEMALE', M: 'MALE' }, permitType: { RIC: 'ASYLUM_SEEKER' }, vulnerability: { PSI: 'MENTAL_HEALTH', SD: 'HOMELESSNESS', TRA: 'TRAFFICKING' },
      intakeChannel: { SPORTELLO: 'ONE_STOP_SHOP', UDS: 'MOBILE_UNIT' }, intakeStatus: { attivo: 'ACTIVE' },
    });
    source.citizenship = { Mali: 'ML', Nigeria: 'NG', Senegal: 'SN' };
    const parsed = GraphqlSource.safeParse({ ...source, entities: { beneficiaries } });
    expect(parsed.error?.issues ?? []).toEqual([]);
  });

  it('pages a GraphQL API by page number when its argument says so, and leaves the total to fill when the root field is the list itself', async () => {
    const schema = buildSchema(`
      type Query { persone(pagina: Int!, perPagina: Int = 20): [Persona!]! }
      type Persona { id: ID!  nome: String  anagrafica: Anagrafica }
      type Anagrafica { sesso: String  nascita: Nascita }
      type Nascita { data: String }
    `);
    const people = [
      { id: 'P1', nome: 'Ada', anagrafica: { sesso: 'F', nascita: { data: '02/01/1990' } } },
      { id: 'P2', nome: 'Luca', anagrafica: { sesso: 'M', nascita: { data: '02/02/1985' } } },
    ];
    const variables: unknown[] = [];
    const url = await serve(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { query: string; variables?: Record<string, unknown> };
      if (!/__schema/.test(body.query)) variables.push(body.variables);
      const result = await graphql({ schema, source: body.query, variableValues: body.variables, rootValue: { persone: ({ pagina, perPagina }: { pagina: number; perPagina: number }) => people.slice((pagina - 1) * perPagina, pagina * perPagina) } });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result));
    });
    const out = join(folder(), 'potenza.json');
    const result = await cli(['--kind', 'graphql', '--city', '076063', '--url', url, '--path', '/api/graphql', '--query-field', 'persone', '--out', out]);
    expect(result.stderr).toBe('');
    expect(variables).toEqual([{ pagina: 1, perPagina: 5 }]);
    const source = draft(out).sources[0]!;
    expect(source).toMatchObject({ dateFormat: 'dd/mm/yyyy', paging: { style: 'page', startVariable: 'pagina', sizeVariable: 'perPagina' }, vocabularies: { sex: { F: 'TODO', M: 'TODO' } } });
    expect(source.entities.beneficiaries).toMatchObject({
      path: '/api/graphql',
      query: 'query ($pagina: Int!, $perPagina: Int) { persone(pagina: $pagina, perPagina: $perPagina) { id nome anagrafica { sesso nascita { data } } } }',
      itemsPath: 'persone',
      totalPath: 'TODO_totalPath',
      fields: { localId: 'id', givenName: 'nome', sex: 'anagrafica.sesso', birthDate: 'anagrafica.nascita.data' },
    });
  });

  it('proposes the operation of each entity from the WSDL of the SOAP stand-in of Venezia, and says why it reads no sample when the WSDL has no types', async () => {
    const dialect = JSON.parse(readFileSync(new URL('./connectors/fixtures/soap-city-venezia.json', import.meta.url), 'utf8')) as SoapStandInDialect;
    const standIn = await createSoapStandIn({ dialect, rows: new Map(), apiKey: 'k', basePath: '/ws' });
    undo.push(() => standIn.close());
    const endpoint = `${standIn.url}/CartellaSocialeService`;
    const namespace = /targetNamespace="([^"]+)"/.exec(await (await fetch(`${endpoint}?wsdl`)).text())?.[1];

    const out = join(folder(), 'venezia.json');
    const result = await cli(['--kind', 'soap', '--city', '027042', '--url', endpoint, '--out', out]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("No sample was read (the WSDL has no schema of its messages (no <types>), so the request's paging elements are unknown): paging, recordsPath, totalPath and the fields are left as placeholders.");
    const source = draft(out).sources[0]!;
    expect(source.namespace).toBe(namespace);
    expect(source.paging).toMatchObject({ startParam: 'TODO_startParam', sizeParam: 'TODO_sizeParam' });
    const operations = Object.fromEntries(Object.entries(source.entities as Record<string, Record<string, string>>).map(([e, x]) => [e, [x.operation, x.request, x.soapAction === dialect.entities[e as 'services']!.soapAction]]));
    expect(operations).toEqual({
      beneficiaries: ['RicercaAssistiti', 'RicercaAssistitiRequest', true],
      services: ['ElencoServizi', 'ElencoServiziRequest', true],
      enrollments: ['RicercaIscrizioni', 'RicercaIscrizioniRequest', true],
      civicProjects: ['RicercaProgettiInclusione', 'RicercaProgettiInclusioneRequest', true],
      housingResources: ['ElencoStrutture', 'ElencoStruttureRequest', true],
      placements: ['RicercaInserimenti', 'RicercaInserimentiRequest', true],
    });
    expect(source.entities.beneficiaries).toMatchObject({ path: '', recordsPath: 'TODO_beneficiariesRecordsPath', fields: { localId: 'TODO_localId' } });
  });

  it('asks a SOAP service for five records when its WSDL declares the paging elements, finding the first page, the records and the total', async () => {
    const key = 'k-cartella-secret';
    const dialect = {
      id: 'main', namespace: 'http://cartellasociale.comune.example.it/ws/v1', auth: { header: 'X-API-Key', prefix: '' },
      paging: { style: 'page', startParam: 'pagina', sizeParam: 'dimensionePagina', firstPage: 1, maxPageSize: 50 }, maxBatchSize: 10,
      entities: {
        beneficiaries: {
          path: '/CartellaSociale', operation: 'RicercaAssistiti', soapAction: 'urn:cartellasociale:RicercaAssistiti', request: 'RicercaAssistitiRichiesta',
          recordsPath: 'RicercaAssistitiRisposta.assistiti.assistito', totalPath: 'RicercaAssistitiRisposta.totaleRecord', batchParams: {}, fields: { localId: '@id' },
        },
      },
    } as unknown as SoapStandInDialect;
    const rows: RawRow[] = Array.from({ length: 7 }, (_, i) => ({
      '@id': `A00${i + 1}`, 'anagrafica.nome': `Nome${i}`, 'anagrafica.cognome': 'Rossi', 'anagrafica.sesso': i % 2 === 0 ? 'F' : 'M', 'anagrafica.dataNascita': `1${i}/01/1990`,
      'anagrafica.cittadinanza@codice': 'NG', 'permesso.codice': 'RICH_ASILO', 'vulnerabilita.voce': i % 2 === 0 ? ['SD', 'GRAV'] : ['PSI'],
      'presaInCarico.data': `1${i}/02/2024`, 'presaInCarico.canale': i === 6 ? 'INVIO' : 'UDS', 'presaInCarico.stato': 'attivo',
    }));
    const standIn = await createSoapStandIn({ dialect, rows: new Map([['beneficiaries', rows]]), apiKey: key });
    undo.push(() => standIn.close());
    // The stand-in's own WSDL declares no types: this service answers with the one that does, and passes the calls on.
    const wsdl = readFileSync(new URL('./connectors/fixtures/soap/cartella-sociale.wsdl', import.meta.url));
    const pages: string[] = [];
    const url = await serve(async (req, res) => {
      if (req.url?.endsWith('?wsdl')) return void res.writeHead(200, { 'content-type': 'text/xml' }).end(wsdl);
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      pages.push(/<pagina>(\d+)<\/pagina>/.exec(Buffer.concat(chunks).toString('utf8'))?.[1] ?? '');
      const answer = await fetch(`${standIn.url}/CartellaSociale`, { method: 'POST', headers: req.headers as Record<string, string>, body: Buffer.concat(chunks) });
      res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'text/xml' }).end(Buffer.from(await answer.arrayBuffer()));
    });
    const out = join(folder(), 'aosta.json');
    const result = await cli(['--kind', 'soap', '--city', '007003', '--url', `${url}/ws/CartellaSociale`, '--key-env', 'CARTELLA_KEY', '--out', out], { CARTELLA_KEY: key });
    expect(result.stderr).toBe('');
    // Page 0 is refused with a fault: the pages count from 1.
    expect(pages).toEqual(['0', '1']);
    expect(result.stdout).toContain('records at "RicercaAssistitiRisposta.assistiti.assistito", total at "RicercaAssistitiRisposta.totaleRecord"');
    expect(result.stdout).not.toContain(key);
    const source = draft(out).sources[0]!;
    expect(source).toMatchObject({
      namespace: 'http://cartellasociale.comune.example.it/ws/v1', elementFormDefault: 'qualified', dateFormat: 'dd/mm/yyyy',
      paging: { style: 'page', startParam: 'pagina', sizeParam: 'dimensionePagina', firstPage: 1 },
      vocabularies: { vulnerability: { GRAV: 'TODO', PSI: 'TODO', SD: 'TODO' }, intakeChannel: { UDS: 'TODO' } },
    });
    expect(source.entities.beneficiaries).toMatchObject({
      operation: 'RicercaAssistiti', soapAction: 'urn:cartellasociale:RicercaAssistiti', request: 'RicercaAssistitiRichiesta',
      recordsPath: 'RicercaAssistitiRisposta.assistiti.assistito', totalPath: 'RicercaAssistitiRisposta.totaleRecord',
      fields: { localId: '@id', givenName: 'anagrafica.nome', citizenship: 'anagrafica.cittadinanza@codice', permitType: 'permesso.codice', vulnerabilities: 'vulnerabilita.voce', intakeDate: 'presaInCarico.data' },
    });
    expect(source.entities.services).toMatchObject({ operation: 'RicercaInterventi', recordsPath: 'TODO_servicesRecordsPath' });
  });

  it('writes the draft with placeholders and says why in one line when a system cannot be read, whatever its kind', async () => {
    const port = await closedPort();
    const maintenance = await serve((_req, res) => res.writeHead(503, { 'content-type': 'text/html' }).end('<html><body>Manutenzione in corso</body></html>'));
    const page = await serve((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>Accedi</body></html>'));
    const cases = [
      { kind: 'sql', args: ['--url', `postgres://lgnet:pw-inline-secret@127.0.0.1:${port}/test`, '--view', 'v_assistiti'], says: `Could not read a sample from postgres://lgnet@127.0.0.1:${port}/test (connection failed (ECONNREFUSED)): the fields are left as placeholders.` },
      { kind: 'sql', args: ['--url', `mysql://root@127.0.0.1:3306/test`, '--view', 'v_che_non_esiste'], says: 'Could not read a sample from mysql://root@127.0.0.1:3306/test (no view "v_che_non_esiste" this user can read): the fields are left as placeholders.' },
      { kind: 'graphql', args: ['--url', `${maintenance}/graphql`], says: `Could not read the schema of ${maintenance}/graphql (HTTP 503): the query and the fields are left as placeholders.` },
      { kind: 'soap', args: ['--url', `http://127.0.0.1:${port}/ws`], says: `Could not read the WSDL at http://127.0.0.1:${port}/ws?wsdl (connection failed (ECONNREFUSED)): operations, namespace and fields are left as placeholders.` },
      { kind: 'spreadsheet', args: ['--url', page, '--path', '/registro.xlsx'], says: `Could not read a sample from ${page}/registro.xlsx (expected an xlsx workbook, got text/html): the fields are left as placeholders.` },
    ];
    const results = await Promise.all(cases.map(async ({ kind, args }) => {
      const out = join(folder(), `${kind}.json`);
      return { out, ...(await cli(['--kind', kind, '--city', '090064', ...args, '--out', out])) };
    }));
    results.forEach((result, i) => {
      expect([cases[i]!.kind, result.code, result.stderr]).toEqual([cases[i]!.kind, 0, '']);
      const lines = result.stdout.split('\n');
      expect(lines.filter((l) => l.startsWith('Could not'))).toEqual([cases[i]!.says]);
      expect(lines.some((l) => /^\s+at /.test(l))).toBe(false);
      expect(todoPaths(draft(result.out))).toContain('sources[0].entities.beneficiaries.fields.localId');
    });
    expect(results[0]!.stdout).not.toContain('pw-inline-secret');
    expect(draft(results[0]!.out).sources[0]!.entities.beneficiaries.view).toBe('v_assistiti');
    expect(draft(results[1]!.out).sources[0]!.dialect).toBe('mysql');
    expect(draft(results[4]!.out).sources[0]!.entities.beneficiaries.path).toBe('/registro.xlsx');
  });
});
