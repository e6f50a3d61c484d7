import { describe, expect, it } from 'vitest';
import { createRowMapper } from '../adapters/mapping.ts';
import { loadCityConfigs } from '../adapters/config.ts';
import { defaultCitiesDir } from '../adapters/fleet.ts';
import { citySizes } from './city-sizes.ts';
import { dialects } from './dialects.ts';
import { generatePopulation } from './population.ts';
import { renderCity } from './render.ts';

describe("Bolzano's operating body (ASSB)", () => {
  const bolzano = dialects.find((d) => d.code === '021008')!;
  const population = generatePopulation(citySizes, { seed: 20260101, scale: 1 });
  const rendered = renderCity(population.get('021008')!, bolzano, { seed: 20260101, breakRecords: false });
  const source = bolzano.sources[0]!;
  const rows = rendered.sources.get(source.id)!.get('beneficiaries')!;
  const channelField = (source.entities.beneficiaries!.fields as Record<string, string>).intakeChannel!;

  it('writes its records in Italian and in German at once, each record in one language', () => {
    const channels = new Set(rows.map((r) => String(r[channelField])));
    const german = Object.keys({ Anlaufstelle: 1, 'Mobile Einheit': 1, Zuweisung: 1 }).filter((c) => channels.has(c));
    const italian = [...channels].filter((c) => !german.includes(c));
    expect(german.length).toBeGreaterThan(0);
    expect(italian.length).toBeGreaterThan(0);
  });

  it('is read in both languages by its one config, every record accepted', () => {
    const config = loadCityConfigs(defaultCitiesDir).find((c) => c.code === '021008')!;
    const mapper = createRowMapper('021008', config.sources[0]!, 'sixteen-chars-secret', () => Date.parse('2026-12-01'));
    const results = rows.map((r) => mapper.map('beneficiaries', r));
    expect(results.filter((r) => !r.ok)).toEqual([]);
    const records = results.flatMap((r) => (r.ok ? [r.record] : []));
    expect(records.map((b) => b.intake.channel)).toEqual(population.get('021008')!.beneficiaries.map((b) => b.intake.channel));
  });
});
