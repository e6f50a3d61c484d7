/**
 * The adapter core over a connector whose upstream calls are counted: what
 * the adapter asks of a source, and when it does not ask at all.
 */
import { Agent } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { SourceConfig, resolveCity, CityConfig } from './config.ts';
import { createCityAdapter, matches } from './city-adapter.ts';
import type { ConnectorStatus, RawRow, SourceConnector } from './port.ts';
import { silentLogger } from '../runtime/logger.ts';
import { CityError } from '../schema/errors.ts';
import { fiscalCodeCheckChar } from '../schema/fiscal-code.ts';
import type { EntityName } from '../schema/records.ts';

const dispatcher = new Agent();
afterAll(() => dispatcher.close());

const source = SourceConfig.parse({
  kind: 'csv',
  id: 'main',
  domains: ['services'],
  baseUrl: 'http://127.0.0.1:1',
  auth: { header: 'X-API-Key', key: { env: 'LGNET_090064_MAIN_KEY' } },
  dateFormat: 'yyyy-mm-dd',
  vocabularies: { serviceCategory: { SPORTELLO: 'ONE_STOP_SHOP', LAB: 'WORKSHOP' } },
  entities: { services: { path: '/servizi.csv', fields: { localId: 'id', name: 'nome', category: 'tipo' } } },
});
const city = resolveCity(CityConfig.parse({ code: '090064', name: 'Sassari', region: 'Sardegna', province: 'SS', editions: ['LGNET3'], sources: [source] }), { LGNET_090064_MAIN_KEY: 'test-key' });

const rows: RawRow[] = [
  { id: 'S1', nome: 'Sportello unico', tipo: 'SPORTELLO' },
  { id: 'S2', nome: 'Laboratorio di sartoria', tipo: 'LAB' },
  { id: 'S3', nome: 'Servizio sconosciuto', tipo: 'BOH' },
  { id: 'S4', nome: 'Laboratorio di danza', tipo: 'LAB' },
];

function setup(options: { failing?: boolean; hanging?: boolean; status?: () => ConnectorStatus } = {}) {
  const calls: string[] = [];
  let clock = 1_000_000;
  let failing = options.failing ?? false;
  const connector: SourceConnector = {
    kind: 'csv',
    async page(entity: EntityName, { offset, limit }, signal) {
      calls.push(`page ${entity} ${offset}+${limit}`);
      if (options.hanging) {
        // Answers only when given up on, like a source slower than the caller's patience.
        await new Promise((_, reject) => signal?.addEventListener('abort', () => reject(signal.reason)));
      }
      if (failing) throw new CityError('CITY_UNAVAILABLE', '090064', 'connection refused');
      return { rows: rows.slice(offset, offset + limit), total: rows.length };
    },
    async lookup(entity: EntityName, key, values) {
      calls.push(`lookup ${entity} ${key} ${values.join(',')}`);
      return rows.filter((r) => values.includes(String(r.id)));
    },
    status: options.status ?? (() => ({ status: 'UNKNOWN', asOf: null })),
  };
  const adapter = createCityAdapter(city, {
    personKeySecret: 'sixteen-chars-secret',
    deps: { dispatcher, now: () => clock, logger: silentLogger },
    createConnector: () => connector,
    qualityTtlMs: 60_000,
    probeTimeoutMs: 20,
  });
  return { adapter, calls, tick: (ms: number) => (clock += ms), fail: (f: boolean) => (failing = f) };
}

