import { Agent } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { createCityAdapter } from '../../adapters/city-adapter.ts';
import { CityConfig, SourceConfig, resolveCity } from '../../adapters/config.ts';
import type { Fleet } from '../../adapters/fleet.ts';
import type { CityAdapter, SourceConnector, SourceStatus } from '../../adapters/port.ts';
import { silentLogger, type Logger } from '../../runtime/logger.ts';
import { CityError } from '../../schema/errors.ts';
import { createIdCodec } from '../../access/opaque-id.ts';
import { createCursorCodec } from './paging.ts';
import { createSubgraphContext } from './context.ts';
import { askCities, coverageOf } from './fan-out.ts';

const analyst = { role: 'analyst', subject: 'test-analyst' } as const;
const depsOf = (fleet: Fleet) => ({
  fleet,
  ids: createIdCodec('x'.repeat(32)),
  cursors: createCursorCodec(Buffer.alloc(32)),
  suppressionThreshold: 5,
  auditDir: '/nonexistent',
});

function fleetWith(statuses: Record<string, SourceStatus['status']>): Fleet {
  const adapter = (city: string) =>
    ({
      city,
      sources: () => [
        {
          id: 'main',
          kind: 'csv',
          domains: ['people'],
          status: statuses[city]!,
          asOf: new Date('2026-11-20T02:00:00Z'),
          ...(statuses[city] === 'DEGRADED' ? { reason: '141 of 141 beneficiaries rejected (MISSING_FIELD 141)' } : {}),
        },
      ],
    }) as unknown as CityAdapter;
  return { cities: [], adapter: (code) => (code in statuses ? adapter(code) : undefined), citiesServing: () => Object.keys(statuses) };
}

describe('asking several cities', () => {
  it('keeps the answers of the cities that answered and reports each failure once, coded', async () => {
    const ctx = createSubgraphContext(depsOf(fleetWith({ '000001': 'UP', '000002': 'UP', '000003': 'UP' })), analyst);
    const fan = await askCities(ctx, ['000001', '000002', '000003'], async (city) => {
      if (city === '000002') throw new CityError('CITY_TIMEOUT', city, 'no answer within 10000 ms');
      if (city === '000003') throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
      return city;
    });
    expect(fan.answers).toEqual([{ city: '000001', value: '000001' }]);
    expect(fan.failures.map((f) => [f.city, f.code])).toEqual([
      ['000002', 'CITY_TIMEOUT'],
      ['000003', 'CITY_UNAVAILABLE'],
    ]);
    expect([...ctx.cityErrors.keys()]).toEqual(['000002:CITY_TIMEOUT', '000003:CITY_UNAVAILABLE']);
  });
});

describe('coverage', () => {
  it('names the cities that failed as missing, those served from an old snapshot as stale, and those that answered badly as degraded', () => {
    const ctx = createSubgraphContext(depsOf(fleetWith({ '000001': 'UP', '000002': 'STALE', '000003': 'DOWN', '000004': 'DEGRADED' })), analyst);
    const coverage = coverageOf(ctx, 'people', ['000001', '000002', '000003', '000004'], [new CityError('CITY_UNAVAILABLE', '000003', 'connection refused')]);
    expect(coverage).toEqual({
      citiesAsked: 4,
      citiesAnswered: 3,
      missing: [{ city: { code: '000003' }, code: 'CITY_UNAVAILABLE', reason: 'connection refused' }],
      stale: [{ city: { code: '000002' }, asOf: new Date('2026-11-20T02:00:00Z') }],
      degraded: [{ city: { code: '000004' }, reason: '141 of 141 beneficiaries rejected (MISSING_FIELD 141)' }],
      rejected: 0,
    });
  });
});

