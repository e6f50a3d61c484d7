import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCityConfigs } from '../adapters/config.ts';
import { defaultCitiesDir } from '../adapters/fleet.ts';
import { ServiceCategory } from '../schema/code-lists.ts';
import { editions } from '../schema/editions.ts';
import { isValidFiscalCode } from '../schema/fiscal-code.ts';
import { entitySchemas } from '../schema/records.ts';
import type { CivicProject, Enrollment, Placement } from '../schema/records.ts';
import { citySizes } from './city-sizes.ts';
import { birthCountryCodes, buildFiscalCode, generatePopulation } from './population.ts';
import type { Population, PopulationCity, SyntheticBeneficiary } from './population-types.ts';

const SEED = 20_250_101;
const LAST_DAY = '2026-10-31';

/** Canonical serialisation of a population (Map → entries), hashed: equal digests mean byte-identical output. */
function digest(population: Population): string {
  return createHash('sha256').update(JSON.stringify([...population])).digest('hex');
}

interface Lists {
  beneficiaries: SyntheticBeneficiary;
  enrollments: Enrollment;
  placements: Placement;
  civicProjects: CivicProject;
}
/** Every record of one entity, all cities together. */
function allOf<K extends keyof Lists>(population: Population, entity: K): Lists[K][] {
  const out: Lists[K][] = [];
  for (const city of population.values()) for (const record of city[entity] as Lists[K][]) out.push(record);
  return out;
}

/** Distinct persons, by fiscal code. */
function distinctPersons(population: Population): number {
  return new Set(allOf(population, 'beneficiaries').map((b) => b.fiscalCode)).size;
}

/** Each configured city's editions, read from its config, not from the generator's input. */
const editionsOf = new Map(loadCityConfigs(defaultCitiesDir).map((c) => [c.code, c.editions] as const));
function cityEditions(city: string) {
  const list = editionsOf.get(city);
  if (!list) throw new Error(`city ${city} has no config`);
  return editions.filter((e) => list.includes(e.edition));
}
/** Whether the city is in one of its editions on an ISO date (and the date is in the synthetic world). */
function inCityEditions(city: string, date: string): boolean {
  return date <= LAST_DAY && cityEditions(city).some((e) => e.from <= date && date <= e.to);
}
/** The city's last day in the programme, within the synthetic world. */
function lastEditionDay(city: string): string {
  const last = cityEditions(city).reduce((max, e) => (e.to > max ? e.to : max), '');
  return last < LAST_DAY ? last : LAST_DAY;
}

let population: Population;
beforeAll(() => {
  population = generatePopulation(citySizes, { seed: SEED, scale: 1 });
});

describe('city sizes', () => {
  it('lists every city of the registry with a system once each, with positive weights and the big five first', () => {
    const connected = loadCityConfigs(defaultCitiesDir).filter((c) => c.sources.length > 0).map((c) => c.code);
    expect(citySizes.map((c) => c.code).sort()).toEqual(connected.sort());
    expect(new Set(citySizes.map((c) => c.code)).size).toBe(citySizes.length);
    for (const c of citySizes) {
      expect(c.code).toMatch(/^\d{6}$/);
      expect(c.weight).toBeGreaterThan(0);
    }
    const biggest = [...citySizes].sort((a, b) => b.weight - a.weight).slice(0, 5).map((c) => c.code);
    // Roma, Milano, Napoli, Torino, Palermo.
    expect(new Set(biggest)).toEqual(new Set(['058091', '015146', '063049', '001272', '082053']));
  });
});

