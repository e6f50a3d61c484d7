/**
 * The figures the published tables must show, worked out from the sandbox's
 * own records (its truth) with the definitions the schema gives, without any
 * adapter or subgraph: for the tests of the dashboard's tables and page.
 */
import { loadCityConfigs } from '../adapters/config.ts';
import { defaultCitiesDir } from '../adapters/fleet.ts';
import type { Edition } from '../schema/code-lists.ts';
import { editions } from '../schema/editions.ts';
import type { Stack } from '../scripts/stack.ts';

const registered = loadCityConfigs(defaultCitiesDir);

/** The months of a period, `YYYY-MM`, first to last. */
export function monthsOf(from: string, to: string): string[] {
  const out: string[] = [];
  for (let d = new Date(`${from.slice(0, 7)}-01T00:00:00Z`); d.toISOString().slice(0, 7) <= to.slice(0, 7); d.setUTCMonth(d.getUTCMonth() + 1)) out.push(d.toISOString().slice(0, 7));
  return out;
}

export interface PeopleTruth {
  months: string[];
  /** By city, and by month: people taken in charge (b) and those by a mobile unit or a one-stop-shop (t). */
  cities: Map<string, { b: number; t: number }>;
  byMonth: Map<string, { b: number; t: number }>;
  total: { b: number; t: number };
  /** People counted once across the edition's cities. */
  unique: number;
  movers: number;
  /** Persons per move, `from>to`. */
  pairs: Map<string, number>;
}

/**
 * An edition's people figures over its whole period: a person (a fiscal
 * code) counts once per city, in the month of their first intake there.
 * `skip` leaves cities out, as if they could not be counted.
 */
export function peopleTruth(stack: Stack, edition: Edition, skip: readonly string[] = []): PeopleTruth {
  const info = editions.find((e) => e.edition === edition)!;
  const months = monthsOf(info.from, info.to);
  const cities = new Map<string, { b: number; t: number }>();
  const byMonth = new Map(months.map((m) => [m, { b: 0, t: 0 }]));
  const stays = new Map<string, Array<{ city: string; date: string }>>();
  for (const city of registered.filter((c) => c.editions.includes(edition) && !skip.includes(c.code)).map((c) => c.code)) {
    const persons = new Map<string, { first: string; taken: boolean }>();
    for (const b of stack.sandbox.truth.get(city)!.accepted.beneficiaries) {
      if (b.intake.date < info.from || b.intake.date > info.to) continue;
      const p = persons.get(b.fiscalCode) ?? { first: b.intake.date, taken: false };
      if (b.intake.date < p.first) p.first = b.intake.date;
      if (b.intake.channel !== 'REFERRAL') p.taken = true;
      persons.set(b.fiscalCode, p);
      stays.set(b.fiscalCode, [...(stays.get(b.fiscalCode) ?? []), { city, date: b.intake.date }]);
    }
    const taken = [...persons.values()].filter((p) => p.taken).length;
    cities.set(city, { b: persons.size, t: taken });
    for (const p of persons.values()) {
      const m = byMonth.get(p.first.slice(0, 7))!;
      m.b++;
      if (p.taken) m.t++;
    }
  }
  let movers = 0;
  const pairs = new Map<string, Set<string>>();
  for (const [person, list] of stays) {
    if (new Set(list.map((s) => s.city)).size < 2) continue;
    movers++;
    list.sort((x, y) => x.date.localeCompare(y.date) || x.city.localeCompare(y.city));
    for (let i = 1; i < list.length; i++) {
      if (list[i]!.city !== list[i - 1]!.city) pairs.set(`${list[i - 1]!.city}>${list[i]!.city}`, (pairs.get(`${list[i - 1]!.city}>${list[i]!.city}`) ?? new Set()).add(person));
    }
  }
  const sum = (f: (x: { b: number; t: number }) => number) => [...cities.values()].reduce((n, x) => n + f(x), 0);
  return { months, cities, byMonth, total: { b: sum((x) => x.b), t: sum((x) => x.t) }, unique: stays.size, movers, pairs: new Map([...pairs].map(([k, v]) => [k, v.size])) };
}

/** Every city's places and occupied places, from its valid housing resources. */
export function housingTruth(stack: Stack): Map<string, { places: number; occupied: number }> {
  const out = new Map<string, { places: number; occupied: number }>();
  for (const [city, t] of stack.sandbox.truth) {
    out.set(city, {
      places: t.accepted.housingResources.reduce((n, r) => n + r.capacity, 0),
      occupied: t.accepted.housingResources.reduce((n, r) => n + r.occupancy, 0),
    });
  }
  return out;
}

