import { fileURLToPath } from 'node:url';
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { loadCityConfigs, type CityConfig } from '../adapters/config.ts';
import { createRowMapper } from '../adapters/mapping.ts';
import { vocabularyTargets, type VocabularyName } from '../schema/code-lists.ts';
import { entityNames } from '../schema/records.ts';
import { citySizes } from './city-sizes.ts';
import { csvHeader } from './csv-stand-in.ts';
import { columnsOfSpec } from '../adapters/connectors/sql-config.ts';
import { cityDialect, dialectOf, dialects, type CityDialect } from './dialects.ts';
import { generatePopulation } from './population.ts';
import { renderCity, splitTemplate } from './render.ts';

const citiesDir = fileURLToPath(new URL('../adapters/cities/', import.meta.url));
const configs = loadCityConfigs(citiesDir);
const configOf = (code: string): CityConfig => {
  const c = configs.find((x) => x.code === code);
  if (!c) throw new Error(`no config for ${code}`);
  return c;
};
const population = generatePopulation(citySizes, { seed: 7, scale: 0.3 });
const rendered = new Map(dialects.map((d) => [d.code, renderCity(population.get(d.code)!, d, { seed: 7 })]));

describe('the kinds of city system in the sandbox', () => {
  // The roster itself (which cities, which editions) is pinned in test/registry.test.ts, on purpose and only there.
  it('has every kind of city system the project connects, each on at least two cities', () => {
    const kindOfPeople = (d: CityDialect) => d.sources.find((s) => s.domains.includes('people'))!.kind;
    const byKind = Object.groupBy(dialects, kindOfPeople);
    for (const kind of ['rest', 'csv', 'soap', 'sql', 'spreadsheet', 'graphql'] as const) expect(byKind[kind]?.length ?? 0, kind).toBeGreaterThanOrEqual(2);
    // The large cities are on systems that page, filter and count: REST or SQL.
    for (const big of ['058091', '015146', '063049', '001272']) expect(['rest', 'sql'], big).toContain(kindOfPeople(dialectOf(big)));
    // Potenza's housing is run by its operating body, on a system of its own; Bolzano's ASSB writes Italian and German.
    expect(dialectOf('076063').sources.length).toBeGreaterThan(1);
    expect(dialectOf('021008').sources[0]!.quirks.bilingual).toBe(true);
  });
});

describe('city dialects, read from the city configs', () => {
  it('every city of the registry is stood in for, each source of the kind its config says, speaking its config', () => {
    expect(dialects.map((d) => d.code)).toEqual(configs.map((c) => c.code));
    for (const d of dialects) {
      const c = configOf(d.code);
      expect(d.sources.map((s) => [s.id, s.kind]), d.code).toEqual(c.sources.map((s) => [s.id, s.kind]));
      for (const dialect of d.sources) {
        const source = c.sources.find((s) => s.id === dialect.id)!;
        const where = `${d.code} ${dialect.id}`;
        expect({ dateFormat: dialect.dateFormat, vocabularies: dialect.vocabularies, citizenship: dialect.citizenship }, where).toEqual({
          dateFormat: source.dateFormat, vocabularies: source.vocabularies, citizenship: source.citizenship ?? null,
        });
        for (const entity of entityNames) {
          const mapped = source.entities[entity];
          expect(dialect.entities[entity]?.fields, `${where} ${entity}`).toEqual(mapped?.fields);
          if (!mapped) continue;
          // The names really are what the stand-in sends: each column a field spec reads is in the served rows.
          const served = rendered.get(d.code)!.sources.get(dialect.id)!.get(entity)!;
          const names = dialect.kind === 'csv' ? new Set(csvHeader(dialect, entity)) : new Set(served.flatMap((r) => Object.keys(r)));
          for (const [canonical, spec] of Object.entries(mapped.fields as Record<string, string>)) {
            // Open end dates may be left out of every JSON row of a small city; required fields never are.
            if (dialect.values?.absent === 'omit' && ['to', 'signedOn'].includes(canonical)) continue;
            if (served.length === 0 && dialect.kind !== 'csv') continue;
            for (const column of columnsOfSpec(spec)) expect(names.has(column), `${where} ${entity} serves "${column}"`).toBe(true);
          }
        }
      }
    }
  });

  it('a city the habits table does not name is stood in for with the defaults', () => {
    const copy = { ...configOf('015146'), code: '080063', name: "Reggio di Calabria" };
    const d = cityDialect(copy);
    expect(d.slug).toBe('reggio-di-calabria');
    expect(d.sources[0]!.basePath).toBe('/reggio-di-calabria/main');
    expect(d.sources[0]!.quirks).toEqual({});
  });

  it('a date written through a template is cut back into its columns', () => {
    expect(splitTemplate('{giorno}/{mese}/{anno}', '05/03/2024')).toEqual({ giorno: '05', mese: '03', anno: '2024' });
    expect(() => splitTemplate('{anno}{mese}{giorno}', '20240305')).toThrow(/nothing between them/);
    expect(splitTemplate('{giorno}/{mese}/{anno}', null)).toEqual({ giorno: null, mese: null, anno: null });
    expect(() => splitTemplate('{giorno}/{mese}/{anno}', '2024-03-05')).toThrow(/template/);
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
    expect(drawn.size).toBeGreaterThan(10);
    for (const d of dialects) {
      for (const s of d.sources) {
        if (!s.citizenship) continue;
        const covered = new Set(Object.values(s.citizenship));
        for (const iso of drawn) expect(covered.has(iso), `${d.code} ${s.id} ${iso}`).toBe(true);
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