describe('determinism', () => {
  it('the same seed and scale give a deep-equal, byte-identical population', () => {
    const again = generatePopulation(citySizes, { seed: SEED, scale: 1 });
    expect(again).toEqual(population);
    expect(digest(again)).toBe(digest(population));
  });

  it('a different seed gives a different population', () => {
    const other = generatePopulation(citySizes, { seed: SEED + 1, scale: 1 });
    expect(digest(other)).not.toBe(digest(population));
    const firstCodes = (p: Population) => p.get('058091')!.beneficiaries.slice(0, 20).map((b) => b.fiscalCode);
    expect(firstCodes(other)).not.toEqual(firstCodes(population));
  });

  it('a separate Node process generates the same population', () => {
    const moduleUrl = new URL('./population.ts', import.meta.url).href;
    const sizesUrl = new URL('./city-sizes.ts', import.meta.url).href;
    const script = `
      import { createHash } from 'node:crypto';
      import { generatePopulation } from ${JSON.stringify(moduleUrl)};
      import { citySizes } from ${JSON.stringify(sizesUrl)};
      const p = generatePopulation(citySizes, { seed: ${SEED}, scale: 1 });
      process.stdout.write(createHash('sha256').update(JSON.stringify([...p])).digest('hex'));
    `;
    const out = execFileSync(process.execPath, ['--experimental-strip-types', '--input-type=module', '--no-warnings', '-e', script], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      encoding: 'utf8',
    });
    expect(out).toBe(digest(population));
  });

  it('refuses a seed that is not a safe integer and a scale that is not positive', () => {
    expect(() => generatePopulation(citySizes, { seed: 1.5, scale: 1 })).toThrow(RangeError);
    expect(() => generatePopulation(citySizes, { seed: 1, scale: 0 })).toThrow(RangeError);
  });
});

describe('size', () => {
  it('has at least 9,200 distinct persons at scale 1 and at least 80 beneficiaries in every city', () => {
    expect(distinctPersons(population)).toBeGreaterThanOrEqual(9_200);
    expect([...population.keys()]).toEqual(citySizes.map((c) => c.code));
    for (const city of population.values()) expect(city.beneficiaries.length).toBeGreaterThanOrEqual(80);
  });

  it('spreads beneficiaries over cities by weight', () => {
    const total = allOf(population, 'beneficiaries').length;
    const weightSum = citySizes.reduce((a, c) => a + c.weight, 0);
    for (const { code, weight } of citySizes) {
      const share = population.get(code)!.beneficiaries.length / total;
      expect(share).toBeGreaterThan((weight / weightSum) * 0.8);
      expect(share).toBeLessThan((weight / weightSum) * 1.25);
    }
  });

  // How long it takes is not asserted: timings are flaky on shared machines.
  it('scale 10 has about ten times the persons, enrolments, placements, projects and places', () => {
    const big = generatePopulation(citySizes, { seed: SEED, scale: 10 });
    const ratio = (f: (p: Population) => number) => f(big) / f(population);
    expect(ratio(distinctPersons)).toBeGreaterThan(9.5);
    expect(ratio(distinctPersons)).toBeLessThan(10.5);
    for (const entity of ['enrollments', 'placements', 'civicProjects'] as const) {
      expect(ratio((p) => allOf(p, entity).length)).toBeGreaterThan(9);
      expect(ratio((p) => allOf(p, entity).length)).toBeLessThan(11);
    }
    const places = (p: Population) =>
      [...p.values()].reduce((sum, c) => sum + c.housingResources.reduce((s, r) => s + r.capacity, 0), 0);
    expect(ratio(places)).toBeGreaterThan(7);
    expect(ratio(places)).toBeLessThan(13);
    // Catalogues do not grow with the scale.
    for (const [code, city] of big) {
      expect(city.services).toEqual(population.get(code)!.services);
      expect(city.housingResources.map((r) => r.name)).toEqual(population.get(code)!.housingResources.map((r) => r.name));
    }
  }, 30_000);
});