describe('the city adapter', () => {
  it('answers look-ups in key order: the record, its rejection, or NOT_FOUND', async () => {
    const { adapter, calls } = setup();
    const result = await adapter.byId('services', ['S4', 'S3', 'S9', 'S1'], {});
    expect((result[0] as { name: string }).name).toBe('Laboratorio di danza');
    expect(result[1]).toMatchObject({ code: 'RECORD_REJECTED', city: '090064' });
    expect((result[1] as Error).message).toMatch(/UNKNOWN_CODE/);
    expect(result[2]).toMatchObject({ code: 'NOT_FOUND' });
    expect((result[3] as { category: string }).category).toBe('ONE_STOP_SHOP');
    expect(calls).toEqual(['lookup services localId S4,S3,S9,S1']);
  });

  it('counts offsets among matching records when filtering, and among all records otherwise', async () => {
    const { adapter } = setup();
    const filtered = await adapter.list('services', { offset: 1, limit: 5, where: { category: ['WORKSHOP'] } }, {});
    expect(filtered.items.map((s) => s.localId)).toEqual(['S4']);
    expect(filtered.total).toBe(2);
    const plain = await adapter.list('services', { offset: 1, limit: 3 }, {});
    expect(plain.items.map((s) => s.localId)).toEqual(['S2', 'S4']);
    expect(plain).toMatchObject({ total: 4, rejected: 1, nextOffset: 4 });
  });

  it('counts valid records by group, with the different values of a field, and says how many were rejected', async () => {
    const { adapter } = setup();
    const byCategory = await adapter.count('services', { by: ['category'], distinct: 'name' }, {});
    expect(byCategory.groups.sort((a, b) => String(a.key[0]).localeCompare(String(b.key[0])))).toEqual([
      { key: ['ONE_STOP_SHOP'], count: 1, distinct: 1 },
      { key: ['WORKSHOP'], count: 2, distinct: 2 },
    ]);
    expect(byCategory.rejected).toBe(1);
    const workshops = await adapter.count('services', { where: { category: ['WORKSHOP'] } }, {});
    expect(workshops.groups).toEqual([{ key: [], count: 2 }]);
    const none = await adapter.count('services', { where: { category: [] } }, {});
    expect(none.groups).toEqual([]);
  });

  it('reuses a data-quality sweep within its time to live, and sweeps again after', async () => {
    const { adapter, calls, tick } = setup();
    const q = await adapter.dataQuality({});
    expect(q).toMatchObject([{ entity: 'services', received: 4, accepted: 3, rejected: 1, reasons: [{ code: 'UNKNOWN_CODE', count: 1 }] }]);
    await adapter.dataQuality({});
    expect(calls).toHaveLength(1);
    tick(60_001);
    await adapter.dataQuality({});
    expect(calls).toHaveLength(2);
  });

  it('probes a source for its status at most once per period, and reports a failed probe as DOWN', async () => {
    const { adapter, calls, tick, fail } = setup({ failing: true });
    expect((await adapter.checkSources({}, 30_000))[0]!.status).toBe('DOWN');
    expect((await adapter.checkSources({}, 30_000))[0]!.status).toBe('DOWN');
    expect(calls).toEqual(['page services 0+1']);
    fail(false);
    tick(30_001);
    expect((await adapter.checkSources({}, 30_000))[0]!.status).not.toBe('DOWN');
    expect(calls).toHaveLength(2);
  });

  it('does not call a source DOWN for being slower than a status check waits', async () => {
    const { adapter, calls } = setup({ hanging: true });
    expect((await adapter.checkSources({}, 30_000))[0]!.status).toBe('UNKNOWN');
    expect(calls).toEqual(['page services 0+1']);
  });

  it('clears a failed probe as soon as the source answers anything', async () => {
    const { adapter, fail } = setup({ failing: true });
    expect((await adapter.checkSources({}, 30_000))[0]!.status).toBe('DOWN');
    fail(false);
    await adapter.list('services', { offset: 0, limit: 2 }, {});
    expect(adapter.sources()[0]!.status).not.toBe('DOWN');
  });

  it('passes on a DEGRADED source with its reason, does not probe it while it answers, and calls it DOWN when a probe fails', async () => {
    const answered = new Date(1_000_000);
    const { adapter, calls, tick, fail } = setup({ status: () => ({ status: 'DEGRADED', asOf: answered, reason: 'needed retries on 6 of its last 20 requests' }) });
    expect(adapter.sources()).toEqual([
      { id: 'main', kind: 'csv', domains: ['services'], status: 'DEGRADED', asOf: answered, reason: 'needed retries on 6 of its last 20 requests' },
    ]);
    expect((await adapter.checkSources({}, 30_000))[0]!.status).toBe('DEGRADED');
    expect(calls).toEqual([]);
    fail(true);
    tick(30_001);
    expect((await adapter.checkSources({}, 30_000))[0]).toMatchObject({ status: 'DOWN' });
    expect(adapter.sources()[0]!.reason).toBeUndefined();
  });

  it('reports a fault of the graph\'s own, met under a call, as INTERNAL_ERROR naming the city, and logs its stack', async () => {
    const logged: Array<Record<string, unknown> | undefined> = [];
    const adapter = createCityAdapter(city, {
      personKeySecret: 'sixteen-chars-secret',
      deps: { dispatcher, now: Date.now, logger: { ...silentLogger, error: (_msg, data) => void logged.push(data) } },
      createConnector: () => ({
        kind: 'csv',
        page: async () => {
          throw new TypeError("Cannot read properties of undefined (reading 'trim')");
        },
        lookup: async () => [],
        status: () => ({ status: 'UP', asOf: null }),
      }),
    });
    await expect(adapter.list('services', { offset: 0, limit: 2 }, {})).rejects.toMatchObject({ code: 'INTERNAL_ERROR', city: '090064' });
    expect(logged).toEqual([{ city: '090064', code: 'INTERNAL_ERROR', stack: expect.stringMatching(/^TypeError: Cannot read properties/) }]);
    // The source is not blamed.
    expect(adapter.sources()[0]!.status).toBe('UP');
  });

  it('fails every call of an entity no source serves with CITY_NOT_CONFIGURED', async () => {
    const { adapter, calls } = setup();
    await expect(adapter.list('beneficiaries', { offset: 0, limit: 1 }, {})).rejects.toMatchObject({ code: 'CITY_NOT_CONFIGURED', city: '090064' });
    expect(calls).toEqual([]);
  });
});

