import { Agent } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CityError } from '../../schema/errors.ts';
import { rowDefect, type ConnectorDeps } from '../port.ts';
import { requestDefaults } from '../config.ts';
import { silentLogger, type Logger } from '../../runtime/logger.ts';
import { createCsvConnector, type CsvSource } from './csv.ts';
import { closedPortUrl, file, fixture, routes, startUpstream, type Reply, type Upstream } from './fixtures/upstream-server.ts';

const city = '090064'; // Sassari
const csvType = 'text/csv; charset=windows-1252';
const peoplePath = '/export/beneficiari.csv';
const lastModified = 'Mon, 10 Mar 2025 06:00:00 GMT';

let upstream: Upstream;
let agent: Agent;
let clock = 0;
let warnings: Array<{ msg: string; data?: Record<string, unknown> }> = [];
const logger: Logger = { ...silentLogger, warn: (msg, data) => void warnings.push({ msg, data }) };
const deps = (): ConnectorDeps => ({ dispatcher: agent, now: () => clock, logger });

beforeAll(async () => {
  upstream = await startUpstream();
  agent = new Agent();
});
afterAll(async () => {
  await agent.close();
  await upstream.close();
});
beforeEach(() => {
  clock = Date.parse('2025-03-10T08:00:00Z');
  warnings = [];
});

function csvSource(overrides: Partial<CsvSource> = {}): CsvSource {
  return {
    kind: 'csv',
    id: 'export',
    domains: ['people', 'services'],
    baseUrl: upstream.baseUrl,
    apiKey: null,
    dateFormat: 'dd/mm/yyyy',
    listSeparator: ',',
    vocabularies: {},
    ...requestDefaults,
    timeoutMs: 5_000,
    // No retries here, so that every request counted is one the test expects; retries have their own test.
    retries: 0,
    encoding: 'windows-1252',
    delimiter: ';',
    revalidateMs: 30_000,
    entities: {
      beneficiaries: {
        path: peoplePath,
        fields: {
          localId: 'Codice', fiscalCode: 'Codice fiscale', givenName: 'Nome', familyName: 'Cognome', sex: 'Sesso',
          birthDate: 'Data di nascita', citizenship: 'Cittadinanza', permitType: 'Permesso', vulnerabilities: 'Vulnerabilità',
          intakeDate: 'Data presa in carico', intakeChannel: 'Canale', intakeStatus: 'Stato',
        },
      },
      enrollments: {
        path: '/export/iscrizioni.csv',
        fields: { localId: 'Codice iscrizione', beneficiaryId: 'Codice assistito', serviceId: 'Codice servizio', from: 'Dal', to: 'Al' },
      },
    },
    ...overrides,
  };
}

/** The first export, with validators. */
const v1: Reply = file('csv/beneficiari.csv', csvType, { etag: '"v1"', 'last-modified': lastModified });
const v2: Reply = file('csv/beneficiari-v2.csv', csvType, { etag: '"v2"', 'last-modified': 'Tue, 11 Mar 2025 06:00:00 GMT' });

/** Answers `replies` in turn, one per request (the last one again when they run out). */
function inTurn(...replies: Reply[]) {
  let i = 0;
  return () => replies[Math.min(i++, replies.length - 1)]!;
}

async function cityError(p: Promise<unknown>): Promise<CityError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(CityError);
  return e as CityError;
}