describe('persons and fiscal codes', () => {
  it('every fiscal code is valid and its birth date, sex and country digits agree with the record', () => {
    const months = 'ABCDEHLMPRST';
    for (const b of allOf(population, 'beneficiaries')) {
      expect(isValidFiscalCode(b.fiscalCode), b.fiscalCode).toBe(true);
      const [year, month, day] = b.birthDate.split('-') as [string, string, string];
      const code = b.fiscalCode;
      expect(code.slice(6, 8)).toBe(year.slice(2));
      expect(months.indexOf(code[8]!) + 1).toBe(Number(month));
      const dayDigits = Number(code.slice(9, 11));
      expect(dayDigits).toBe(Number(day) + (b.sex === 'FEMALE' ? 40 : 0));
      expect(code.slice(11, 15)).toBe(birthCountryCodes[b.citizenship]);
      expect(code).toBe(
        buildFiscalCode({ ...b, belfiore: birthCountryCodes[b.citizenship]! }),
      );
    }
  });

  it('builds fiscal-code letters by the rules, ignoring accents, apostrophes and spaces', () => {
    // The textbook example: Mario Rossi, born in Rome on 1 January 1980.
    expect(buildFiscalCode({ givenName: 'Mario', familyName: 'Rossi', sex: 'MALE', birthDate: '1980-01-01', belfiore: 'H501' }))
      .toBe('RSSMRA80A01H501U');
    const letters = (givenName: string, familyName: string) =>
      buildFiscalCode({ givenName, familyName, sex: 'FEMALE', birthDate: '1990-12-31', belfiore: 'Z335' }).slice(0, 6);
    expect(letters('Gianfranco', 'Fo')).toBe('FOXGFR'); // 4+ consonants: 1st, 3rd, 4th; short surname padded with X
    expect(letters('Aïssatou', "N'Guessan")).toBe('NGSSST');
    expect(letters('Ana María', 'Quispe Huamán')).toBe('QSPNMR');
    expect(letters('Ërjona', 'Çela')).toBe('CLERJN');
    expect(buildFiscalCode({ givenName: 'Eva', familyName: 'Ba', sex: 'FEMALE', birthDate: '2001-05-09', belfiore: 'Z343' }).slice(0, 11))
      .toBe('BAXVEA01E49');
  });

  it('one fiscal code is one person: the same name, sex, birth date and citizenship wherever it appears', () => {
    const byCode = new Map<string, SyntheticBeneficiary>();
    for (const b of allOf(population, 'beneficiaries')) {
      const seen = byCode.get(b.fiscalCode);
      if (!seen) {
        byCode.set(b.fiscalCode, b);
        continue;
      }
      expect([b.givenName, b.familyName, b.sex, b.birthDate, b.citizenship]).toEqual([
        seen.givenName, seen.familyName, seen.sex, seen.birthDate, seen.citizenship,
      ]);
    }
  });

  it('persons are adults of 18 to about 70, from the listed third countries, with names of several styles', () => {
    const beneficiaries = allOf(population, 'beneficiaries');
    const countries = new Set(beneficiaries.map((b) => b.citizenship));
    expect([...countries].sort()).toEqual(Object.keys(birthCountryCodes).sort());
    let over70 = 0;
    for (const b of beneficiaries) {
      const ageAtIntake = (Date.parse(b.intake.date) - Date.parse(b.birthDate)) / (365.2425 * 86_400_000);
      expect(ageAtIntake).toBeGreaterThanOrEqual(18);
      if ((Date.parse(LAST_DAY) - Date.parse(b.birthDate)) / (365.2425 * 86_400_000) > 70) over70++;
    }
    expect(over70 / beneficiaries.length).toBeLessThan(0.01);
    const names = beneficiaries.map((b) => `${b.givenName} ${b.familyName}`);
    expect(names.some((n) => n.includes("'"))).toBe(true);
    expect(names.some((n) => /[À-ÿ]/.test(n))).toBe(true);
    // Ukrainians hold temporary protection and arrived from March 2022.
    const ukrainians = beneficiaries.filter((b) => b.citizenship === 'UA');
    expect(ukrainians.every((b) => b.intake.date >= '2022-03-04')).toBe(true);
    expect(ukrainians.filter((b) => b.permitType === 'TEMPORARY_PROTECTION').length / ukrainians.length).toBeGreaterThan(0.8);
  });

  it('intakes fall between 2020-07-01 and 2026-10-31, recent ones mostly active and old ones mostly closed', () => {
    const beneficiaries = allOf(population, 'beneficiaries');
    for (const b of beneficiaries) {
      expect(b.intake.date >= '2020-07-01' && b.intake.date <= LAST_DAY, b.intake.date).toBe(true);
    }
    const activeShare = (list: SyntheticBeneficiary[]) =>
      list.filter((b) => b.intake.status === 'ACTIVE').length / list.length;
    expect(activeShare(beneficiaries.filter((b) => b.intake.date >= '2026-01-01'))).toBeGreaterThan(0.7);
    expect(activeShare(beneficiaries.filter((b) => b.intake.date < '2022-01-01'))).toBeLessThan(0.4);
  });

  it('some persons are taken in charge in two cities, with other local ids and a later intake in the second', () => {
    const byCode = new Map<string, SyntheticBeneficiary[]>();
    for (const b of allOf(population, 'beneficiaries')) {
      byCode.set(b.fiscalCode, [...(byCode.get(b.fiscalCode) ?? []), b]);
    }
    const movers = [...byCode.values()].filter((records) => records.length > 1);
    const share = movers.length / byCode.size;
    expect(share).toBeGreaterThan(0.015);
    expect(share).toBeLessThan(0.035);
    for (const records of movers) {
      expect(records).toHaveLength(2);
      const [a, b] = [...records].sort((x, y) => x.intake.date.localeCompare(y.intake.date)) as [
        SyntheticBeneficiary,
        SyntheticBeneficiary,
      ];
      expect(a.city).not.toBe(b.city);
      expect(a.localId).not.toBe(b.localId);
      expect(b.intake.date > a.intake.date).toBe(true);
      expect(['TRANSFERRED', 'DROPPED_OUT']).toContain(a.intake.status);
    }
  });
});