describe('whole reads of a snapshot source', () => {
  /** A CSV-like source of people and their enrolments, whose exports a test replaces (a new version, new row objects). */
  const snapshotSource = SourceConfig.parse({
    kind: 'csv',
    id: 'main',
    domains: ['people', 'services'],
    baseUrl: 'http://127.0.0.1:1',
    auth: { header: 'X-API-Key', key: { env: 'LGNET_090064_MAIN_KEY' } },
    dateFormat: 'yyyy-mm-dd',
    vocabularies: {},
    entities: {
      beneficiaries: {
        path: '/persone.csv',
        fields: {
          localId: 'id', fiscalCode: 'cf', givenName: 'nome', familyName: 'cognome', sex: 'sesso', birthDate: 'nascita',
          citizenship: 'cittadinanza', permitType: 'permesso', vulnerabilities: 'vulnerabilita', intakeDate: 'presa',
          intakeChannel: 'canale', intakeStatus: 'stato',
        },
      },
      services: { path: '/servizi.csv', fields: { localId: 'id', name: 'nome', category: 'tipo' } },
      enrollments: { path: '/iscrizioni.csv', fields: { localId: 'id', beneficiaryId: 'persona', serviceId: 'servizio', from: 'dal', to: 'al' } },
    },
  });
  const snapshotCity = resolveCity(
    CityConfig.parse({ code: '090064', name: 'Sassari', region: 'Sardegna', province: 'SS', editions: ['LGNET3'], sources: [snapshotSource] }),
    { LGNET_090064_MAIN_KEY: 'test-key' },
  );

  const cf = (i: number) => {
    const first15 = `RSSMRA8${i}A01Z10${i}`;
    return first15 + fiscalCodeCheckChar(first15);
  };
  const person = (i: number, changes: Record<string, string> = {}): RawRow =>
    Object.freeze({
      id: `P${i}`, cf: cf(i), nome: 'Amina', cognome: 'Traoré', sesso: 'FEMALE', nascita: '1988-05-0' + i, cittadinanza: 'ML',
      permesso: 'ASYLUM_SEEKER', vulnerabilita: '', presa: '2024-02-1' + i, canale: 'MOBILE_UNIT', stato: 'ACTIVE', ...changes,
    });
  const enrolment = (i: number, personId: string): RawRow => Object.freeze({ id: `E${i}`, persona: personId, servizio: 'S1', dal: '2024-03-01', al: '' });

  function snapshotSetup(options: { versioned?: boolean } = {}) {
    const versioned = options.versioned ?? true;
    // P2 has no fiscal code: rejected, and its enrolment with it.
    const exports = new Map<EntityName, { rows: RawRow[]; version: number }>([
      ['beneficiaries', { rows: [person(1), person(2, { cf: '' }), person(3)], version: 1 }],
      ['enrollments', { rows: [enrolment(1, 'P1'), enrolment(2, 'P2'), enrolment(3, 'P3')], version: 1 }],
      ['services', { rows: [], version: 1 }],
    ]);
    const classified: string[] = [];
    let clock = Date.parse('2025-03-10T12:00:00Z');
    const connector: SourceConnector = {
      kind: 'csv',
      async page(entity, { offset, limit }) {
        const file = exports.get(entity)!;
        const page = { rows: file.rows.slice(offset, offset + limit), total: file.rows.length };
        return versioned ? { ...page, version: `${entity}#${file.version}` } : page;
      },
      async lookup() {
        return [];
      },
      status: () => ({ status: 'UP', asOf: null }),
    };
    const adapter = createCityAdapter(snapshotCity, {
      personKeySecret: 'sixteen-chars-secret',
      deps: { dispatcher, now: () => clock, logger: silentLogger },
      createConnector: () => connector,
      observeClassify: (read) => classified.push(`${read.entity} ${read.rows}`),
    });
    /** A new export of an entity: new row objects, a new version. */
    const publish = (entity: EntityName, rows: RawRow[]) => {
      const file = exports.get(entity)!;
      exports.set(entity, { rows, version: file.version + 1 });
    };
    return { adapter, classified, publish, tick: (ms: number) => (clock += ms) };
  }
  const everything = { offset: 0, limit: Infinity } as const;
  const ids = (items: ReadonlyArray<{ localId: string }>) => items.map((x) => x.localId);

  it('maps and validates an export once, and answers later whole reads and the data quality from that result while the export is the same', async () => {
    const { adapter, classified } = snapshotSetup();
    const first = await adapter.list('beneficiaries', everything, {});
    expect(classified).toEqual(['beneficiaries 3']);

    const again = await adapter.list('beneficiaries', { ...everything, where: { 'intake.date': { from: '2024-02-13' } } }, {});
    const quality = await adapter.dataQuality({});

    // The persons are not classified again, neither for the filtered list nor for the sweep (nor for the enrolments' sake).
    expect(classified.sort()).toEqual(['beneficiaries 3', 'enrollments 3', 'services 0']);
    expect(ids(first.items)).toEqual(['P1', 'P3']);
    expect(first).toMatchObject({ total: 3, accepted: 2, rejected: 1 });
    expect(ids(again.items)).toEqual(['P3']);
    expect(again).toMatchObject({ total: 1, rejected: 1 });
    expect(quality.find((q) => q.entity === 'beneficiaries')).toMatchObject({ received: 3, accepted: 2, rejected: 1, reasons: [{ code: 'MISSING_FIELD', count: 1 }] });
    expect(quality.find((q) => q.entity === 'enrollments')).toMatchObject({ received: 3, accepted: 2, rejected: 1, reasons: [{ code: 'PARENT_REJECTED', count: 1 }] });
  });

  it('classifies a new export again', async () => {
    const { adapter, classified, publish } = snapshotSetup();
    await adapter.list('beneficiaries', everything, {});
    publish('beneficiaries', [person(1), person(2), person(3), person(4, { presa: '2024-13-01' })]);

    const page = await adapter.list('beneficiaries', everything, {});

    expect(classified).toEqual(['beneficiaries 3', 'beneficiaries 4']);
    expect(ids(page.items)).toEqual(['P1', 'P2', 'P3']);
    expect(page).toMatchObject({ total: 4, rejected: 1 });
  });

  it("keeps the records that hang off a person for as long as both their export and the persons' are the same", async () => {
    const { adapter, classified, publish } = snapshotSetup();
    const first = await adapter.list('enrollments', everything, {});
    await adapter.list('enrollments', everything, {});
    expect(classified).toEqual(['beneficiaries 3', 'enrollments 3']);
    expect(ids(first.items)).toEqual(['E1', 'E3']);

    // P2's record is mended: its enrolment is no longer PARENT_REJECTED, though the enrolments' export has not changed.
    publish('beneficiaries', [person(1), person(2), person(3)]);
    const mended = await adapter.list('enrollments', everything, {});

    expect(classified).toEqual(['beneficiaries 3', 'enrollments 3', 'beneficiaries 3', 'enrollments 3']);
    expect(ids(mended.items)).toEqual(['E1', 'E2', 'E3']);
    expect(mended.rejected).toBe(0);
  });

  it('classifies the rows of a live source (no version) at every whole read', async () => {
    const { adapter, classified } = snapshotSetup({ versioned: false });
    await adapter.list('enrollments', everything, {});
    await adapter.list('enrollments', everything, {});
    expect(classified).toEqual(['beneficiaries 3', 'enrollments 3', 'beneficiaries 3', 'enrollments 3']);
  });

  it('keeps a result holding a rejection that depends on the date for that day only', async () => {
    const { adapter, classified, publish, tick } = snapshotSetup();
    // Taken in charge tomorrow (Italian time): refused today, valid from tomorrow, in the same export.
    publish('beneficiaries', [person(1), person(2), person(3, { presa: '2025-03-11' })]);
    expect(ids((await adapter.list('beneficiaries', everything, {})).items)).toEqual(['P1', 'P2']);
    expect(ids((await adapter.list('beneficiaries', everything, {})).items)).toEqual(['P1', 'P2']);
    expect(classified).toEqual(['beneficiaries 3']);

    tick(24 * 3600_000);
    expect(ids((await adapter.list('beneficiaries', everything, {})).items)).toEqual(['P1', 'P2', 'P3']);
    expect(classified).toEqual(['beneficiaries 3', 'beneficiaries 3']);
  });
});