describe('reading an export', () => {
  it('decodes Windows-1252, splits on semicolons, trims cells and skips empty rows', async () => {
    upstream.reset(routes({ [peoplePath]: v1 }));
    const connector = createCsvConnector(city, csvSource(), deps());

    const { rows, total } = await connector.page('beneficiaries', { offset: 0, limit: 10 });

    expect(total).toBe(5);
    expect(rows.map((r) => `${r['Nome']} ${r['Cognome']}`)).toEqual([
      'Niccolò Abebe', 'Josè Mendoza', "Ngozi D'Amico", 'Amina Traoré', 'Fatou Ndiaye; Sow',
    ]);
    expect(rows[0]).toEqual({
      Codice: 'A001', 'Codice fiscale': 'BBENCC90B03Z315K', Nome: 'Niccolò', Cognome: 'Abebe', Sesso: 'M',
      'Data di nascita': '03/02/1990', Cittadinanza: 'Etiopia', Permesso: 'Protezione sussidiaria',
      'Vulnerabilità': 'Minore non accompagnato', 'Data presa in carico': '15/01/2024', Canale: 'Sportello', Stato: 'In carico',
    });
    expect(rows[3]!['Codice fiscale']).toBe('TRRMNA01A41Z343X');
    expect(upstream.requests).toHaveLength(1);
    expect(upstream.requests[0]).toMatchObject({ method: 'GET', url: peoplePath });
    expect(upstream.requests[0]!.headers['if-none-match']).toBeUndefined();
  });

  it('slices the snapshot for a page and answers no rows past the end', async () => {
    upstream.reset(routes({ [peoplePath]: v1 }));
    const connector = createCsvConnector(city, csvSource(), deps());

    const all = await connector.page('beneficiaries', { offset: 0, limit: 10 });
    const middle = await connector.page('beneficiaries', { offset: 1, limit: 2 });
    expect(middle.rows).toEqual(all.rows.slice(1, 3));
    expect(middle.rows[0]).toBe(all.rows[1]);
    expect(await connector.page('beneficiaries', { offset: 10, limit: 2 })).toEqual({ rows: [], total: 5, version: all.version });
  });

  it('keeps a UTF-8 BOM out of the first header (a spreadsheet\'s "CSV UTF-8")', async () => {
    upstream.reset(routes({ [peoplePath]: file('csv/beneficiari-utf8-bom.csv', 'text/csv') }));
    const connector = createCsvConnector(city, csvSource(), deps());

    const { rows } = await connector.page('beneficiaries', { offset: 0, limit: 10 });

    expect(Object.keys(rows[0]!)[0]).toBe('Codice');
    expect(rows.map((r) => r['Nome'])).toEqual(['Niccolò', 'Josè', 'Ngozi', 'Amina', 'Fatou']);
  });

  it('sends the key when the export is behind authentication', async () => {
    upstream.reset(routes({ [peoplePath]: v1 }));
    const connector = createCsvConnector(city, csvSource({
      apiKey: 'segreto',
      auth: { header: 'Authorization', prefix: 'Bearer ', key: { env: 'SASSARI_EXPORT_TOKEN' } },
    }), deps());

    await connector.page('beneficiaries', { offset: 0, limit: 1 });
    expect(upstream.requests[0]!.headers['authorization']).toBe('Bearer segreto');
  });

  it('looks rows up by the source field of the key, as the same objects the pages give', async () => {
    upstream.reset(routes({ '/export/iscrizioni.csv': file('csv/iscrizioni.csv', 'text/csv') }));
    const connector = createCsvConnector(city, csvSource(), deps());

    const rows = await connector.lookup('enrollments', 'beneficiaryId', ['A001', 'A003', 'Z999']);
    expect(rows.map((r) => r['Codice iscrizione'])).toEqual(['I01', 'I02', 'I04', 'I05']);
    const [byId] = await connector.lookup('enrollments', 'localId', ['I03']);
    const { rows: all } = await connector.page('enrollments', { offset: 0, limit: 10 });
    expect(byId).toBe(all[2]);
    expect(upstream.requests).toHaveLength(1);
  });
});