describe('editions', () => {
  it("every city's intakes lie within the periods of the editions its config names", () => {
    for (const city of population.values()) {
      for (const b of city.beneficiaries) {
        expect(inCityEditions(city.city, b.intake.date), `${city.city} ${b.localId} taken in on ${b.intake.date}`).toBe(true);
      }
    }
  });

  it('every edition of every city has people taken in during its period', () => {
    for (const city of population.values()) {
      for (const e of cityEditions(city.city)) {
        if (e.from > LAST_DAY) continue;
        const during = city.beneficiaries.filter((b) => e.from <= b.intake.date && b.intake.date <= e.to);
        expect(during.length, `${city.city} in ${e.edition}`).toBeGreaterThan(0);
      }
    }
  });

  it("a mover's second city is in the programme on the day of the second intake", () => {
    const byCode = new Map<string, SyntheticBeneficiary[]>();
    for (const b of allOf(population, 'beneficiaries')) byCode.set(b.fiscalCode, [...(byCode.get(b.fiscalCode) ?? []), b]);
    const seconds = [...byCode.values()]
      .filter((records) => records.length > 1)
      .map((records) => [...records].sort((x, y) => x.intake.date.localeCompare(y.intake.date))[1]!);
    expect(seconds.length).toBeGreaterThan(0);
    for (const b of seconds) {
      expect(inCityEditions(b.city, b.intake.date), `${b.city} ${b.localId} taken in again on ${b.intake.date}`).toBe(true);
    }
  });

  it("enrolments, placements and signed projects start no later than the end of the city's last edition", () => {
    for (const city of population.values()) {
      const last = lastEditionDay(city.city);
      for (const e of city.enrollments) expect(e.from <= last, `${city.city} enrolment ${e.localId} from ${e.from}`).toBe(true);
      for (const p of city.placements) expect(p.from <= last, `${city.city} placement ${p.localId} from ${p.from}`).toBe(true);
      for (const p of city.civicProjects) {
        if (p.signedOn !== null) expect(p.signedOn <= last, `${city.city} project ${p.localId} signed ${p.signedOn}`).toBe(true);
      }
    }
  });

  it('takes people in only on the days of the periods it is given, and moves a person only to a city open that day', () => {
    const early = { code: '900001', weight: 1, activePeriods: [{ from: '2020-07-01', to: '2021-06-30' }] };
    const late = { code: '900002', weight: 1, activePeriods: [{ from: '2024-01-01', to: '2026-10-31' }] };
    const twice = {
      code: '900003',
      weight: 1,
      activePeriods: [{ from: '2025-01-01', to: '2025-12-31' }, { from: '2020-07-01', to: '2020-12-31' }],
    };
    const cities: PopulationCity[] = [early, late, twice];
    const p = generatePopulation(cities, { seed: SEED, scale: 0.3 });
    const within = (city: PopulationCity, date: string) => city.activePeriods!.some((x) => x.from <= date && date <= x.to);
    for (const city of cities) {
      const records = p.get(city.code)!;
      for (const b of records.beneficiaries) expect(within(city, b.intake.date), `${city.code} ${b.intake.date}`).toBe(true);
      const last = city.activePeriods!.reduce((max, x) => (x.to > max ? x.to : max), '');
      for (const e of records.enrollments) expect(e.from <= last).toBe(true);
      for (const pl of records.placements) expect(pl.from <= last).toBe(true);
    }
    // Both stretches of a city with a gap take people in.
    const dates = p.get(twice.code)!.beneficiaries.map((b) => b.intake.date);
    expect(dates.some((d) => d < '2021-01-01')).toBe(true);
    expect(dates.some((d) => d >= '2025-01-01')).toBe(true);
    // Nobody leaves the early city while the late one is open, nor the other way round.
    const earlyCodes = new Set(p.get(early.code)!.beneficiaries.map((b) => b.fiscalCode));
    expect(p.get(late.code)!.beneficiaries.filter((b) => earlyCodes.has(b.fiscalCode))).toEqual([]);
    // Movers there are, with the city that has two stretches.
    const twiceCodes = new Set(p.get(twice.code)!.beneficiaries.map((b) => b.fiscalCode));
    const moved = [early, late].flatMap((c) => p.get(c.code)!.beneficiaries.filter((b) => twiceCodes.has(b.fiscalCode)));
    expect(moved.length).toBeGreaterThan(0);
  });

  it('a city never in the programme within the synthetic world takes nobody, and a bad period is refused', () => {
    const p = generatePopulation(
      [
        { code: '900001', weight: 1 },
        { code: '900002', weight: 1, activePeriods: [{ from: '2027-01-01', to: '2027-01-31' }] },
      ],
      { seed: SEED, scale: 0.1 },
    );
    expect(p.get('900002')!.beneficiaries).toEqual([]);
    expect(p.get('900001')!.beneficiaries.length).toBe(940);
    const withPeriod = (from: string, to: string) => () =>
      generatePopulation([{ code: '900001', weight: 1, activePeriods: [{ from, to }] }], { seed: SEED, scale: 0.1 });
    expect(withPeriod('2023-02-30', '2023-12-31')).toThrow(RangeError);
    expect(withPeriod('2023-12-31', '2023-01-01')).toThrow(RangeError);
  });
});

