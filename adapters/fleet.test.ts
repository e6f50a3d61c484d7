import { Agent } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { CityConfig, loadCityConfigs } from './config.ts';
import { createConnector } from './connectors/index.ts';
import { createFleet, defaultCitiesDir, PERSON_KEY_SECRET_ENV } from './fleet.ts';
import { silentLogger } from '../runtime/logger.ts';
import { CityError } from '../schema/errors.ts';

const dispatcher = new Agent();
afterAll(() => dispatcher.close());
const deps = { dispatcher, now: Date.now, logger: silentLogger };
const configs = loadCityConfigs(defaultCitiesDir);

/** The next city of the network, registered before its system is connected. */
const newcomer = CityConfig.parse({
  code: '099999',
  name: 'Nuova Città',
  region: 'Lazio',
  province: 'RM',
  editions: ['LGNET3'],
  sources: [],
});

describe('the fleet of city adapters', () => {
  it('refuses to start without a personKey secret', () => {
    expect(() => createFleet({ configs, env: {}, deps, createConnector })).toThrow(/LGNET_PERSON_KEY_SECRET/);
  });

  it("starts when a city's endpoint is not set, and that city answers CITY_NOT_CONFIGURED naming the variable", async () => {
    const fleet = createFleet({ configs, env: { [PERSON_KEY_SECRET_ENV]: 'sixteen-chars-secret' }, deps, createConnector });
    expect(fleet.cities).toHaveLength(configs.length);
    const error = await fleet.adapter('090064')!.list('beneficiaries', { offset: 0, limit: 1 }, {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CityError);
    expect(error).toMatchObject({ code: 'CITY_NOT_CONFIGURED', city: '090064' });
    expect((error as Error).message).toMatch(/LGNET_090064_MAIN_URL/);
    await expect(fleet.adapter('090064')!.dataQuality({})).rejects.toMatchObject({ code: 'CITY_NOT_CONFIGURED' });
  });

  it("keeps a city's other sources working when only one of them is not configured", async () => {
    const env = { [PERSON_KEY_SECRET_ENV]: 'sixteen-chars-secret', LGNET_058091_MAIN_URL: 'http://127.0.0.1:9', LGNET_058091_MAIN_KEY: 'k' };
    const roma = createFleet({ configs, env, deps, createConnector }).adapter('058091')!;
    expect(roma.sources().map((s) => [s.id, s.status])).toEqual([
      ['main', 'UNKNOWN'],
      ['housing', 'NOT_CONFIGURED'],
    ]);
    const error = await roma.byBeneficiary('placements', ['x'], {}).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CITY_NOT_CONFIGURED', city: '058091' });
    expect((error as Error).message).toMatch(/LGNET_058091_HOUSING_URL/);
    // The people source is configured: asking it reaches for the network (here a closed port), not a config error.
    await expect(roma.list('beneficiaries', { offset: 0, limit: 1 }, {})).rejects.toMatchObject({ code: 'CITY_UNAVAILABLE' });
  });

  it('asks a city registered without a system yet, which answers CITY_NOT_CONFIGURED instead of being left out', async () => {
    const fleet = createFleet({ configs: [...configs, newcomer], env: { [PERSON_KEY_SECRET_ENV]: 'sixteen-chars-secret' }, deps, createConnector });
    expect(fleet.citiesServing('people')).toContain('099999');
    await expect(fleet.adapter('099999')!.list('beneficiaries', { offset: 0, limit: 1 }, {})).rejects.toMatchObject({
      code: 'CITY_NOT_CONFIGURED',
      city: '099999',
    });
    expect(fleet.adapter('099999')!.sources()).toEqual([]);
    // No figures is not the same as no problems: its data quality is an error, not an empty list.
    await expect(fleet.adapter('099999')!.dataQuality({})).rejects.toMatchObject({ code: 'CITY_NOT_CONFIGURED' });
  });
});