describe('snapshots', () => {
  it('makes no request for a second call within revalidateMs, and answers the same row objects', async () => {
    upstream.reset(routes({ [peoplePath]: v1 }));
    const connector = createCsvConnector(city, csvSource(), deps());
    const first = await connector.page('beneficiaries', { offset: 0, limit: 10 });
    upstream.reset(routes({ [peoplePath]: v1 }));

    clock += 29_999;
    const second = await connector.page('beneficiaries', { offset: 0, limit: 10 });

    expect(upstream.requests).toHaveLength(0);
    second.rows.forEach((row, i) => expect(row).toBe(first.rows[i]));
  });

  it('revalidates after revalidateMs with If-None-Match and If-Modified-Since, and keeps the rows on 304', async () => {
    upstream.reset(routes({ [peoplePath]: v1 }));
    const connector = createCsvConnector(city, csvSource(), deps());
    const first = await connector.page('beneficiaries', { offset: 0, limit: 10 });
    upstream.reset(routes({ [peoplePath]: { status: 304, headers: { etag: '"v1"' } } }));

    clock += 30_000;
    const second = await connector.page('beneficiaries', { offset: 0, limit: 10 });

    expect(upstream.requests).toHaveLength(1);
    expect(upstream.requests[0]!.headers).toMatchObject({ 'if-none-match': '"v1"', 'if-modified-since': lastModified });
    second.rows.forEach((row, i) => expect(row).toBe(first.rows[i]));
    // The same export: the same version, so what callers worked out from its rows still holds.
    expect(second.version).toBe(first.version);
    expect(connector.status()).toEqual({ status: 'UP', asOf: new Date(lastModified) });
  });

  it('takes a new export when the file changed', async () => {
    upstream.reset(routes({ [peoplePath]: v1 }));
    const connector = createCsvConnector(city, csvSource(), deps());
    const before = await connector.page('beneficiaries', { offset: 0, limit: 10 });
    upstream.reset(routes({ [peoplePath]: v2 }));

    clock += 30_000;
    const { rows, total, version } = await connector.page('beneficiaries', { offset: 5, limit: 10 });

    expect(version).toBeDefined();
    expect(version).not.toBe(before.version);
    expect(total).toBe(6);
    expect(rows.map((r) => `${r['Nome']} ${r['Cognome']}`)).toEqual(['Leyla Khan Çelik']);
    expect(connector.status()).toEqual({ status: 'UP', asOf: new Date('Tue, 11 Mar 2025 06:00:00 GMT') });
  });

  it('shares one in-flight fetch between concurrent callers', async () => {
    upstream.reset(routes({ [peoplePath]: v1 }));
    const connector = createCsvConnector(city, csvSource(), deps());

    const [a, b, c] = await Promise.all([
      connector.page('beneficiaries', { offset: 0, limit: 10 }),
      connector.page('beneficiaries', { offset: 2, limit: 1 }),
      connector.lookup('beneficiaries', 'localId', ['A003']),
    ]);

    expect(upstream.requests).toHaveLength(1);
    expect(b.rows[0]).toBe(a.rows[2]);
    expect(c[0]).toBe(a.rows[2]);
  });

  it('asks on every call when revalidateMs is 0', async () => {
    upstream.reset(inTurn(v1, { status: 304 }));
    const connector = createCsvConnector(city, csvSource({ revalidateMs: 0 }), deps());

    await connector.page('beneficiaries', { offset: 0, limit: 1 });
    await connector.page('beneficiaries', { offset: 0, limit: 1 });
    await connector.page('beneficiaries', { offset: 0, limit: 1 });

    expect(upstream.requests).toHaveLength(3);
    expect(upstream.requests.map((r) => r.headers['if-none-match'])).toEqual([undefined, '"v1"', '"v1"']);
  });

  it('lets a caller give up waiting without cancelling the fetch others share', async () => {
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    upstream.reset(async () => {
      await held;
      return v1;
    });
    const connector = createCsvConnector(city, csvSource(), deps());
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

describe('a bad row', () => {
  it('serves every row of a file where one row has an extra semicolon, marking that row with its line and no content', async () => {
    upstream.reset(routes({ [peoplePath]: file('csv/beneficiari-punto-e-virgola.csv', csvType, { etag: '"v1"' }) }));
    const connector = createCsvConnector(city, csvSource(), deps());

    const { rows, total } = await connector.page('beneficiaries', { offset: 0, limit: 10 });

    expect(total).toBe(5);
    expect(rows.map((r) => r['Codice'])).toEqual(['A001', 'A002', 'A003', 'A004', 'A005']);
    expect(rows.map((r) => r[rowDefect])).toEqual([undefined, undefined, 'line 4: 13 cells where the header has 12', undefined, undefined]);
    expect(rows[2]!['Nome']).toBe('Ngozi');
    expect(rows[2]![rowDefect]).not.toMatch(/Ngozi|Vittima|Salute|DMCNGZ/);
    expect(Object.isFrozen(rows[2])).toBe(true);
    expect(connector.status().status).toBe('UP');
    expect(warnings).toHaveLength(0);
  });

  it('serves every row of a file where a row in the middle lacks a cell, marking that row', async () => {
    upstream.reset(routes({ [peoplePath]: file('csv/beneficiari-cella-mancante.csv', csvType) }));
    const connector = createCsvConnector(city, csvSource(), deps());

    const { rows, total } = await connector.page('beneficiaries', { offset: 0, limit: 10 });

    expect(total).toBe(5);
    expect(rows[1]![rowDefect]).toBe('line 3: 11 cells where the header has 12');
    expect(rows[1]!['Codice']).toBe('A002');
    expect(rows[1]!['Stato']).toBeUndefined();
    expect(rows.filter((r) => r[rowDefect] !== undefined)).toHaveLength(1);
    expect(connector.status().status).toBe('UP');
  });

  it('treats a last row with an extra cell as a bad row, not as a truncated file', async () => {
    upstream.reset(routes({ [peoplePath]: file('csv/beneficiari-ultima-riga-lunga.csv', csvType) }));
    const connector = createCsvConnector(city, csvSource(), deps());

    const { rows, total } = await connector.page('beneficiaries', { offset: 0, limit: 10 });

    expect(total).toBe(5);
    expect(rows[4]![rowDefect]).toBe('line 6: 13 cells where the header has 12');
    expect(rows.slice(0, 4).every((r) => r[rowDefect] === undefined)).toBe(true);
  });

  it('gives the marked row as the same object to lookups and to later pages of the same snapshot', async () => {
    upstream.reset(routes({ [peoplePath]: file('csv/beneficiari-punto-e-virgola.csv', csvType) }));
    const connector = createCsvConnector(city, csvSource(), deps());

    const { rows } = await connector.page('beneficiaries', { offset: 0, limit: 10 });
    const [found] = await connector.lookup('beneficiaries', 'localId', ['A003']);
    clock += 29_999;
    const again = await connector.page('beneficiaries', { offset: 2, limit: 1 });

    expect(found).toBe(rows[2]);
    expect(again.rows[0]).toBe(rows[2]);
    expect(found![rowDefect]).toBe('line 4: 13 cells where the header has 12');
    expect(upstream.requests).toHaveLength(1);
  });

  it('replaces a good snapshot with a new export that has a bad row, instead of serving the old one as STALE', async () => {
    upstream.reset(routes({ [peoplePath]: v1 }));
    const connector = createCsvConnector(city, csvSource(), deps());
    await connector.page('beneficiaries', { offset: 0, limit: 10 });
    upstream.reset(routes({ [peoplePath]: file('csv/beneficiari-punto-e-virgola.csv', csvType, { etag: '"v2"' }) }));

    clock += 30_000;
    const { rows } = await connector.page('beneficiaries', { offset: 0, limit: 10 });

    expect(rows[2]![rowDefect]).toBe('line 4: 13 cells where the header has 12');
    expect(connector.status().status).toBe('UP');
    expect(warnings).toHaveLength(0);
  });

  it('counts lines in the file, a CRLF inside a quoted cell being one line break', async () => {
    const body = Buffer.from([
      'Codice;Codice fiscale;Nome;Cognome;Sesso;Data di nascita;Cittadinanza;Permesso;Vulnerabilità;Data presa in carico;Canale;Stato',
      'A001;BBENCC90B03Z315K;Niccolò;Abebe;M;03/02/1990;Etiopia;Protezione sussidiaria;"Minore non accompagnato\r\nSalute mentale";15/01/2024;Sportello;In carico',
      '',
      'A002;MNDJSO88E21Z611P;Josè;Mendoza;M;21/05/1988;Perù;Asilo;;02/02/2024;Segnalazione;In carico;',
      'A003;DMCNGZ95S58Z335W;Ngozi;D\'Amico;F;18/11/1995;Nigeria;Protezione speciale;;10/03/2024;Sportello;Chiusa',
    ].join('\r\n'), 'latin1');
    upstream.reset(routes({ [peoplePath]: { headers: { 'content-type': csvType }, body } }));
    const connector = createCsvConnector(city, csvSource(), deps());

    const { rows } = await connector.page('beneficiaries', { offset: 0, limit: 10 });

    expect(rows[0]!['Vulnerabilità']).toBe('Minore non accompagnato\r\nSalute mentale');
    expect(rows.map((r) => r[rowDefect])).toEqual([undefined, 'line 5: 13 cells where the header has 12', undefined]);
  });
});

describe('a bad new export', () => {
  it('keeps serving the previous snapshot of a half-written file, reports STALE and warns without content', async () => {
    upstream.reset(routes({ [peoplePath]: v1 }));
    const connector = createCsvConnector(city, csvSource(), deps());
    const first = await connector.page('beneficiaries', { offset: 0, limit: 10 });
    upstream.reset(routes({ [peoplePath]: file('csv/beneficiari-troncato.csv', csvType, { etag: '"v2-partial"' }) }));

    clock += 30_000;
    const second = await connector.page('beneficiaries', { offset: 0, limit: 10 });

    second.rows.forEach((row, i) => expect(row).toBe(first.rows[i]));
    expect(second.version).toBe(first.version);
    expect(connector.status()).toEqual({
      status: 'STALE',
      asOf: new Date(lastModified),
      reason: 'beneficiaries: CITY_BAD_RESPONSE: the export /export/beneficiari.csv: the last row has 7 cells where the header has 12 (a truncated file?) at line 5',
    });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.data).toMatchObject({ city, entity: 'beneficiaries', code: 'CITY_BAD_RESPONSE' });
    expect(JSON.stringify(warnings)).not.toMatch(/Amina|Traor|TRRMNA/);
    // The bad file does not replace the validators: the next check asks about the good one.
    clock += 30_000;
    upstream.reset(routes({ [peoplePath]: { status: 304 } }));
    await connector.page('beneficiaries', { offset: 0, limit: 1 });
    expect(upstream.requests[0]!.headers['if-none-match']).toBe('"v1"');
    expect(connector.status().status).toBe('UP');
  });

  it('fails with the line number when a half-written file is the first one seen', async () => {
    upstream.reset(routes({ [peoplePath]: file('csv/beneficiari-troncato.csv', csvType) }));
    const connector = createCsvConnector(city, csvSource(), deps());

    const e = await cityError(connector.page('beneficiaries', { offset: 0, limit: 10 }));
    expect(e).toMatchObject({ code: 'CITY_BAD_RESPONSE', city });
    expect(e.message).toContain('the last row has 7 cells where the header has 12 (a truncated file?)');
    expect(e.message).toContain('line 5');
    expect(e.message).not.toMatch(/Amina|Traor/);
    expect(connector.status()).toEqual({ status: 'DOWN', asOf: null, reason: `beneficiaries: CITY_BAD_RESPONSE: ${e.detail}` });
  });

  it('fails on an unterminated quoted cell', async () => {
    upstream.reset(routes({ [peoplePath]: file('csv/beneficiari-virgolette-aperte.csv', csvType) }));
    const connector = createCsvConnector(city, csvSource(), deps());
    const e = await cityError(connector.page('beneficiaries', { offset: 0, limit: 10 }));
    expect(e).toMatchObject({ code: 'CITY_BAD_RESPONSE', city });
    expect(e.message).toMatch(/unterminated quoted cell .* at line \d+/);
    expect(e.message).not.toContain('Ndiaye');
  });

  it('fails on an HTML page sent as 200', async () => {
    upstream.reset(routes({ [peoplePath]: file('html/manutenzione.html', 'text/html; charset=utf-8') }));
    const connector = createCsvConnector(city, csvSource(), deps());
    const e = await cityError(connector.page('beneficiaries', { offset: 0, limit: 10 }));
    expect(e).toMatchObject({ code: 'CITY_BAD_RESPONSE', city });
    expect(e.message).toContain('expected CSV, got text/html');
    expect(e.message).not.toContain('Niccolò');
  });

  it('fails on an HTML page labelled as CSV', async () => {
    upstream.reset(routes({ [peoplePath]: file('html/manutenzione.html', 'text/csv') }));
    const connector = createCsvConnector(city, csvSource(), deps());
    const e = await cityError(connector.page('beneficiaries', { offset: 0, limit: 10 }));
    expect(e).toMatchObject({ code: 'CITY_BAD_RESPONSE', city });
    expect(e.message).toContain('expected CSV, got markup');
  });

  it('fails on a file without its header row, naming the missing columns', async () => {
    upstream.reset(routes({ [peoplePath]: file('csv/beneficiari-senza-intestazione.csv', csvType) }));
    const connector = createCsvConnector(city, csvSource(), deps());
    const e = await cityError(connector.page('beneficiaries', { offset: 0, limit: 10 }));
    expect(e).toMatchObject({ code: 'CITY_BAD_RESPONSE', city });
    expect(e.message).toContain('the first row has none of the mapped columns: a file without its header row');
    expect(e.message).toContain('sources[id=export].delimiter');
    expect(e.message).not.toContain('Niccolò');
  });

  it('fails on an empty file', async () => {
    upstream.reset(routes({ [peoplePath]: { headers: { 'content-type': 'text/csv' }, body: '' } }));
    const connector = createCsvConnector(city, csvSource(), deps());
    const e = await cityError(connector.page('beneficiaries', { offset: 0, limit: 10 }));
    expect(e).toMatchObject({ code: 'CITY_BAD_RESPONSE', city });
    expect(e.message).toContain('no header row');
  });
});

describe('an export that is not what its config says', () => {
  /** The fixture export in windows-1252, as its text. */
  const text = () => new TextDecoder('windows-1252').decode(fixture('csv/beneficiari.csv'));
  const reply = (body: Buffer, etag = '"x"'): Reply => ({ status: 200, headers: { 'content-type': 'text/csv', etag }, body });
  const cityFile = 'adapters/cities/090064-sassari.json';

  it('refuses a UTF-8 export read as windows-1252, naming the file, the encoding key and the line, never the content', async () => {
    upstream.reset(routes({ [peoplePath]: reply(Buffer.from(text(), 'utf8')) }));
    const connector = createCsvConnector(city, csvSource({ configFile: cityFile }), deps());

    const e = await cityError(connector.page('beneficiaries', { offset: 0, limit: 10 }));

    expect(e).toMatchObject({ code: 'CITY_BAD_RESPONSE', city });
    expect(e.detail).toBe(
      'the export /export/beneficiari.csv: is read as windows-1252, as its config says, but its letters are UTF-8 (from line 1 on, "é" would read "Ã©"): ' +
        `set sources[id=export].encoding in ${cityFile} to "utf-8"`,
    );
    expect(e.message).not.toMatch(/Niccol|Abebe/);
  });

  it('refuses a windows-1252 export read as UTF-8, naming the line of the first byte that is not UTF-8', async () => {
    upstream.reset(routes({ [peoplePath]: reply(fixture('csv/beneficiari.csv')) }));
    const connector = createCsvConnector(city, csvSource({ encoding: 'utf-8', configFile: cityFile }), deps());

    const e = await cityError(connector.page('beneficiaries', { offset: 0, limit: 10 }));

    expect(e).toMatchObject({ code: 'CITY_BAD_RESPONSE', city });
    expect(e.detail).toBe(
      'the export /export/beneficiari.csv: is read as utf-8, as its config says, but its bytes are not UTF-8 from line 1 on (an export in windows-1252?): ' +
        `set sources[id=export].encoding in ${cityFile} to the encoding the city exports in`,
    );
  });

  it('refuses bytes that are not UTF-8 after a UTF-8 byte order mark, whatever the config says', async () => {
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), fixture('csv/beneficiari.csv')]);
    upstream.reset(routes({ [peoplePath]: reply(body) }));
    const connector = createCsvConnector(city, csvSource(), deps());

    const e = await cityError(connector.page('beneficiaries', { offset: 0, limit: 10 }));

    expect(e.detail).toMatch(/^the export \/export\/beneficiari\.csv: starts with a UTF-8 byte order mark, but its bytes are not UTF-8 from line 1 on/);
    expect(e.detail).toContain("sources[id=export].encoding in the city's file");
  });

  it('keeps serving the last good export when a new one comes in the wrong encoding, saying why in its status', async () => {
    upstream.reset(routes({ [peoplePath]: v1 }));
    const connector = createCsvConnector(city, csvSource({ configFile: cityFile }), deps());
    const first = await connector.page('beneficiaries', { offset: 0, limit: 10 });
    upstream.reset(routes({ [peoplePath]: reply(Buffer.from(text(), 'utf8'), '"v2-utf8"') }));

    clock += 30_000;
    const second = await connector.page('beneficiaries', { offset: 0, limit: 10 });

    expect(second.rows[0]).toBe(first.rows[0]);
    expect(connector.status()).toMatchObject({ status: 'STALE', reason: expect.stringContaining(`beneficiaries: CITY_BAD_RESPONSE: the export /export/beneficiari.csv: is read as windows-1252`) });
    expect(connector.status().reason).toContain(`sources[id=export].encoding in ${cityFile}`);
  });

  it('rejects only the rows whose text was garbled before the export, naming the line, not the text', async () => {
    // Row 2 holds UTF-8 read as windows-1252 and written again ("JosÃ¨"); row 4 lost a letter to U+FFFD.
    const garbled = text().replace('Josè', 'JosÃ¨').replace('Traoré', 'Traor\uFFFD');
    upstream.reset(routes({ [peoplePath]: reply(Buffer.from(garbled, 'utf8')) }));
    const connector = createCsvConnector(city, csvSource({ encoding: 'utf-8' }), deps());

    const { rows } = await connector.page('beneficiaries', { offset: 0, limit: 10 });

    expect(rows.map((r) => r[rowDefect])).toEqual([
      undefined,
      'line 3: text garbled by a wrong conversion before the export (UTF-8 read as windows-1252: "Ã©" for "é")',
      undefined,
      'line 5: characters lost in a conversion before the export (U+FFFD in place of letters)',
      undefined,
    ]);
  });

  it('names the column a new export lacks and the key of the city\'s file that names it', async () => {
    const renamed = text().replace('Data di nascita', 'DataNascita');
    upstream.reset(routes({ [peoplePath]: reply(Buffer.from(renamed, 'latin1')) }));
    const connector = createCsvConnector(city, csvSource({ configFile: cityFile }), deps());

    const e = await cityError(connector.page('beneficiaries', { offset: 0, limit: 10 }));

    expect(e).toMatchObject({ code: 'CITY_BAD_RESPONSE', city });
    expect(e.detail).toBe(
      'the export /export/beneficiari.csv: the header row has no column "Data di nascita" (renamed or removed?): ' +
        `change sources[id=export].entities.beneficiaries.fields.birthDate in ${cityFile} to the column's name in the export`,
    );
  });

  it('names every key that reads a missing column, a template\'s too', async () => {
    const renamed = text().replace('Data di nascita', 'DataNascita').replace('Sesso', 'Genere');
    upstream.reset(routes({ [peoplePath]: reply(Buffer.from(renamed, 'latin1')) }));
    const source = csvSource();
    const people = source.entities.beneficiaries!;
    const connector = createCsvConnector(city, { ...source, entities: { ...source.entities, beneficiaries: { ...people, fields: { ...people.fields, intakeDate: '{Data presa in carico}', birthDate: '{Data di nascita}' } } } }, deps());

    const e = await cityError(connector.page('beneficiaries', { offset: 0, limit: 10 }));

    expect(e.detail).toContain('has no column "Sesso", "Data di nascita" (renamed or removed?): change sources[id=export].entities.beneficiaries.fields.{sex, birthDate}');
  });
});

