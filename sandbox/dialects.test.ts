import { fileURLToPath } from 'node:url';
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { loadCityConfigs, type CityConfig, type SourceConfig } from '../adapters/config.ts';
import { createRowMapper } from '../adapters/mapping.ts';
import { vocabularyTargets, type VocabularyName } from '../schema/code-lists.ts';
import { entityNames } from '../schema/records.ts';
import { citySizes } from './city-sizes.ts';
import { csvHeader } from './csv-stand-in.ts';
import { coveredCountries, dialects, sourceEnvName, type RestSourceDialect, type SourceDialect } from './dialects.ts';
import { generatePopulation } from './population.ts';
import { renderCity } from './render.ts';

const citiesDir = fileURLToPath(new URL('../adapters/cities/', import.meta.url));
const configs = loadCityConfigs(citiesDir);
const configOf = (code: string): CityConfig => {
  const c = configs.find((x) => x.code === code);
  if (!c) throw new Error(`no config for ${code}`);
  return c;
};
const population = generatePopulation(citySizes, { seed: 7, scale: 0.3 });
const rendered = new Map(dialects.map((d) => [d.code, renderCity(population.get(d.code)!, d, { seed: 7 })]));

describe('city dialects and city configs', () => {
  it('there are 24 cities, 13 speaking REST and 11 publishing CSV, and more than one city with two sources', () => {
    expect(dialects).toHaveLength(24);
    expect(new Set(dialects.map((d) => d.code)).size).toBe(24);
    expect(dialects.filter((d) => d.sources[0]!.kind === 'rest')).toHaveLength(13);
    expect(dialects.filter((d) => d.sources[0]!.kind === 'csv')).toHaveLength(11);
    const multi = dialects.filter((d) => d.sources.length > 1).map((d) => d.code);
    expect(multi).toContain('076063');
    expect(multi.length).toBeGreaterThanOrEqual(2);
    expect(dialects.map((d) => d.code).sort()).toEqual(citySizes.map((c) => c.code).sort());
  });

  it('every city with a stand-in has a config file, named after its ISTAT code, with the registry fields of its dialect', () => {
    // A city may be registered before it has a stand-in (LGNet3's 22nd city): configs may outnumber dialects.
    expect(configs.map((c) => c.code)).toEqual(expect.arrayContaining(dialects.map((d) => d.code)));
    for (const d of dialects) {
      const c = configOf(d.code);
      expect({ name: c.name, altNames: c.altNames, region: c.region, province: c.province, editions: c.editions, operatingBody: c.operatingBody }, d.code).toEqual({
        name: d.name, altNames: d.altNames, region: d.region, province: d.province, editions: d.editions, operatingBody: d.operatingBody,
      });
    }
  });

  it('every config maps exactly the field names, codes and protocol its stand-in serves', () => {
    for (const d of dialects) {
      const c = configOf(d.code);
      expect(c.sources.map((s) => s.id), d.code).toEqual(d.sources.map((s) => s.id));
      for (const dialect of d.sources) {
        const source = c.sources.find((s) => s.id === dialect.id)!;
        const where = `${d.code} ${dialect.id}`;
        expectSameSource(source, dialect, d.code, where);
        for (const entity of entityNames) {
          const own = dialect.entities[entity];
          const mapped = source.entities[entity];
          expect(mapped === undefined, `${where} ${entity}`).toBe(own === undefined);
          if (!own || !mapped) continue;
          expect((mapped as { path?: string }).path, `${where} ${entity}`).toBe(own.path);
          expect(mapped.fields, `${where} ${entity}`).toEqual(own.fields);
          if (dialect.kind === 'rest' && source.kind === 'rest') {
            expect(source.entities[entity]!.batchParams, `${where} ${entity}`).toEqual(dialect.entities[entity]!.batchParams);
            // The filters the config pushes down are exactly those the stand-in applies.
            expect(source.entities[entity]!.filters, `${where} ${entity} filters`).toEqual(dialect.entities[entity]!.filters);
          }
          // The names really are what the stand-in sends: the CSV header, or the keys of the JSON rows.
          const served = rendered.get(d.code)!.sources.get(dialect.id)!.get(entity)!;
          const names = dialect.kind === 'csv' ? new Set(csvHeader(dialect, entity)) : new Set(served.flatMap((r) => Object.keys(r)));
          for (const [canonical, name] of Object.entries(mapped.fields)) {
            // Open end dates may be left out of every JSON row of a small city; required fields never are.
            if (dialect.kind === 'rest' && dialect.values.absent === 'omit' && ['to', 'signedOn'].includes(canonical)) continue;
            if (served.length > 0 || dialect.kind === 'csv') expect(names.has(name), `${where} ${entity} serves "${name}"`).toBe(true);
          }
        }
      }
    }
  });

  it('the larger REST cities offer filters of their own: dates in their own format, codes in their own vocabulary', () => {
    const filtering = dialects.filter((d) => d.sources.some((s) => s.kind === 'rest' && Object.values(s.entities).some((e) => Object.keys(e!.filters).length > 0)));
    expect(filtering.map((d) => d.code).sort()).toEqual(['001272', '015146', '058091', '063049']);
    // Not all of them write ISO dates: the filter must be written in the city's own format.
    expect(new Set(filtering.map((d) => d.sources[0]!.dateFormat)).size).toBeGreaterThan(1);
    for (const d of filtering) {
      const people = d.sources.find((s) => s.entities.beneficiaries)!;
      expect(people.kind, d.code).toBe('rest');
      expect(Object.keys((people as RestSourceDialect).entities.beneficiaries!.filters), d.code).toEqual(expect.arrayContaining(['intake.date', 'intake.channel']));
    }
  });

  it('no two cities speak alike', () => {
    const signatures = dialects.map((d) =>
      JSON.stringify(d.sources.map((s) => [s.kind, s.dateFormat, s.entities.beneficiaries?.fields, s.vocabularies])),
    );
    expect(new Set(signatures).size).toBe(dialects.length);
    // Not only the whole: the people's field names alone differ city to city.
    const people = dialects.map((d) => JSON.stringify(d.sources.find((s) => s.entities.beneficiaries)!.entities.beneficiaries!.fields));
    expect(new Set(people).size).toBe(dialects.length);
  });

  it('every vocabulary has a code for every national value, and no two codes of a list differ only in case', () => {
    for (const d of dialects) {
      for (const s of d.sources) {
        for (const [list, table] of Object.entries(s.vocabularies) as Array<[VocabularyName, Record<string, string>]>) {
          const where = `${d.code} ${s.id} ${list}`;
          expect(new Set(Object.values(table)), where).toEqual(new Set(vocabularyTargets[list].options));
          const keys = Object.keys(table).map((k) => k.trim().toLowerCase());
          expect(new Set(keys).size, where).toBe(keys.length);
          if (list === 'vulnerability') for (const k of keys) expect(k.includes(s.listSeparator), `${where}: "${k}"`).toBe(false);
        }
      }
    }
  });

  it('the citizenship tables cover every country the population draws', () => {
    const drawn = new Set([...population.values()].flatMap((c) => c.beneficiaries.map((b) => b.citizenship)));
    for (const iso of drawn) expect(coveredCountries, iso).toContain(iso);
    for (const d of dialects) {
      for (const s of d.sources) {
        if (!s.citizenship) continue;
        expect(new Set(Object.values(s.citizenship)), `${d.code} ${s.id}`).toEqual(new Set(coveredCountries));
      }
    }
  });

  it('every name written by a Windows-1252 city survives the encoding', () => {
    for (const d of dialects) {
      for (const s of d.sources) {
        if (s.kind !== 'csv' || s.encoding !== 'windows-1252') continue;
        const p = population.get(d.code)!;
        const texts = [
          ...p.beneficiaries.flatMap((b) => [b.givenName, b.familyName]),
          ...p.services.map((x) => x.name),
          ...p.housingResources.map((x) => x.name),
          ...Object.keys(s.citizenship ?? {}),
          ...Object.values(s.vocabularies).flatMap((t) => Object.keys(t ?? {})),
        ];
        for (const t of texts) expect(iconv.decode(iconv.encode(t, 'windows-1252'), 'windows-1252'), `${d.code}: ${t}`).toBe(t);
      }
    }
  });

  it("the adapters' row mapper turns the served rows back into the population, and rejects exactly the broken records for the reason given", () => {
    for (const d of dialects) {
      const c = configOf(d.code);
      const city = population.get(d.code)!;
      const { broken } = rendered.get(d.code)!;
      const rejected: string[] = [];
      for (const source of c.sources) {
        const mapper = createRowMapper(d.code, source, 'sandbox-dialects-test-secret');
        for (const entity of entityNames) {
          if (!source.entities[entity]) continue;
          const rows = rendered.get(d.code)!.sources.get(source.id)!.get(entity)!;
          const truth = city[entity] as ReadonlyArray<{ localId: string }>;
          rows.forEach((row, i) => {
            const result = mapper.map(entity, row);
            if (!result.ok) {
              rejected.push(`${entity} ${result.localId} ${result.rejection.reason}`);
              return;
            }
            const { personKey: _, ...record } = result.record as { personKey?: string };
            expect(record, `${d.code} ${entity} #${i}`).toEqual(truth[i]);
          });
        }
      }
      expect(rejected.sort(), d.code).toEqual(broken.map((b) => `${b.entity} ${b.localId} ${b.reason}`).sort());
    }
  });
});