describe('conditions', () => {
  it('match a date range by day or by month, and an empty date only when the range says so', () => {
    const running = { from: '2024-03-10', to: null };
    expect(matches(running, { from: { from: '2024-03', to: '2024-03' } })).toBe(true);
    expect(matches(running, { from: { from: '2024-03-11' } })).toBe(false);
    expect(matches(running, { to: { from: '2024-01-01' } })).toBe(false);
    expect(matches(running, { to: { from: '2024-01-01', orEmpty: true } })).toBe(true);
    expect(matches({ from: '2024-01-01', to: '2023-12-31' }, { to: { from: '2024-01-01', orEmpty: true } })).toBe(false);
  });
});

// A live source of people and their enrolments (new row objects at every read).
const liveSource = SourceConfig.parse({
  kind: 'csv',
  id: 'main',
  domains: ['people', 'services'],
  baseUrl: 'http://127.0.0.1:1',
  auth: { header: 'X-API-Key', key: { env: 'LGNET_090064_MAIN_KEY' } },
  dateFormat: 'yyyy-mm-dd',
  vocabularies: {},
  entities: {
    beneficiaries: {
      path: '/persone.csv',
      fields: {
        localId: 'id', fiscalCode: 'cf', givenName: 'nome', familyName: 'cognome', sex: 'sesso', birthDate: 'nascita',
        citizenship: 'cittadinanza', permitType: 'permesso', vulnerabilities: 'vulnerabilita', intakeDate: 'presa',
        intakeChannel: 'canale', intakeStatus: 'stato',
      },
    },
    enrollments: { path: '/iscrizioni.csv', fields: { localId: 'id', beneficiaryId: 'persona', serviceId: 'servizio', from: 'dal', to: 'al' } },
  },
});
const liveCity = resolveCity(
  CityConfig.parse({ code: '090064', name: 'Sassari', region: 'Sardegna', province: 'SS', editions: ['LGNET3'], sources: [liveSource] }),
  { LGNET_090064_MAIN_KEY: 'test-key' },
);
const cf = (i: number) => {
  const first15 = `RSSMRA8${i}A01Z10${i}`;
  return first15 + fiscalCodeCheckChar(first15);
};
const person = (i: number, changes: Record<string, string> = {}): RawRow => ({
  id: `P${i}`, cf: cf(i), nome: 'Amina', cognome: 'Traoré', sesso: 'FEMALE', nascita: '1988-05-0' + i, cittadinanza: 'ML',
  permesso: 'ASYLUM_SEEKER', vulnerabilita: '', presa: '2024-02-1' + i, canale: 'MOBILE_UNIT', stato: 'ACTIVE', ...changes,
});
const enrolment = (i: number, personId: string, from = '2024-03-01'): RawRow => ({ id: `E${i}`, persona: personId, servizio: 'S1', dal: from, al: '' });

