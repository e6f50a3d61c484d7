/**
 * The 24 LGNet cities of the sandbox, the relative share of the synthetic
 * population each one takes in charge, and when it takes people in.
 *
 * `code` is the ISTAT municipality code (six digits). `weight` is a relative
 * share of beneficiaries: the weights add up to 100, so each one reads as
 * "percent of the programme's beneficiaries". They are rough orders of
 * magnitude, not official figures: the big metropolitan cities (Roma, Milano,
 * Napoli, Torino, Palermo) take the most people, the cities on the arrival
 * routes (Agrigento for Lampedusa, Trieste for the Balkan route, Caserta and
 * Latina for agricultural work) weigh more than their size alone would give,
 * and the smallest share (1%) still gives each city about 94 beneficiaries at
 * scale 1, above the sandbox's floor of 80.
 *
 * `activePeriods` are the reporting periods (schema/editions.ts) of the
 * editions the city's config (adapters/cities/) says it belongs to: a city
 * joins or leaves the programme by its config, not here.
 */
import { loadCityConfigs } from '../adapters/config.ts';
import { defaultCitiesDir } from '../adapters/fleet.ts';
import type { Edition } from '../schema/code-lists.ts';
import { editions } from '../schema/editions.ts';
import type { ActivePeriod, PopulationCity } from './population-types.ts';

const cityWeights: ReadonlyArray<{ code: string; weight: number }> = [
  { code: '058091', weight: 13 }, // Roma
  { code: '015146', weight: 11 }, // Milano
  { code: '063049', weight: 9 }, // Napoli
  { code: '001272', weight: 8 }, // Torino
  { code: '082053', weight: 7 }, // Palermo
  { code: '037006', weight: 5 }, // Bologna
  { code: '010025', weight: 4.5 }, // Genova
  { code: '048017', weight: 4.5 }, // Firenze
  { code: '072006', weight: 4.5 }, // Bari
  { code: '087015', weight: 4.5 }, // Catania
  { code: '027042', weight: 3 }, // Venezia
  { code: '032006', weight: 3 }, // Trieste
  { code: '061022', weight: 2.5 }, // Caserta
  { code: '059011', weight: 2.5 }, // Latina
  { code: '073027', weight: 2.5 }, // Taranto
  { code: '092009', weight: 2.5 }, // Cagliari
  { code: '084001', weight: 2.5 }, // Agrigento
  { code: '021008', weight: 2 }, // Bolzano
  { code: '054039', weight: 2 }, // Perugia
  { code: '090064', weight: 1.5 }, // Sassari
  { code: '079023', weight: 1.5 }, // Catanzaro
  { code: '076063', weight: 1.5 }, // Potenza
  { code: '070006', weight: 1 }, // Campobasso
  { code: '007003', weight: 1 }, // Aosta
];

/**
 * The union of the reporting periods of `cityEditions`, sorted, with periods
 * that overlap or follow one another on the next day joined into one.
 */
export function activePeriodsOf(cityEditions: readonly Edition[]): ActivePeriod[] {
  const periods = editions
    .filter((e) => cityEditions.includes(e.edition))
    .map((e) => ({ from: e.from, to: e.to }))
    .sort((a, b) => a.from.localeCompare(b.from));
  const merged: ActivePeriod[] = [];
  for (const p of periods) {
    const last = merged[merged.length - 1];
    if (last && p.from <= nextDay(last.to)) {
      if (p.to > last.to) last.to = p.to;
    } else {
      merged.push({ ...p });
    }
  }
  return merged;
}

function nextDay(iso: string): string {
  return new Date(Date.parse(`${iso}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}

/** Share of a city the table above does not name (one added by its config alone): the smallest cities'. */
export const DEFAULT_WEIGHT = 1;

/**
 * The sandbox's cities: every configured city, its weight from the table
 * (DEFAULT_WEIGHT for one the table does not name) and its active periods
 * from its config.
 */
export function sandboxCities(configs: ReadonlyArray<{ code: string; editions: readonly Edition[] }>): PopulationCity[] {
  // The table's order first (the population is drawn city after city), then the cities it does not name.
  const known = cityWeights.filter((w) => configs.some((c) => c.code === w.code));
  const added = configs.filter((c) => !cityWeights.some((w) => w.code === c.code)).map(({ code }) => ({ code, weight: DEFAULT_WEIGHT }));
  return withActivePeriods([...known, ...added], configs);
}

/** The sandbox's cities with their active periods, from the city configs; a city without a config is an error. */
export function withActivePeriods(
  weights: ReadonlyArray<{ code: string; weight: number }>,
  configs: ReadonlyArray<{ code: string; editions: readonly Edition[] }>,
): PopulationCity[] {
  return weights.map(({ code, weight }) => {
    const config = configs.find((c) => c.code === code);
    if (!config) throw new Error(`sandbox city ${code} has no config in adapters/cities/: its editions are unknown`);
    return { code, weight, activePeriods: activePeriodsOf(config.editions) };
  });
}

/** The cities of the registry (adapters/cities/), as the sandbox sizes them. */
export const citySizes: ReadonlyArray<PopulationCity> = sandboxCities(loadCityConfigs(defaultCitiesDir).filter((c) => c.sources.length > 0));