function expectSameSource(source: SourceConfig, dialect: SourceDialect, city: string, where: string): void {
  expect(source.kind, where).toBe(dialect.kind);
  expect(source.domains, where).toEqual(dialect.domains);
  expect(source.dateFormat, where).toBe(dialect.dateFormat);
  expect(source.listSeparator, where).toBe(dialect.listSeparator);
  expect(source.citizenship ?? null, where).toEqual(dialect.citizenship);
  expect(source.vocabularies, where).toEqual(dialect.vocabularies);
  expect(source.baseUrl, where).toEqual({ env: sourceEnvName(city, dialect.id, 'URL') });
  const auth = dialect.auth ? { header: dialect.auth.header, prefix: dialect.auth.prefix, key: { env: sourceEnvName(city, dialect.id, 'KEY') } } : undefined;
  expect(source.auth, where).toEqual(auth);
  if (source.kind === 'rest' && dialect.kind === 'rest') {
    const { defaultPageSize: _, ...paging } = dialect.paging;
    expect(source.paging, where).toEqual(paging);
    expect(source.maxBatchSize, where).toBe(dialect.maxBatchSize);
  }
  if (source.kind === 'csv' && dialect.kind === 'csv') {
    expect(source.encoding, where).toBe(dialect.encoding);
    expect(source.delimiter, where).toBe(dialect.delimiter);
  }
}
