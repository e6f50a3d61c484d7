import { request } from 'node:http';
import iconv from 'iconv-lite';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadCityConfigs } from '../adapters/config.ts';
import { defaultCitiesDir } from '../adapters/fleet.ts';
import type { RawRow } from '../adapters/port.ts';
import { fiscalCodeCheckChar } from '../schema/fiscal-code.ts';
import { entityNames, type EntityName } from '../schema/records.ts';
import { csvHeader, csvText } from './csv-stand-in.ts';
import { dialectOf, type CsvSourceDialect, type RestSourceDialect } from './dialects.ts';
import { FaultSpecError, parseFaults } from './faults.ts';
import { startSandbox, type Sandbox } from './index.ts';
import type { CityPopulation, Population } from './population-types.ts';
import { MAX_BROKEN, MIN_BROKEN, renderCity } from './render.ts';

// ---------------------------------------------------------------------------
// A small hand-made population: enough rows for several pages, accented names.

function fiscalCode(i: number): string {
  const first15 = `RSSMRA${String(80 + (i % 20)).padStart(2, '0')}A${String(1 + (i % 28)).padStart(2, '0')}Z${String(100 + (i % 900)).padStart(3, '0')}`;
  return first15 + fiscalCodeCheckChar(first15);
}

const GIVEN = ['Aïssatou', 'Sékou', 'Ndèye', 'Mamadou', 'Chiamaka', 'Oksana', 'Amal', 'José'];
const FAMILY = ['Traoré', 'Keïta', 'Cissé', 'Diallo', 'Okafor', 'Shevchenko', 'Haddad', 'Quispe Mamani'];
const COUNTRIES = ['NG', 'SN', 'ML', 'CI', 'UA', 'MA', 'PE', 'BD'];

function handMadeCity(city: string, people = 37): CityPopulation {
  const beneficiaries = Array.from({ length: people }, (_, i) => ({
    localId: String(1000 + i),
    city,
    fiscalCode: fiscalCode(i),
    givenName: GIVEN[i % GIVEN.length]!,
    familyName: FAMILY[(i * 3) % FAMILY.length]!,
    sex: i % 3 === 0 ? ('FEMALE' as const) : ('MALE' as const),
    birthDate: `19${80 + (i % 20)}-0${1 + (i % 9)}-1${i % 10}`,
    citizenship: COUNTRIES[i % COUNTRIES.length]!,
    permitType: (['ASYLUM_SEEKER', 'REFUGEE_STATUS', 'WORK', 'TEMPORARY_PROTECTION'] as const)[i % 4]!,
    vulnerabilities: i % 4 === 0 ? [] : i % 4 === 1 ? (['HOMELESSNESS'] as const).slice() : (['MENTAL_HEALTH', 'PREGNANCY'] as const).slice(),
    intake: {
      date: `202${1 + (i % 5)}-1${i % 3}-0${1 + (i % 9)}`,
      channel: (['ONE_STOP_SHOP', 'MOBILE_UNIT', 'REFERRAL'] as const)[i % 3]!,
      status: (['ACTIVE', 'CLOSED_AUTONOMY', 'TRANSFERRED', 'DROPPED_OUT'] as const)[i % 4]!,
    },
  }));
  const services = [
    { localId: '1', city, name: 'Sportello unico Città', category: 'ONE_STOP_SHOP' as const },
    { localId: '2', city, name: 'Corso di italiano L2', category: 'LANGUAGE_COURSE' as const },
    { localId: '3', city, name: 'Laboratorio di sartoria', category: 'WORKSHOP' as const },
  ];
  const enrollments = beneficiaries.map((b, i) => ({
    localId: String(5000 + i),
    city,
    beneficiaryId: b.localId,
    serviceId: services[i % 3]!.localId,
    from: '2024-01-15',
    to: i % 2 === 0 ? null : '2024-06-30',
  }));
  const civicProjects = beneficiaries.slice(0, 12).map((b, i) => ({
    localId: String(7000 + i),
    city,
    beneficiaryId: b.localId,
    status: i % 3 === 0 ? ('DRAFT' as const) : ('SIGNED' as const),
    signedOn: i % 3 === 0 ? null : '2024-03-01',
  }));
  const housingResources = [
    { localId: '1', city, name: 'Casa Accoglienza San Vincenzo', kind: 'PROTECTED_SHELTER' as const, capacity: 12, occupancy: 5 },
    { localId: '2', city, name: 'Co-abitazione Solidale Via Roma', kind: 'SOLIDARITY_COHOUSING' as const, capacity: 6, occupancy: 2 },
    { localId: '3', city, name: 'Appartamento Semi-autonomia', kind: 'SEMI_AUTONOMY_FLAT' as const, capacity: 4, occupancy: 0 },
  ];
  const placements = beneficiaries.slice(0, 7).map((b, i) => ({
    localId: String(9000 + i),
    city,
    beneficiaryId: b.localId,
    resourceId: housingResources[i % 3]!.localId,
    from: '2025-02-01',
    to: i % 2 === 0 ? null : '2025-08-31',
  }));
  return { city, beneficiaries, services, enrollments, civicProjects, housingResources, placements };
}

