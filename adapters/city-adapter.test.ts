/**
 * The adapter core over a connector whose upstream calls are counted: what
 * the adapter asks of a source, and when it does not ask at all.
 */
import { Agent } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { SourceConfig, resolveCity, CityConfig } from './config.ts';
import { createCityAdapter } from './city-adapter.ts';
import type { ConnectorStatus, RawRow, SourceConnector } from './port.ts';
import { silentLogger } from '../runtime/logger.ts';
import { CityError } from '../schema/errors.ts';
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