/** A live source (new row objects at every read), answering pages and look-ups from the lists given. */
function liveSetup(lists: Partial<Record<EntityName, RawRow[]>>) {
  const copy = (r: RawRow) => ({ ...r });
  const connector: SourceConnector = {
    kind: 'csv',
    async page(entity, { offset, limit }) {
      const all = lists[entity] ?? [];
      return { rows: all.slice(offset, offset + limit).map(copy), total: all.length };
    },
    async lookup(entity, key, values) {
      const field = key === 'localId' ? 'id' : 'persona';
      return (lists[entity] ?? []).filter((r) => values.includes(String(r[field]))).map(copy);
    },
    status: () => ({ status: 'UP', asOf: null }),
  };
  return createCityAdapter(liveCity, {
    personKeySecret: 'sixteen-chars-secret',
    deps: { dispatcher, now: () => Date.parse('2025-03-10T12:00:00Z'), logger: silentLogger },
    createConnector: () => connector,
  });
}

describe('records a source sends twice', () => {
  const ids = (items: ReadonlyArray<{ localId: string }>) => items.map((x) => x.localId);

  it('keeps the first record of a local id and rejects every later one as DUPLICATE_RECORD, counted so that received = accepted + rejected', async () => {
    // P2 comes again at the end, the second time with another birth date: the first one is the record.
    const adapter = liveSetup({ beneficiaries: [person(1), person(2), person(3), person(2, { nascita: '1970-01-01' })], enrollments: [] });

    const all = await adapter.list('beneficiaries', { offset: 0, limit: Infinity }, {});
    const quality = (await adapter.dataQuality({})).find((q) => q.entity === 'beneficiaries')!;

    expect(ids(all.items)).toEqual(['P1', 'P2', 'P3']);
    expect(all.items[1]!.birthDate).toBe('1988-05-02');
    expect(all).toMatchObject({ total: 4, accepted: 3, rejected: 1 });
    expect(quality).toMatchObject({ received: 4, accepted: 3, rejected: 1, reasons: [{ code: 'DUPLICATE_RECORD', count: 1 }] });
  });

  it('names the record kept when a look-up meets a copy, and answers the first one', async () => {
    const adapter = liveSetup({ beneficiaries: [person(1), person(2, { cf: '' }), person(2)], enrollments: [] });

    const [p2] = await adapter.byId('beneficiaries', ['P2'], {});

    // The first P2 has no fiscal code: it is the record, and it is rejected for that, not replaced by the copy.
    expect(p2).toMatchObject({ code: 'RECORD_REJECTED', reason: 'MISSING_FIELD' });
  });

  it('makes a walk by positions return each record once, as many as the total of valid records, when the copy comes on a later page', async () => {
    const adapter = liveSetup({ beneficiaries: [person(1), person(2), person(3), person(4), person(1)], enrollments: [] });

    // A walk counts the city whole first, then reads it by positions, two at a time.
    const counted = await adapter.list('beneficiaries', { offset: 0, limit: Infinity }, {});
    const walked: string[] = [];
    let rejected = 0;
    for (let offset = 0; offset < counted.total; ) {
      const page = await adapter.list('beneficiaries', { offset, limit: 2 }, {});
      walked.push(...ids(page.items));
      rejected += page.rejected;
      offset = page.nextOffset;
    }

    expect(walked).toEqual(['P1', 'P2', 'P3', 'P4']);
    expect(walked).toHaveLength(counted.accepted!);
    expect(rejected).toBe(counted.rejected);
  });

  it('rejects a copy within one slice even before any whole read', async () => {
    const adapter = liveSetup({ beneficiaries: [person(1), person(1), person(2)], enrollments: [] });

    const page = await adapter.list('beneficiaries', { offset: 0, limit: 3 }, {});

    expect(ids(page.items)).toEqual(['P1', 'P2']);
    expect(page.rejected).toBe(1);
  });

  it("gives each of a person's records once, and counts the copy of one among the city's rejections", async () => {
    const adapter = liveSetup({ beneficiaries: [person(1)], enrollments: [enrolment(1, 'P1'), enrolment(2, 'P1'), enrolment(1, 'P1', '2024-04-01')] });

    const [own] = await adapter.byBeneficiary('enrollments', ['P1'], {});
    const quality = (await adapter.dataQuality({})).find((q) => q.entity === 'enrollments')!;

    expect(ids(own as Array<{ localId: string }>)).toEqual(['E1', 'E2']);
    expect((own as Array<{ from: string }>)[0]!.from).toBe('2024-03-01');
    expect(quality).toMatchObject({ received: 3, accepted: 2, rejected: 1, reasons: [{ code: 'DUPLICATE_RECORD', count: 1 }] });
  });
});

