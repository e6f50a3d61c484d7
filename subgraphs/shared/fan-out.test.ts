import { describe, expect, it } from 'vitest';
import type { Fleet } from '../../adapters/fleet.ts';
import type { CityAdapter, SourceStatus } from '../../adapters/port.ts';
import { CityError } from '../../schema/errors.ts';
import { createIdCodec } from '../../access/opaque-id.ts';
import { createCursorCodec } from '../people/paging.ts';
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
      sources: () => [{ id: 'main', kind: 'csv', domains: ['people'], status: statuses[city]!, asOf: new Date('2026-11-20T02:00:00Z') }],
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
  it('names the cities that failed as missing and those served from an old snapshot as stale', () => {
    const ctx = createSubgraphContext(depsOf(fleetWith({ '000001': 'UP', '000002': 'STALE', '000003': 'DOWN' })), analyst);
    const coverage = coverageOf(ctx, 'people', ['000001', '000002', '000003'], [new CityError('CITY_UNAVAILABLE', '000003', 'connection refused')]);
    expect(coverage).toEqual({
      citiesAsked: 3,
      citiesAnswered: 2,
      missing: [{ city: { code: '000003' }, code: 'CITY_UNAVAILABLE', reason: 'connection refused' }],
      stale: [{ city: { code: '000002' }, asOf: new Date('2026-11-20T02:00:00Z') }],
    });
  });
});