describe('a fault of the graph\'s own', () => {
  const dispatcher = new Agent();
  afterAll(() => dispatcher.close());

  const source = SourceConfig.parse({
    kind: 'csv',
    id: 'main',
    domains: ['services'],
    baseUrl: 'http://127.0.0.1:1',
    auth: { header: 'X-API-Key', key: { env: 'LGNET_090064_MAIN_KEY' } },
    dateFormat: 'yyyy-mm-dd',
    vocabularies: {},
    entities: { services: { path: '/servizi.csv', fields: { localId: 'id', name: 'nome', category: 'tipo' } } },
  });
  const sassari = resolveCity(CityConfig.parse({ code: '090064', name: 'Sassari', region: 'Sardegna', province: 'SS', editions: ['LGNET3'], sources: [source] }), { LGNET_090064_MAIN_KEY: 'test-key' });

  it('reaches the fan-out as INTERNAL_ERROR naming the city, is named in the coverage as the graph\'s fault, and is logged with its stack', async () => {
    const logged: Array<{ msg: string; data?: Record<string, unknown> }> = [];
    const logger: Logger = { ...silentLogger, error: (msg, data) => void logged.push({ msg, data }) };
    // A connector with a mapping bug: it reads a field the row does not have.
    const buggy: SourceConnector = {
      kind: 'csv',
      async page() {
        const row: Record<string, { trim(): string } | undefined> = { nome: { trim: () => 'Sportello' } };
        return { rows: [{ id: row['codice']!.trim() }], total: 1 };
      },
      lookup: async () => [],
      status: () => ({ status: 'UP', asOf: null }),
    };
    const adapter = createCityAdapter(sassari, {
      personKeySecret: 'sixteen-chars-secret',
      deps: { dispatcher, now: Date.now, logger },
      createConnector: () => buggy,
    });
    const ctx = createSubgraphContext({ ...depsOf(fleetWith({ '090064': 'UP' })), logger }, analyst);

    const fan = await askCities(ctx, ['090064'], () => adapter.list('services', { offset: 0, limit: 5 }, ctx.call));

    expect(fan.answers).toEqual([]);
    expect(fan.failures).toHaveLength(1);
    expect(fan.failures[0]).toMatchObject({ code: 'INTERNAL_ERROR', city: '090064' });
    expect(fan.failures[0]!.cause).toBeInstanceOf(TypeError);
    expect([...ctx.cityErrors.keys()]).toEqual(['090064:INTERNAL_ERROR']);
    const coverage = coverageOf(ctx, 'services', ['090064'], fan.failures);
    expect(coverage.missing).toEqual([
      { city: { code: '090064' }, code: 'INTERNAL_ERROR', reason: "an unexpected TypeError in the graph's own code, not the city's doing (logged by the subgraph)" },
    ]);
    // Logged once, by the adapter that met it, with the stack that finds the bug.
    const internal = logged.filter((l) => l.msg.startsWith('internal error'));
    expect(internal).toHaveLength(1);
    expect(internal[0]!.data).toMatchObject({ city: '090064', code: 'INTERNAL_ERROR', stack: expect.stringMatching(/^TypeError: [\s\S]*fan-out\.test\.ts/) });
  });

  it('met outside any adapter, is still INTERNAL_ERROR naming the city, logged here with its stack', async () => {
    const logged: Array<{ msg: string; data?: Record<string, unknown> }> = [];
    const logger: Logger = { ...silentLogger, error: (msg, data) => void logged.push({ msg, data }) };
    const ctx = createSubgraphContext({ ...depsOf(fleetWith({ '000001': 'UP' })), logger }, analyst);
    const fan = await askCities(ctx, ['000001'], async () => {
      throw new RangeError('Invalid time value');
    });
    expect(fan.failures.map((f) => [f.city, f.code])).toEqual([['000001', 'INTERNAL_ERROR']]);
    expect(logged).toEqual([{ msg: 'internal error while asking a city', data: { city: '000001', code: 'INTERNAL_ERROR', stack: expect.stringMatching(/^RangeError: Invalid time value/) } }]);
  });

  it('is not what a query given up on becomes: a city not read in time is CITY_TIMEOUT', async () => {
    const gone = new AbortController();
    const ctx = createSubgraphContext(depsOf(fleetWith({ '000001': 'UP' })), analyst, { operationHash: '' }, gone.signal);
    const reason = new Error('the gateway gave up on the query');
    gone.abort(reason);
    const fan = await askCities(ctx, ['000001'], () => Promise.reject(reason));
    expect(fan.failures.map((f) => [f.city, f.code, f.detail])).toEqual([['000001', 'CITY_TIMEOUT', 'the query ran out of time, or was given up, before the city answered']]);
  });
});