describe('upstream failures', () => {
  it('keeps serving the previous snapshot when the server fails, as STALE, then recovers', async () => {
    upstream.reset(routes({ [peoplePath]: v1 }));
    const connector = createCsvConnector(city, csvSource(), deps());
    const first = await connector.page('beneficiaries', { offset: 0, limit: 10 });

    upstream.reset(() => ({ status: 500, body: 'Errore interno' }));
    clock += 30_000;
    const second = await connector.page('beneficiaries', { offset: 0, limit: 10 });
    expect(second.rows[0]).toBe(first.rows[0]);
    expect(connector.status().status).toBe('STALE');
    expect(warnings[0]!.data).toMatchObject({ code: 'CITY_UNAVAILABLE' });
    // Within revalidateMs the failing server is left alone.
    await connector.page('beneficiaries', { offset: 0, limit: 10 });
    expect(upstream.requests).toHaveLength(1);

    upstream.reset(routes({ [peoplePath]: v2 }));
    clock += 30_000;
    expect((await connector.page('beneficiaries', { offset: 0, limit: 10 })).total).toBe(6);
    expect(connector.status().status).toBe('UP');
  });

  it('reports a refused connection as CITY_UNAVAILABLE when there is no snapshot', async () => {
    const connector = createCsvConnector(city, csvSource({ baseUrl: await closedPortUrl() }), deps());
    const e = await cityError(connector.page('beneficiaries', { offset: 0, limit: 10 }));
    expect(e).toMatchObject({ code: 'CITY_UNAVAILABLE', city });
    expect(connector.status()).toEqual({ status: 'DOWN', asOf: null, reason: `beneficiaries: CITY_UNAVAILABLE: ${e.detail}` });
  });

  it('gives up on a server that never answers after timeoutMs, as CITY_TIMEOUT', async () => {
    upstream.reset(() => ({ hang: true }));
    const connector = createCsvConnector(city, csvSource({ timeoutMs: 200 }), deps());
    const e = await cityError(connector.page('beneficiaries', { offset: 0, limit: 10 }));
    expect(e).toMatchObject({ code: 'CITY_TIMEOUT', city });
  }, 10_000);

  it('reports 401 as CITY_AUTH_FAILED', async () => {
    upstream.reset(() => ({ status: 401 }));
    const connector = createCsvConnector(city, csvSource(), deps());
    const e = await cityError(connector.page('beneficiaries', { offset: 0, limit: 10 }));
    expect(e).toMatchObject({ code: 'CITY_AUTH_FAILED', city });
  });

  it('says the city has no source for an entity without a file, without asking upstream', async () => {
    upstream.reset(routes({}));
    const connector = createCsvConnector(city, csvSource(), deps());
    const e = await cityError(connector.lookup('placements', 'beneficiaryId', ['A001']));
    expect(e).toMatchObject({ code: 'CITY_NOT_CONFIGURED', city });
    expect(upstream.requests).toHaveLength(0);
  });
});