describe('records', () => {
  it('every record of every entity passes its schema', () => {
    for (const city of population.values()) {
      for (const b of city.beneficiaries) {
        const result = entitySchemas.beneficiaries.safeParse({ ...b, personKey: 'dummy-person-key-0123456789' });
        expect(result.success, `${b.city}:${b.localId} ${result.error?.message}`).toBe(true);
      }
      for (const entity of ['services', 'enrollments', 'civicProjects', 'housingResources', 'placements'] as const) {
        for (const record of city[entity]) {
          const result = entitySchemas[entity].safeParse(record);
          expect(result.success, `${entity} ${record.city}:${record.localId} ${result.error?.message}`).toBe(true);
          expect(record.city).toBe(city.city);
        }
      }
    }
  });

  it('local ids are unique within each city and entity, and cities number their records in their own styles', () => {
    const beneficiaryIdShapes = new Set<string>();
    for (const city of population.values()) {
      for (const entity of ['beneficiaries', 'services', 'enrollments', 'civicProjects', 'housingResources', 'placements'] as const) {
        const ids = city[entity].map((r) => r.localId);
        expect(new Set(ids).size, `${city.city} ${entity}`).toBe(ids.length);
      }
      beneficiaryIdShapes.add(city.beneficiaries[0]!.localId.replace(/[0-9a-f]/g, '9'));
    }
    expect(beneficiaryIdShapes.size).toBeGreaterThanOrEqual(5);
  });

  it('every city has 6 to 14 services including the core categories, and all cities together cover every category', () => {
    const core = ['ONE_STOP_SHOP', 'MOBILE_UNIT', 'LANGUAGE_COURSE', 'WORKSHOP', 'CIVIC_ENGAGEMENT'];
    const seen = new Set<string>();
    for (const city of population.values()) {
      expect(city.services.length).toBeGreaterThanOrEqual(6);
      expect(city.services.length).toBeLessThanOrEqual(14);
      const categories = new Set(city.services.map((s) => s.category));
      for (const c of core) expect(categories.has(c as ServiceCategory), `${city.city} ${c}`).toBe(true);
      for (const c of categories) seen.add(c);
    }
    expect([...seen].sort()).toEqual([...ServiceCategory.options].sort());
  });
});