describe('a field the city renamed', () => {
  const file = 'adapters/cities/090064-sassari.json';
  const renamedCity = resolveCity(CityConfig.parse({ code: '090064', name: 'Sassari', region: 'Sardegna', province: 'SS', editions: ['LGNET3'], sources: [source] }), { LGNET_090064_MAIN_KEY: 'test-key' }, file);

  function renamedSetup(list: RawRow[]) {
    const connector: SourceConnector = {
      kind: 'csv',
      page: async (_entity, { offset, limit }) => ({ rows: list.slice(offset, offset + limit), total: list.length }),
      lookup: async () => [],
      status: () => ({ status: 'UP', asOf: null }),
    };
    return createCityAdapter(renamedCity, {
      personKeySecret: 'sixteen-chars-secret',
      deps: { dispatcher, now: () => 1_000_000, logger: silentLogger },
      createConnector: () => connector,
    });
  }

  it('makes the source DEGRADED and the data quality name the column no record holds, the key to change and the file', async () => {
    // The system calls `tipo` `tipologia` now: every service lacks its category.
    const adapter = renamedSetup(rows.map(({ tipo, ...rest }) => ({ ...rest, tipologia: tipo })));

    const quality = await adapter.dataQuality({});
    const [status] = adapter.sources();

    const problem = `column "tipo" is in none of the 4 services records received (renamed or removed in the city's system?): change sources[id=main].entities.services.fields.category in ${file} to its new name`;
    expect(quality).toMatchObject([{ entity: 'services', received: 4, rejected: 4, reasons: [{ code: 'MISSING_FIELD', count: 4 }], mappingProblems: [problem] }]);
    expect(status).toMatchObject({ status: 'DEGRADED', reason: `4 of 4 services rejected (MISSING_FIELD 4): ${problem}` });
  });

  it('says nothing of the mapping when every mapped field is sent, whatever is rejected', async () => {
    const adapter = renamedSetup(rows);

    const quality = await adapter.dataQuality({});

    expect(quality).toMatchObject([{ entity: 'services', rejected: 1, mappingProblems: [] }]);
  });
});

describe('an optional field no record holds', () => {
  it('is named in the data quality with the key to change, without rejecting anything or degrading the source', async () => {
    // No enrolment has an end (`al`): it may be the system's new name for it, or none has ended.
    const adapter = liveSetup({ beneficiaries: [person(1)], enrollments: [enrolment(1, 'P1'), enrolment(2, 'P1')].map(({ al, ...rest }) => rest) });

    const quality = (await adapter.dataQuality({})).find((q) => q.entity === 'enrollments')!;

    expect(quality).toMatchObject({ received: 2, accepted: 2, rejected: 0 });
    expect(quality.mappingProblems).toEqual([
      `column "al" is in none of the 2 enrollments records received, so to reads as empty in every one: if the system renamed it, change sources[id=main].entities.enrollments.fields.to in the city's file`,
    ]);
    expect(adapter.sources()[0]!.status).toBe('UP');
  });
});