// ---------------------------------------------------------------------------
// Plain HTTP, no connection pooling: each request is one connection, so
// `down` and cut connections show as they would to a fresh client.

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function get(url: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      // A connection cut mid-body: the error carries what had arrived.
      const cut = (e?: Error) => reject(Object.assign(e ?? new Error('aborted'), { code: 'ECONNRESET', received: Buffer.concat(chunks) }));
      res.on('error', cut);
      res.on('aborted', () => cut());
    });
    req.on('error', reject);
    req.end();
  });
}

const json = (a: Answer) => JSON.parse(a.body.toString('utf8')) as Record<string, unknown>;

function at(body: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], body);
}

let sandbox: Sandbox;
const population: Population = new Map(
  ['001272', '015146', '021008', '058091', '076063', '084001', '092009', '054039', '082053', '063049'].map((c) => [c, handMadeCity(c)]),
);

beforeAll(async () => {
  sandbox = await startSandbox({ seed: 11, population, host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await sandbox?.close();
});

function restSource(city: string, id = 'main') {
  const source = dialectOf(city).sources.find((s) => s.id === id) as RestSourceDialect;
  const prefix = `LGNET_${city}_${id.toUpperCase()}`;
  const url = sandbox.env[`${prefix}_URL`]!;
  const auth = { [source.auth.header]: source.auth.prefix + sandbox.env[`${prefix}_KEY`]! };
  return { source, url, auth };
}

function csvSource(city: string, id = 'main') {
  const source = dialectOf(city).sources.find((s) => s.id === id) as CsvSourceDialect;
  const prefix = `LGNET_${city}_${id.toUpperCase()}`;
  const url = sandbox.env[`${prefix}_URL`]!;
  const auth: Record<string, string> = source.auth ? { [source.auth.header]: source.auth.prefix + sandbox.env[`${prefix}_KEY`]! } : {};
  return { source, url, auth };
}

/** Every row of an entity, page after page, in the dialect's own paging. */
async function readAllPages(city: string, entity: EntityName, size: number, sourceId = 'main'): Promise<RawRow[]> {
  const { source, url, auth } = restSource(city, sourceId);
  const { paging } = source;
  const rows: RawRow[] = [];
  for (let i = 0; ; i++) {
    const start = paging.style === 'page' ? paging.firstPage + i : i * size;
    const a = await get(`${url}${source.entities[entity]!.path}?${paging.startParam}=${start}&${paging.sizeParam}=${size}`, auth);
    expect(a.status).toBe(200);
    const body = json(a);
    const items = at(body, paging.itemsPath) as RawRow[];
    rows.push(...items);
    if (items.length < size || rows.length >= (at(body, paging.totalPath) as number)) {
      expect(at(body, paging.totalPath)).toBe(sandbox.rows(city, sourceId, entity).length);
      return rows;
    }
  }
}

describe('REST stand-ins', () => {
  it('page-style paging from page 1 visits every row exactly once, in order', async () => {
    const rows = await readAllPages('001272', 'beneficiaries', 7);
    expect(rows).toEqual(sandbox.rows('001272', 'main', 'beneficiaries'));
  });

  it('page-style paging from page 0 visits every row exactly once, in order', async () => {
    const rows = await readAllPages('015146', 'enrollments', 10);
    expect(rows).toEqual(sandbox.rows('015146', 'main', 'enrollments'));
  });

  it('offset-style paging visits every row exactly once, in order, nested envelopes included', async () => {
    expect(await readAllPages('021008', 'beneficiaries', 6)).toEqual(sandbox.rows('021008', 'main', 'beneficiaries'));
    // Roma's housing register answers Solr-style: response.docs and response.numFound.
    expect(await readAllPages('058091', 'placements', 3, 'housing')).toEqual(sandbox.rows('058091', 'housing', 'placements'));
  });

  it('a page past the end is empty and still carries the total', async () => {
    const { source, url, auth } = restSource('001272');
    const a = await get(`${url}/servizi?page=99&size=10`, auth);
    expect(at(json(a), source.paging.itemsPath)).toEqual([]);
    expect(at(json(a), source.paging.totalPath)).toBe(3);
  });

  it('a request without the right key is answered 401 with a JSON error', async () => {
    const { source, url, auth } = restSource('015146');
    const path = `${url}/assistiti`;
    for (const headers of [{}, { [source.auth.header]: 'Bearer wrong' }, { [source.auth.header]: sandbox.env.LGNET_015146_MAIN_KEY! }]) {
      const a = await get(path, headers);
      expect(a.status).toBe(401);
      expect(a.headers['content-type']).toMatch(/^application\/json/);
      expect(json(a)).toHaveProperty('error');
    }
    expect((await get(path, auth)).status).toBe(200);
  });

  it('an unknown path is 404 and a page above the maximum size is 400', async () => {
    const { source, url, auth } = restSource('001272');
    expect((await get(`${url}/nessuna-risorsa`, auth)).status).toBe(404);
    expect((await get(`${url}/assistiti?size=${source.paging.maxPageSize + 1}`, auth)).status).toBe(400);
    expect((await get(`${url}/assistiti?page=0`, auth)).status).toBe(400);
  });

  it('a batch look-up by ids returns exactly the asked records', async () => {
    const { source, url, auth } = restSource('001272');
    const { paging } = source;
    const param = source.entities.beneficiaries!.batchParams.localId!;
    const a = await get(`${url}/assistiti?${param}=1003,1010,1031,99999`, auth);
    const items = at(json(a), paging.itemsPath) as RawRow[];
    expect(items.map((r) => r.id).sort()).toEqual(['1003', '1010', '1031']);
    expect(at(json(a), paging.totalPath)).toBe(3);
  });

  it('a batch look-up by beneficiary returns all their records, paged like any list', async () => {
    const { source, url, auth } = restSource('015146');
    const e = source.entities.enrollments!;
    const param = e.batchParams.beneficiaryId!;
    const wanted = ['1000', '1001', '1002', '1003', '1004'];
    const expected = sandbox.rows('015146', 'main', 'enrollments').filter((r) => wanted.includes(String(r[e.fields.beneficiaryId])));
    const rows: RawRow[] = [];
    for (let page = 0; page < 5; page++) {
      const a = await get(`${url}${e.path}?${param}=${wanted.join(',')}&page=${page}&size=2`, auth);
      expect(at(json(a), 'totalElements')).toBe(expected.length);
      rows.push(...(at(json(a), 'content') as RawRow[]));
    }
    expect(rows).toEqual(expected);
  });

  it("a city whose batch parameter is the field's own name (Palermo) looks up by the field itself", async () => {
    const { source, url, auth } = restSource('082053');
    const e = source.entities.placements!;
    expect(e.batchParams.beneficiaryId).toBe(e.fields.beneficiaryId);
    const wanted = [...new Set(sandbox.rows('082053', 'main', 'placements').map((r) => String(r[e.fields.beneficiaryId])))].slice(0, 2);
    const a = await get(`${url}${e.path}?${e.batchParams.beneficiaryId}=${wanted.join(',')}`, auth);
    const items = at(json(a), source.paging.itemsPath) as RawRow[];
    expect(items.length).toBeGreaterThan(0);
    expect(new Set(items.map((r) => String(r[e.fields.beneficiaryId])))).toEqual(new Set(wanted));
  });
});

describe('REST stand-ins with filters of their own', () => {
  /** The rows a filtered request answers, read page after page, and the total it gives. */
  async function readFiltered(city: string, entity: EntityName, filters: Record<string, string>, size = 5): Promise<{ rows: RawRow[]; totals: number[] }> {
    const { source, url, auth } = restSource(city);
    const { paging } = source;
    const rows: RawRow[] = [];
    const totals: number[] = [];
    for (let i = 0; i < 50; i++) {
      const start = paging.style === 'page' ? paging.firstPage + i : i * size;
      const query = new URLSearchParams({ ...filters, [paging.startParam]: String(start), [paging.sizeParam]: String(size) });
      const a = await get(`${url}${source.entities[entity]!.path}?${query}`, auth);
      expect(a.status).toBe(200);
      const items = at(json(a), paging.itemsPath) as RawRow[];
      totals.push(at(json(a), paging.totalPath) as number);
      rows.push(...items);
      if (rows.length >= totals[0]!) break;
    }
    return { rows, totals };
  }

  it('Torino selects by its own ISO dates, both bounds inclusive, and its own channel codes, and pages and counts the rows selected', async () => {
    const e = restSource('001272').source.entities.beneficiaries!;
    expect(e.filters['intake.date']).toEqual({ from: 'presa_in_carico_dal', to: 'presa_in_carico_al' });
    const all = sandbox.rows('001272', 'main', 'beneficiaries');
    const day = String(all[0]!['data_presa_in_carico']);
    const sameDay = all.filter((r) => r['data_presa_in_carico'] === day);

    const oneDay = await readFiltered('001272', 'beneficiaries', { presa_in_carico_dal: day, presa_in_carico_al: day });
    expect(oneDay.rows).toEqual(sameDay);

    const wanted = all.filter((r) => String(r['data_presa_in_carico']) >= '2023-01-01' && String(r['data_presa_in_carico']) <= '2024-12-31' && r['canale_accesso'] === 'UDS');
    // More than a page of them, so that paging is over the rows selected.
    expect(wanted.length).toBeGreaterThan(2);
    expect(wanted.length).toBeLessThan(all.length);
    const selected = await readFiltered('001272', 'beneficiaries', { presa_in_carico_dal: '2023-01-01', presa_in_carico_al: '2024-12-31', canale_accesso: 'UDS', unknown_param: 'x' }, 2);
    expect(selected.rows).toEqual(wanted);
    expect(new Set(selected.totals)).toEqual(new Set([wanted.length]));
  });

  it('Napoli reads its range in dd-mm-yyyy and matches codes whatever their case', async () => {
    const all = sandbox.rows('063049', 'main', 'beneficiaries');
    const iso = (d: unknown) => String(d).split('-').reverse().join('-');
    const wanted = all.filter((r) => iso(r['DATA_PRESA_CARICO']) >= '2022-01-01' && iso(r['DATA_PRESA_CARICO']) <= '2023-06-30' && ['UNITÀ DI STRADA', 'INVIO SERVIZI'].includes(String(r['CANALE'])));
    expect(wanted.length).toBeGreaterThan(0);
    expect(wanted.length).toBeLessThan(all.length);
    const selected = await readFiltered('063049', 'beneficiaries', { dataPresaCaricoDa: '01-01-2022', dataPresaCaricoA: '30-06-2023', canale: 'Unità di strada,Invio servizi' });
    expect(selected.rows).toEqual(wanted);
  });

  it('refuses a date bound not written in its own format with 400, and ignores a filter it does not offer', async () => {
    const { url, auth } = restSource('063049');
    const refused = await get(`${url}/utenti?dataPresaCaricoDa=2023-01-01`, auth);
    expect(refused.status).toBe(400);
    expect(json(refused).message).toContain('dd-mm-yyyy');
    // Milano offers no filter on the status: the whole list comes back.
    const { source, url: milano, auth: milanoAuth } = restSource('015146');
    const a = await get(`${milano}/assistiti?statoPresaInCarico=In%20carico&page=0&size=100`, milanoAuth);
    expect(at(json(a), source.paging.totalPath)).toBe(sandbox.rows('015146', 'main', 'beneficiaries').length);
  });
});

describe('CSV stand-ins', () => {
  it('a Windows-1252 export carries accented names as single bytes, and decodes to them', async () => {
    const { source, url, auth } = csvSource('084001');
    expect(source.encoding).toBe('windows-1252');
    const a = await get(`${url}${source.entities.beneficiaries!.path}`, auth);
    expect(a.status).toBe(200);
    expect(a.headers['content-type']).toBe('text/csv; charset=windows-1252');
    // "Traoré": é is 0xE9 in Windows-1252, two bytes (C3 A9) in UTF-8.
    expect(a.body.includes(Buffer.from([0x54, 0x72, 0x61, 0x6f, 0x72, 0xe9]))).toBe(true);
    expect(a.body.includes(Buffer.from('é', 'utf8'))).toBe(false);
    const text = iconv.decode(a.body, 'windows-1252');
    const lines = text.split('\r\n');
    expect(lines[0]).toBe(csvHeader(source, 'beneficiaries').join(';'));
    expect(text).toContain('Aïssatou');
    expect(text).toContain("Costa d'Avorio");
    expect(lines.filter((l) => l !== '')).toHaveLength(1 + population.get('084001')!.beneficiaries.length);
  });

  it('a UTF-8 export starts with a byte order mark', async () => {
    const { url, auth } = csvSource('092009');
    const a = await get(`${url}/beneficiari.csv`, auth);
    expect([...a.body.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(a.body.toString('utf8')).toContain('Aïssatou');
  });

  it('values holding the delimiter or quotes are quoted', async () => {
    const { source, url, auth } = csvSource('054039');
    const text = iconv.decode((await get(`${url}${source.entities.beneficiaries!.path}`, auth)).body, 'windows-1252');
    // Perugia writes citizenship in upper case Italian, and splits vulnerabilities by "," inside a ";" file: not quoted.
    expect(text).toContain("COSTA D'AVORIO");
    expect(text).toMatch(/;[^;"\r\n]+,[^;"\r\n]+;/);
    // Catania writes commas between cells: a value holding one is quoted, quotes inside doubled.
    const catania = dialectOf('087015').sources[0] as CsvSourceDialect;
    expect(csvText(catania, ['a', 'b'], [{ a: 'Rossi, Mario', b: 'Via "Roma"' }])).toBe('a,b\n"Rossi, Mario","Via ""Roma"""\n');
    // Latina's spreadsheet quotes every cell.
    expect(csvText(dialectOf('059011').sources[0] as CsvSourceDialect, ['a'], [{ a: 'x' }])).toBe('"a"\r\n"x"\r\n');
  });

  it('ETag and Last-Modified are answered 304 while the export has not changed', async () => {
    const { url, auth } = csvSource('084001');
    const first = await get(`${url}/Servizi.csv`, auth);
    const etag = first.headers.etag as string;
    const lastModified = first.headers['last-modified'] as string;
    expect(etag).toMatch(/^"[\w-]+"$/);
    expect(Date.parse(lastModified)).not.toBeNaN();

    const byTag = await get(`${url}/Servizi.csv`, { ...auth, 'if-none-match': etag });
    expect(byTag.status).toBe(304);
    expect(byTag.body.length).toBe(0);
    expect(byTag.headers.etag).toBe(etag);
    expect((await get(`${url}/Servizi.csv`, { ...auth, 'if-modified-since': lastModified })).status).toBe(304);
    expect((await get(`${url}/Servizi.csv`, { ...auth, 'if-none-match': '"an-older-export"' })).status).toBe(200);
    const earlier = new Date(Date.parse(lastModified) - 60_000).toUTCString();
    expect((await get(`${url}/Servizi.csv`, { ...auth, 'if-modified-since': earlier })).status).toBe(200);
    // Each file has its own tag.
    expect((await get(`${url}/Alloggi.csv`, auth)).headers.etag).not.toBe(etag);
  });

  it('every export refuses requests without its key: each holds names and fiscal codes', async () => {
    let checked = 0;
    for (const [name] of Object.entries(sandbox.env).filter(([k]) => k.endsWith('_URL'))) {
      const [, city, id] = /^LGNET_(\d{6})_(\w+)_URL$/.exec(name)!;
      const dialect = dialectOf(city!).sources.find((x) => x.id === id!.toLowerCase())!;
      if (dialect.kind !== 'csv') continue;
      const { source, url, auth } = csvSource(city!, dialect.id);
      expect(source.auth, `${city}/${dialect.id}`).toBeTruthy();
      const path = Object.values(source.entities)[0]!.path;
      expect((await get(`${url}${path}`)).status, `${city}/${dialect.id}`).toBe(401);
      expect((await get(`${url}${path}`, auth)).status, `${city}/${dialect.id}`).toBe(200);
      checked++;
    }
    expect(checked).toBeGreaterThan(0);
    const { url, auth } = csvSource('092009');
    expect((await get(`${url}/nessun-file.csv`, auth)).status).toBe(404);
  });
});

describe('faults', () => {
  afterEach(async () => {
    await sandbox.setFaults('');
  });

  it('parseFaults reads the environment format', () => {
    const faults = parseFaults(' 090064=down, 015146=slow:5000,063049=garbage,082053=flaky:0.3,001272=html,007003=half,092009=auth,076063/housing=down ');
    expect(Object.fromEntries(faults)).toEqual({
      '090064': { kind: 'down' },
      '015146': { kind: 'slow', delayMs: 5000 },
      '063049': { kind: 'garbage' },
      '082053': { kind: 'flaky', probability: 0.3 },
      '001272': { kind: 'html' },
      '007003': { kind: 'half' },
      '092009': { kind: 'auth' },
      '076063/housing': { kind: 'down' },
    });
    expect(parseFaults('').size).toBe(0);
  });

  it('parseFaults names the part that is wrong', () => {
    const cases: Array<[string, RegExp]> = [
      ['090064', /"090064".*<city>=<fault>/],
      ['9064=down', /"9064" is not a city/],
      ['090064=sideways', /unknown fault "sideways"/],
      ['090064=slow', /slow needs a delay/],
      ['090064=slow:-5', /slow needs a delay/],
      ['090064=flaky:1.5', /flaky needs a probability/],
      ['090064=down:3', /down takes no argument/],
      ['090064=down,090064=html', /given a fault twice/],
    ];
    for (const [spec, message] of cases) {
      expect(() => parseFaults(spec), spec).toThrow(FaultSpecError);
      expect(() => parseFaults(spec), spec).toThrow(message);
    }
  });

  it('the sandbox refuses a fault for a city or source it does not have', async () => {
    await expect(sandbox.setFaults('099999=down')).rejects.toThrow(/099999/);
    await expect(sandbox.setFaults('001272/housing=down')).rejects.toThrow(/001272\/housing/);
  });

  it('down refuses the connection, and lifting it serves again at the same address', async () => {
    const { url, auth } = restSource('001272');
    await sandbox.setFaults('001272=down');
    await expect(get(`${url}/servizi`, auth)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await sandbox.setFaults('');
    expect((await get(`${url}/servizi`, auth)).status).toBe(200);
  });

  it("a fault on one source leaves the city's other source alone", async () => {
    await sandbox.setFaults('058091/housing=down');
    const housing = restSource('058091', 'housing');
    const main = restSource('058091');
    await expect(get(`${housing.url}${housing.source.entities.placements!.path}`, housing.auth)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect((await get(`${main.url}${main.source.entities.services!.path}`, main.auth)).status).toBe(200);
  });

  it('slow holds every answer back by the delay', async () => {
    const { url, auth } = restSource('015146');
    await sandbox.setFaults('015146=slow:300');
    const t0 = performance.now();
    const a = await get(`${url}/servizi`, auth);
    expect(a.status).toBe(200);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
  });

  it('garbage answers 200, labelled as usual, with bytes that are neither JSON nor CSV', async () => {
    await sandbox.setFaults('063049=garbage,084001=garbage');
    const rest = restSource('063049');
    const a = await get(`${rest.url}/servizi`, rest.auth);
    expect(a.status).toBe(200);
    expect(a.headers['content-type']).toMatch(/^application\/json/);
    expect(() => JSON.parse(a.body.toString('utf8'))).toThrow();
    const csv = csvSource('084001');
    const b = await get(`${csv.url}/Servizi.csv`, csv.auth);
    expect(b.status).toBe(200);
    expect(b.headers['content-type']).toMatch(/^text\/csv/);
    expect(iconv.decode(b.body, 'windows-1252').startsWith('IdServizio;')).toBe(false);
    expect(b.body.includes(0)).toBe(true);
  });

  it('html answers 200 with a maintenance page', async () => {
    await sandbox.setFaults('001272=html');
    const { url, auth } = restSource('001272');
    const a = await get(`${url}/servizi`, auth);
    expect(a.status).toBe(200);
    expect(a.headers['content-type']).toMatch(/^text\/html/);
    expect(a.body.toString('utf8')).toMatch(/^<!DOCTYPE html>[\s\S]*manutenzione/);
  });

  it('half promises the whole body, sends half of it and cuts the connection', async () => {
    const { url, auth } = csvSource('007003');
    const whole = await get(`${url}/Anagrafe.csv`, auth);
    await sandbox.setFaults('007003=half');
    const error = await get(`${url}/Anagrafe.csv`, auth).then(
      () => null,
      (e: { code?: string; received?: Buffer }) => e,
    );
    expect(error).not.toBeNull();
    expect(error!.code).toBe('ECONNRESET');
    expect(error!.received!.length).toBe(Math.floor(whole.body.length / 2));
    expect(whole.body.subarray(0, error!.received!.length).equals(error!.received!)).toBe(true);
  });

  it('auth answers 401 to everything, the right key included', async () => {
    await sandbox.setFaults('092009=auth,001272=auth');
    const csv = csvSource('092009');
    expect((await get(`${csv.url}/Servizi.csv`, csv.auth)).status).toBe(401);
    const rest = restSource('001272');
    expect((await get(`${rest.url}/servizi`, rest.auth)).status).toBe(401);
  });

  it('flaky fails the same requests every time it is set', async () => {
    const { url, auth } = restSource('082053');
    const run = async () => {
      await sandbox.setFaults('082053=flaky:0.5');
      const statuses: number[] = [];
      for (let i = 0; i < 24; i++) statuses.push((await get(`${url}/servizi`, auth)).status);
      return statuses;
    };
    const first = await run();
    expect(new Set(first)).toEqual(new Set([200, 503]));
    expect(await run()).toEqual(first);
    await sandbox.setFaults('082053=flaky:0');
    expect((await get(`${url}/servizi`, auth)).status).toBe(200);
    await sandbox.setFaults('082053=flaky:1');
    expect((await get(`${url}/servizi`, auth)).status).toBe(503);
  });

  it('a fault given at start is applied from the first request', async () => {
    const other = await startSandbox({ seed: 11, population, faults: '082053=down,001272=auth' });
    try {
      await expect(get(`${other.env.LGNET_082053_MAIN_URL}/servizi`)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      const { source } = restSource('001272');
      const a = await get(`${other.env.LGNET_001272_MAIN_URL}/servizi`, { [source.auth.header]: other.env.LGNET_001272_MAIN_KEY! });
      expect(a.status).toBe(401);
    } finally {
      await other.close();
    }
    await expect(startSandbox({ population, faults: '090064=explode' })).rejects.toThrow(/unknown fault "explode"/);
  });
});

describe('render', () => {
  it('render breaks 2 to 6 records per city, over more than one entity, and reports each', () => {
    for (const [code, city] of population) {
      const dialect = dialectOf(code);
      const { broken, sources } = renderCity(city, dialect, { seed: 11 });
      const faithful = renderCity(city, dialect, { seed: 11, breakRecords: false });
      expect(broken.length, code).toBeGreaterThanOrEqual(MIN_BROKEN);
      expect(broken.length, code).toBeLessThanOrEqual(MAX_BROKEN);
      expect(new Set(broken.map((b) => b.entity)).size, code).toBeGreaterThan(1);
      expect(faithful.broken).toEqual([]);
      // Exactly the reported rows differ from a faithful rendering, and never in an id.
      const differing: string[] = [];
      for (const source of dialect.sources) {
        for (const entity of entityNames) {
          const e = source.entities[entity];
          if (!e) continue;
          const rows = sources.get(source.id)!.get(entity)!;
          const good = faithful.sources.get(source.id)!.get(entity)!;
          rows.forEach((row, i) => {
            if (JSON.stringify(row) === JSON.stringify(good[i])) return;
            differing.push(`${entity} ${(city[entity][i] as { localId: string }).localId}`);
            const f = e.fields as Record<string, string>;
            const changed = Object.keys({ ...row, ...good[i] }).filter((k) => JSON.stringify(row[k]) !== JSON.stringify(good[i]![k]));
            expect(changed, `${code} ${entity} #${i}: one defect per record`).toHaveLength(1);
            for (const idField of ['localId', 'beneficiaryId', 'serviceId', 'resourceId']) expect(changed).not.toContain(f[idField]);
          });
        }
      }
      expect(differing.sort(), code).toEqual(broken.map((b) => `${b.entity} ${b.localId}`).sort());
    }
  });

  it('the same seed breaks the same records, another seed others', () => {
    const city = population.get('001272')!;
    const a = renderCity(city, dialectOf('001272'), { seed: 1 });
    const b = renderCity(city, dialectOf('001272'), { seed: 1 });
    expect(b.broken).toEqual(a.broken);
    expect(b.sources).toEqual(a.sources);
    const others = [2, 3, 4].map((seed) => JSON.stringify(renderCity(city, dialectOf('001272'), { seed }).broken));
    expect(others.some((o) => o !== JSON.stringify(a.broken))).toBe(true);
  });
});

describe('the sandbox', () => {
  it('env gives a URL and a key for every source of every city', () => {
    // The variables each city's config reads its endpoint and key from, and nothing else.
    const named = loadCityConfigs(defaultCitiesDir).flatMap((c) =>
      c.sources.flatMap((s) => [(s.baseUrl as { env: string }).env, ...(s.auth ? [s.auth.key.env] : [])]),
    );
    expect(Object.keys(sandbox.env).sort()).toEqual([...named].sort());
    expect(new Set(Object.values(sandbox.env)).size).toBe(named.length);
    for (const [name, value] of Object.entries(sandbox.env)) {
      if (name.endsWith('_URL')) expect(value, name).toMatch(/^(http|postgres):\/\/[^/]*127\.0\.0\.1:\d+/);
      else expect(value.length, name).toBeGreaterThanOrEqual(32);
    }
    expect(sandbox.env.LGNET_076063_HOUSING_URL).toMatch(/\/acta\/export$/);
  });

  it('broken lists the records each city serves broken', () => {
    for (const [code, city] of population) {
      const broken = sandbox.broken.get(code)!;
      expect(broken.length, code).toBeGreaterThanOrEqual(MIN_BROKEN);
      for (const b of broken) {
        expect((city[b.entity] as Array<{ localId: string }>).some((r) => r.localId === b.localId), `${code} ${b.entity} ${b.localId}`).toBe(true);
        expect(['INVALID_DATE', 'UNKNOWN_CODE', 'MISSING_FIELD', 'INVALID_FISCAL_CODE', 'INVALID_VALUE']).toContain(b.reason);
      }
    }
    // A city without people gets an empty list, not a missing one.
    expect(population.has('073027')).toBe(false);
    expect(sandbox.broken.get('073027')).toEqual([]);
  });

  it('request counting counts every request, refused and unknown ones included, per city and in all', async () => {
    sandbox.resetRequestCounts();
    expect(sandbox.requestCount()).toBe(0);
    const { url, auth } = restSource('001272');
    await get(`${url}/servizi`, auth);
    await get(`${url}/servizi`); // 401
    await get(`${url}/nessuna-risorsa`, auth); // 404
    const csv = csvSource('084001');
    await get(`${csv.url}/Servizi.csv`);
    expect(sandbox.requestCount('001272')).toBe(3);
    expect(sandbox.requestCount('084001')).toBe(1);
    expect(sandbox.requestCount('015146')).toBe(0);
    expect(sandbox.requestCount()).toBe(4);
    sandbox.resetRequestCounts();
    expect(sandbox.requestCount()).toBe(0);
  });

  it('byte counting counts the response bodies sent, per city and in all: none for a 304 or a HEAD', async () => {
    sandbox.resetRequestCounts();
    const { url, auth } = restSource('001272');
    const rest = await get(`${url}/servizi`, auth);
    const csv = csvSource('084001');
    const file = await get(`${csv.url}/Servizi.csv`, csv.auth);
    expect(rest.body.length).toBeGreaterThan(0);
    expect(file.body.length).toBeGreaterThan(0);
    expect(sandbox.bytesSent('001272')).toBe(rest.body.length);
    expect(sandbox.bytesSent('084001')).toBe(file.body.length);

    const notModified = await get(`${csv.url}/Servizi.csv`, { ...csv.auth, 'if-none-match': String(file.headers.etag) });
    expect(notModified.status).toBe(304);
    const head = await new Promise<number>((resolve, reject) => {
      const req = request(`${csv.url}/Servizi.csv`, { method: 'HEAD', headers: csv.auth, agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end();
    });
    expect(head).toBe(200);
    expect(sandbox.bytesSent('084001')).toBe(file.body.length);
    expect(sandbox.bytesSent()).toBe(rest.body.length + file.body.length);
    expect(sandbox.requestCount()).toBe(4);

    sandbox.resetRequestCounts();
    expect(sandbox.bytesSent()).toBe(0);
  });
});