describe('referential integrity', () => {
  it('enrolments point to a beneficiary and a service of the same city, within the case and in order', () => {
    for (const city of population.values()) {
      const beneficiaries = new Map(city.beneficiaries.map((b) => [b.localId, b]));
      const services = new Map(city.services.map((s) => [s.localId, s]));
      const enrolled = new Set<string>();
      for (const e of city.enrollments) {
        const b = beneficiaries.get(e.beneficiaryId);
        expect(b, `${city.city} enrolment ${e.localId}`).toBeDefined();
        expect(services.has(e.serviceId), `${city.city} service ${e.serviceId}`).toBe(true);
        expect(e.from >= b!.intake.date).toBe(true);
        if (e.to !== null) expect(e.from <= e.to && e.to <= LAST_DAY).toBe(true);
        // An ongoing enrolment belongs to an open case.
        if (e.to === null) expect(b!.intake.status).toBe('ACTIVE');
        // The intake channel's service, from the intake date.
        const category = services.get(e.serviceId)!.category;
        if (e.from === b!.intake.date && (category === 'ONE_STOP_SHOP' || category === 'MOBILE_UNIT')) {
          enrolled.add(e.beneficiaryId);
        }
      }
      expect(enrolled.size, `${city.city}: every beneficiary enrolled in their intake service`).toBe(beneficiaries.size);
    }
  });

  it('placements point to a resource and a beneficiary of the city, and occupancy counts current placements within capacity', () => {
    for (const city of population.values()) {
      expect(city.housingResources.length).toBeGreaterThanOrEqual(3);
      expect(city.housingResources.length).toBeLessThanOrEqual(12);
      const beneficiaries = new Map(city.beneficiaries.map((b) => [b.localId, b]));
      const current = new Map<string, number>();
      const resources = new Set(city.housingResources.map((r) => r.localId));
      for (const p of city.placements) {
        expect(resources.has(p.resourceId), `${city.city} resource ${p.resourceId}`).toBe(true);
        const b = beneficiaries.get(p.beneficiaryId);
        expect(b, `${city.city} placement ${p.localId}`).toBeDefined();
        expect(p.from >= b!.intake.date).toBe(true);
        if (p.to === null) current.set(p.resourceId, (current.get(p.resourceId) ?? 0) + 1);
        else expect(p.from <= p.to && p.to <= LAST_DAY).toBe(true);
      }
      for (const r of city.housingResources) {
        expect(r.occupancy).toBe(current.get(r.localId) ?? 0);
        expect(r.occupancy).toBeLessThanOrEqual(r.capacity);
        expect(r.capacity).toBeGreaterThan(0);
      }
    }
  });

  it('civic projects belong to a beneficiary of the city and are signed after intake, unless drafts', () => {
    for (const city of population.values()) {
      const beneficiaries = new Map(city.beneficiaries.map((b) => [b.localId, b]));
      for (const p of city.civicProjects) {
        const b = beneficiaries.get(p.beneficiaryId);
        expect(b).toBeDefined();
        if (p.status === 'DRAFT') expect(p.signedOn).toBeNull();
        else expect(p.signedOn! > b!.intake.date && p.signedOn! <= LAST_DAY).toBe(true);
      }
    }
  });
});

describe('proportions', () => {
  it('placements cover 12–25% of beneficiaries and civic projects 15–25%', () => {
    const beneficiaries = allOf(population, 'beneficiaries').length;
    const housed = new Set(allOf(population, 'placements').map((p) => `${p.city}:${p.beneficiaryId}`)).size;
    const withProject = new Set(allOf(population, 'civicProjects').map((p) => `${p.city}:${p.beneficiaryId}`)).size;
    expect(housed / beneficiaries).toBeGreaterThanOrEqual(0.12);
    expect(housed / beneficiaries).toBeLessThanOrEqual(0.25);
    expect(withProject / beneficiaries).toBeGreaterThanOrEqual(0.15);
    expect(withProject / beneficiaries).toBeLessThanOrEqual(0.25);
  });

  it('civic projects are mostly signed or completed, with some drafts and withdrawals', () => {
    const projects = allOf(population, 'civicProjects');
    const share = (s: string) => projects.filter((p) => p.status === s).length / projects.length;
    expect(share('SIGNED') + share('COMPLETED')).toBeGreaterThan(0.5);
    expect(share('DRAFT')).toBeGreaterThan(0.02);
    expect(share('WITHDRAWN')).toBeGreaterThan(0.02);
  });
});