describe('status', () => {
  it('is UNKNOWN before any call, then UP as of the fetch time when the server gives no Last-Modified', async () => {
    upstream.reset(routes({ '/export/iscrizioni.csv': file('csv/iscrizioni.csv', 'text/csv') }));
    const connector = createCsvConnector(city, csvSource(), deps());
    expect(connector.status()).toEqual({ status: 'UNKNOWN', asOf: null });

    await connector.page('enrollments', { offset: 0, limit: 1 });
    expect(connector.status()).toEqual({ status: 'UP', asOf: new Date('2025-03-10T08:00:00Z') });
  });
});

describe('status under the resilience policy', () => {
  it('stays STALE, saying the circuit is open, while it serves its last good export without asking the city', async () => {
    upstream.reset(routes({ [peoplePath]: v1 }));
    const connector = createCsvConnector(city, csvSource({ breakerFailures: 1, breakerHalfOpenAfterMs: 60_000 }), deps());
    const first = await connector.page('beneficiaries', { offset: 0, limit: 10 });

    upstream.reset(() => ({ status: 503 }));
    clock += 30_000;
    await connector.page('beneficiaries', { offset: 0, limit: 10 });
    clock += 30_000;
    const served = await connector.page('beneficiaries', { offset: 0, limit: 10 });
    expect(served.rows[0]).toBe(first.rows[0]);
    expect(upstream.requests).toHaveLength(1);
    expect(connector.status()).toEqual({
      status: 'STALE',
      asOf: new Date(lastModified),
      reason: expect.stringMatching(/^circuit open since 2025-03-10T08:00:30\.000Z: status 503$/),
    });
  });

  it('is DOWN, saying the circuit is open, when it has no export to serve', async () => {
    upstream.reset(() => ({ status: 503 }));
    const connector = createCsvConnector(city, csvSource({ breakerFailures: 1, breakerHalfOpenAfterMs: 60_000 }), deps());
    await cityError(connector.page('beneficiaries', { offset: 0, limit: 10 }));
    expect(connector.status()).toEqual({ status: 'DOWN', asOf: null, reason: 'circuit open since 2025-03-10T08:00:00.000Z: status 503' });
  });
});
