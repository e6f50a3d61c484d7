import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadCityConfigs, requestDefaults, resolveCity } from './config.ts';
import { defaultCitiesDir } from './fleet.ts';

const torino = JSON.parse(readFileSync(join(defaultCitiesDir, '001272-torino.json'), 'utf8')) as Record<string, any>;

/** Folders made by a test, removed after it. */
const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A folder holding one city file with the given content. */
function folderWith(name: string, content: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'lgnet-cities-'));
  made.push(dir);
  writeFileSync(join(dir, name), content);
  return dir;
}

describe('city configs', () => {
  it('are refused with the file name when they are not JSON', () => {
    expect(() => loadCityConfigs(folderWith('001272-torino.json', '{ "code": '))).toThrow(/001272-torino.json: not valid JSON/);
  });

  it('are refused naming the field when a canonical field is not mapped', () => {
    const broken = structuredClone(torino);
    delete broken.sources[0].entities.beneficiaries.fields.fiscalCode;
    expect(() => loadCityConfigs(folderWith('001272-torino.json', JSON.stringify(broken)))).toThrow(/no source field mapped to "fiscalCode"/);
  });

  it('are refused when a vocabulary maps to a code the national list does not have', () => {
    const broken = structuredClone(torino);
    broken.sources[0].vocabularies.sex = { M: 'MALE', F: 'WOMAN' };
    expect(() => loadCityConfigs(folderWith('001272-torino.json', JSON.stringify(broken)))).toThrow(ConfigError);
  });

  it('are refused when the file name does not start with the ISTAT code', () => {
    expect(() => loadCityConfigs(folderWith('torino.json', JSON.stringify(torino)))).toThrow(/must start with the city's ISTAT code 001272/);
  });

  it('are refused when a credential is written in the file instead of referenced', () => {
    const broken = structuredClone(torino);
    broken.sources[0].auth.key = 'a-real-api-key';
    expect(() => loadCityConfigs(folderWith('001272-torino.json', JSON.stringify(broken)))).toThrow(ConfigError);
  });

  it('bound each source\'s requests by the documented defaults when the file says nothing', () => {
    const [config] = loadCityConfigs(folderWith('001272-torino.json', JSON.stringify(torino)));
    expect(config!.sources[0]).toMatchObject({
      timeoutMs: 5_000, connectTimeoutMs: 2_000, retries: 2, retryDelayMs: 200,
      breakerFailures: 5, breakerHalfOpenAfterMs: 15_000, maxConcurrent: 8, maxQueued: 32,
    });
    expect(config!.sources[0]).toMatchObject(requestDefaults);
  });

  it('are refused when a CSV export has no key: it holds names and fiscal codes', () => {
    const agrigento = JSON.parse(readFileSync(join(defaultCitiesDir, '084001-agrigento.json'), 'utf8')) as Record<string, any>;
    expect(agrigento.sources[0].kind).toBe('csv');
    expect(() => loadCityConfigs(folderWith('084001-agrigento.json', JSON.stringify(agrigento)))).not.toThrow();
    delete agrigento.sources[0].auth;
    expect(() => loadCityConfigs(folderWith('084001-agrigento.json', JSON.stringify(agrigento)))).toThrow(/084001-agrigento.json.*source "main": a CSV export needs "auth"/s);
  });

  it('are refused when a connection may take longer than the whole attempt', () => {
    const broken = structuredClone(torino);
    Object.assign(broken.sources[0], { timeoutMs: 1_000, connectTimeoutMs: 3_000 });
    expect(() => loadCityConfigs(folderWith('001272-torino.json', JSON.stringify(broken)))).toThrow(/connectTimeoutMs \(3000\) is longer than timeoutMs \(1000\)/);
  });

  it('are refused when a request bound is out of range', () => {
    for (const [key, value] of [['retries', 4], ['maxConcurrent', 0], ['breakerFailures', 0], ['breakerHalfOpenAfterMs', 10], ['maxQueued', -1], ['timeoutMs', 1.5]] as const) {
      const broken = structuredClone(torino);
      broken.sources[0][key] = value;
      expect(() => loadCityConfigs(folderWith('001272-torino.json', JSON.stringify(broken))), `${key}: ${value}`).toThrow(ConfigError);
    }
  });

  it('accept the filters a REST API offers, per entity, and default to none', () => {
    const withFilters = structuredClone(torino);
    withFilters.sources[0].entities.beneficiaries.filters = { 'intake.date': { from: 'dal', to: 'al' }, 'intake.channel': 'canale' };
    const [config] = loadCityConfigs(folderWith('001272-torino.json', JSON.stringify(withFilters)));
    const source = config!.sources[0]!;
    if (source.kind !== 'rest') throw new Error('Torino is a REST source');
    expect(source.entities.beneficiaries!.filters).toEqual({ 'intake.date': { from: 'dal', to: 'al' }, 'intake.channel': 'canale' });
    expect(source.entities.services!.filters).toEqual({});
  });

  it('are refused naming the file and the key when a filter is not a canonical path of the entity, or is written wrongly', () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ 'intake.dat': { from: 'dal' } }, /001272-torino.json.*unknown filter "intake\.dat" for beneficiaries; filterable: .*intake\.date/s],
      [{ familyName: 'cognome' }, /001272-torino.json.*unknown filter "familyName" for beneficiaries/s],
      [{ 'intake.date': 'data' }, /001272-torino.json.*"intake\.date" is a date: give its parameters as \{ "from": \.\.\., "to": \.\.\. \}/s],
      [{ 'intake.channel': { from: 'canale' } }, /001272-torino.json.*"intake\.channel" is matched by value/s],
      [{ 'intake.date': { from: 'dal', until: 'al' } }, /001272-torino.json.*Unrecognized key: "until".*filters/s],
      [{ 'intake.date': {} }, /001272-torino.json.*a date filter needs "from", "to" or both/s],
      [{ 'intake.date': { from: 'page' } }, /001272-torino.json.*filter "intake\.date": parameter "page" is a paging parameter/s],
      [{ 'intake.channel': 'q', 'intake.status': 'q' }, /001272-torino.json.*parameter "q" is given to both "intake\.channel" and "intake\.status"/s],
    ];
    for (const [filters, message] of cases) {
      const broken = structuredClone(torino);
      broken.sources[0].entities.beneficiaries.filters = filters;
      expect(() => loadCityConfigs(folderWith('001272-torino.json', JSON.stringify(broken))), JSON.stringify(filters)).toThrow(message);
    }
  });

  it('resolve references against the environment and come out frozen', () => {
    const [config] = loadCityConfigs(folderWith('001272-torino.json', JSON.stringify(torino)));
    const env = { LGNET_001272_MAIN_URL: 'http://127.0.0.1:9/api/', LGNET_001272_MAIN_KEY: 'k' };
    const city = resolveCity(config!, env);
    expect(city.sources[0]).toMatchObject({ baseUrl: 'http://127.0.0.1:9/api', apiKey: 'k' });
    expect(Object.isFrozen(city.sources[0])).toBe(true);
    expect(() => resolveCity(config!, {})).toThrow(/LGNET_001272_MAIN_URL is not set/);
  });
});
