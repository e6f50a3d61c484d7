import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RejectReason } from '../schema/code-lists.ts';
import { entityNames, type EntityName } from '../schema/records.ts';
import { citySizes } from './city-sizes.ts';
import { dialects } from './dialects.ts';
import { startSandbox, type Sandbox } from './index.ts';
import { buildFiscalCode, generatePopulation } from './population.ts';
import type { CityPopulation, Population, SyntheticBeneficiary } from './population-types.ts';
import { renderCity, type BrokenRecord } from './render.ts';
import {
  acceptedRecords,
  computeTruth,
  countBy,
  distinctPersons,
  monthOf,
  totalQuality,
  type CityTruth,
} from './truth.ts';

const SEED = 4242;
const childEntities = ['enrollments', 'civicProjects', 'placements'] as const;

// ---------------------------------------------------------------------------
// A hand-made city where every rule has a case of its own.

const CITY = '900001';

function person(localId: string, givenName: string, familyName: string): SyntheticBeneficiary {
  const birthDate = '1990-05-17';
  return {
    localId,
    city: CITY,
    fiscalCode: buildFiscalCode({ givenName, familyName, sex: 'MALE', birthDate, belfiore: 'Z343' }),
    givenName,
    familyName,
    sex: 'MALE',
    birthDate,
    citizenship: 'SN',
    permitType: 'ASYLUM_SEEKER',
    vulnerabilities: ['HOMELESSNESS'],
    intake: { date: '2024-03-01', channel: 'ONE_STOP_SHOP', status: 'ACTIVE' },
  };
}

function handMade(): CityPopulation {
  const city = CITY;
  const enrolment = (localId: string, beneficiaryId: string, serviceId: string) =>
    ({ localId, city, beneficiaryId, serviceId, from: '2024-03-01', to: null });
  const project = (localId: string, beneficiaryId: string) =>
    ({ localId, city, beneficiaryId, status: 'SIGNED' as const, signedOn: '2024-04-01' });
  const placement = (localId: string, beneficiaryId: string, resourceId: string) =>
    ({ localId, city, beneficiaryId, resourceId, from: '2024-03-10', to: null });
  return {
    city,
    beneficiaries: [person('B1', 'Moussa', 'Diop'), person('B2', 'Cheikh', 'Fall'), person('B3', 'Modou', 'Sarr')],
    services: [
      { localId: 'S1', city, name: 'Sportello unico', category: 'ONE_STOP_SHOP' },
      { localId: 'S2', city, name: 'Corso di italiano L2', category: 'LANGUAGE_COURSE' },
    ],
    housingResources: [
      { localId: 'R1', city, name: 'Rifugio protetto', kind: 'PROTECTED_SHELTER', capacity: 4, occupancy: 1 },
      { localId: 'R2', city, name: 'Co-abitazione solidale', kind: 'SOLIDARITY_COHOUSING', capacity: 6, occupancy: 1 },
    ],
    enrollments: [
      enrolment('E1', 'B1', 'S1'), // accepted
      enrolment('E2', 'B2', 'S1'), // its person is broken
      enrolment('E3', 'B1', 'S2'), // its service is broken: still accepted
      enrolment('E4', 'B2', 'S2'), // broken itself, and its person too: its own reason
      enrolment('E5', 'B9', 'S1'), // a person the city does not have
    ],
    civicProjects: [project('C1', 'B1'), project('C2', 'B2'), project('C3', 'B2')],
    placements: [
      placement('P1', 'B3', 'R2'), // its resource is broken: still accepted
      placement('P2', 'B2', 'R1'), // its person is broken
      placement('P3', 'B1', 'R1'), // broken itself
    ],
  };
}

const handMadeBroken: BrokenRecord[] = [
  { entity: 'beneficiaries', localId: 'B2', reason: 'INVALID_FISCAL_CODE' },
  { entity: 'services', localId: 'S2', reason: 'UNKNOWN_CODE' },
  { entity: 'housingResources', localId: 'R2', reason: 'INVALID_VALUE' },
  { entity: 'enrollments', localId: 'E4', reason: 'INVALID_DATE' },
  { entity: 'civicProjects', localId: 'C3', reason: 'UNKNOWN_CODE' },
  { entity: 'placements', localId: 'P3', reason: 'INVALID_DATE' },
];

function ids(records: ReadonlyArray<{ localId: string }>): string[] {
  return records.map((r) => r.localId);
}

describe('the rules, on a hand-made city', () => {
  const truth = computeTruth(new Map([[CITY, handMade()]]), new Map([[CITY, handMadeBroken]]));
  const t = truth.get(CITY)!;

  it('rejects a broken record for its own reason, even when its person is broken too', () => {
    expect(t.rejected.beneficiaries).toEqual(new Map([['B2', 'INVALID_FISCAL_CODE']]));
    expect(t.rejected.services).toEqual(new Map([['S2', 'UNKNOWN_CODE']]));
    expect(t.rejected.housingResources).toEqual(new Map([['R2', 'INVALID_VALUE']]));
    expect(t.rejected.enrollments.get('E4')).toBe('INVALID_DATE');
    expect(t.rejected.civicProjects.get('C3')).toBe('UNKNOWN_CODE');
    expect(t.rejected.placements.get('P3')).toBe('INVALID_DATE');
  });

  it('rejects an enrolment, project or placement of a broken person, or of a person the city lacks, as PARENT_REJECTED', () => {
    expect(t.rejected.enrollments).toEqual(new Map<string, RejectReason>([
      ['E2', 'PARENT_REJECTED'],
      ['E4', 'INVALID_DATE'],
      ['E5', 'PARENT_REJECTED'],
    ]));
    expect(t.rejected.civicProjects).toEqual(new Map<string, RejectReason>([
      ['C2', 'PARENT_REJECTED'],
      ['C3', 'UNKNOWN_CODE'],
    ]));
    expect(t.rejected.placements).toEqual(new Map<string, RejectReason>([
      ['P2', 'PARENT_REJECTED'],
      ['P3', 'INVALID_DATE'],
    ]));
  });

  it('keeps an enrolment or placement whose service or housing resource is broken, and everything else, in order', () => {
    expect(ids(t.accepted.beneficiaries)).toEqual(['B1', 'B3']);
    expect(ids(t.accepted.services)).toEqual(['S1']);
    expect(ids(t.accepted.housingResources)).toEqual(['R1']);
    expect(ids(t.accepted.enrollments)).toEqual(['E1', 'E3']);
    expect(ids(t.accepted.civicProjects)).toEqual(['C1']);
    expect(ids(t.accepted.placements)).toEqual(['P1']);
    // The records themselves, fiscal code included, so persons can be counted across cities.
    expect(t.accepted.beneficiaries[0]).toEqual(handMade().beneficiaries[0]);
  });

  it('counts what each entity received, accepted and rejected, by reason', () => {
    expect(t.quality).toEqual({
      beneficiaries: { received: 3, accepted: 2, rejected: 1, reasons: { INVALID_FISCAL_CODE: 1 } },
      services: { received: 2, accepted: 1, rejected: 1, reasons: { UNKNOWN_CODE: 1 } },
      housingResources: { received: 2, accepted: 1, rejected: 1, reasons: { INVALID_VALUE: 1 } },
      enrollments: { received: 5, accepted: 2, rejected: 3, reasons: { PARENT_REJECTED: 2, INVALID_DATE: 1 } },
      civicProjects: { received: 3, accepted: 1, rejected: 2, reasons: { PARENT_REJECTED: 1, UNKNOWN_CODE: 1 } },
      placements: { received: 3, accepted: 1, rejected: 2, reasons: { PARENT_REJECTED: 1, INVALID_DATE: 1 } },
    });
  });

  it('accepts every record of a city with nothing broken, and gives an empty truth to a city with no records', () => {
    const other = { ...handMade(), city: '900002' };
    const both = computeTruth(new Map([[CITY, handMade()], ['900002', other]]), new Map([['900003', []]]));
    expect([...both.keys()]).toEqual([CITY, '900002', '900003']);
    for (const entity of entityNames) {
      // E5 has no person in the city: the graph cannot show it, broken list or not.
      const expected = entity === 'enrollments' ? 4 : other[entity].length;
      expect(both.get('900002')!.quality[entity].accepted, entity).toBe(expected);
      expect(both.get('900003')!.quality[entity]).toEqual({ received: 0, accepted: 0, rejected: 0, reasons: {} });
    }
  });

  it('refuses a broken list that does not belong to the population', () => {
    const population = new Map([[CITY, handMade()]]);
    const unknown: BrokenRecord = { entity: 'placements', localId: 'P9', reason: 'INVALID_DATE' };
    expect(() => computeTruth(population, new Map([[CITY, [...handMadeBroken, unknown]]]))).toThrow(/placements P9/);
    expect(() => computeTruth(population, new Map([[CITY, [handMadeBroken[0]!, handMadeBroken[0]!]]]))).toThrow(/twice/);
  });
});

// ---------------------------------------------------------------------------
// The generated population, broken as the sandbox breaks it.

describe('the truth of the generated population', () => {
  let population: Population;
  let broken: Map<string, readonly BrokenRecord[]>;
  let truth: ReadonlyMap<string, CityTruth>;
  beforeAll(() => {
    population = generatePopulation(citySizes, { seed: SEED, scale: 0.3 });
    broken = new Map(dialects.map((d) => [d.code, renderCity(population.get(d.code)!, d, { seed: SEED }).broken]));
    truth = computeTruth(population, broken);
  });

  it('has one truth per city, and for every entity received = accepted + rejected = the records the city holds', () => {
    expect([...truth.keys()]).toEqual([...population.keys()]);
    for (const [city, t] of truth) {
      for (const entity of entityNames) {
        const q = t.quality[entity];
        expect(q.received, `${city} ${entity}`).toBe(population.get(city)![entity].length);
        expect(q.accepted + q.rejected, `${city} ${entity}`).toBe(q.received);
        expect(t.accepted[entity].length).toBe(q.accepted);
        expect(t.rejected[entity].size).toBe(q.rejected);
        expect(Object.values(q.reasons).reduce((a, b) => a + b, 0)).toBe(q.rejected);
      }
    }
  });

  it('rejects exactly the broken records plus the other children of broken beneficiaries', () => {
    let parentRejected = 0;
    for (const [city, t] of truth) {
      const list = broken.get(city)!;
      const brokenIds = (entity: EntityName) => new Set(list.filter((b) => b.entity === entity).map((b) => b.localId));
      const brokenPersons = brokenIds('beneficiaries');
      for (const entity of entityNames) {
        const own = brokenIds(entity);
        const children = (childEntities as readonly EntityName[]).includes(entity)
          ? (population.get(city)![entity] as ReadonlyArray<{ localId: string; beneficiaryId: string }>).filter(
              (r) => !own.has(r.localId) && brokenPersons.has(r.beneficiaryId),
            ).length
          : 0;
        expect(t.quality[entity].rejected, `${city} ${entity}`).toBe(own.size + children);
        expect(t.quality[entity].reasons.PARENT_REJECTED ?? 0, `${city} ${entity}`).toBe(children);
        for (const b of list.filter((x) => x.entity === entity)) expect(t.rejected[entity].get(b.localId)).toBe(b.reason);
        parentRejected += children;
      }
    }
    // Every person has at least the enrolment of their intake: a broken person always takes children with them.
    expect(parentRejected).toBeGreaterThan(0);
  });

  it('counts a person taken in charge in two cities once, and a person whose only record is broken not at all', () => {
    const valid = new Set<string>();
    for (const [city, records] of population) {
      const brokenPersons = new Set(broken.get(city)!.filter((b) => b.entity === 'beneficiaries').map((b) => b.localId));
      for (const b of records.beneficiaries) if (!brokenPersons.has(b.localId)) valid.add(b.fiscalCode);
    }
    const records = acceptedRecords(truth, 'beneficiaries');
    expect(records.length).toBeGreaterThan(valid.size); // some persons are in two cities
    expect(distinctPersons(truth)).toBe(valid.size);
    const roma = population.get('058091')!;
    expect(distinctPersons(truth, ['058091'])).toBe(truth.get('058091')!.quality.beneficiaries.accepted);
    expect(acceptedRecords(truth, 'services', ['058091']).length).toBeLessThanOrEqual(roma.services.length);
  });

  it('adds up the quality of an entity over cities', () => {
    const total = totalQuality(truth, 'enrollments');
    const sum = (f: (t: CityTruth) => number) => [...truth.values()].reduce((n, t) => n + f(t), 0);
    expect(total.received).toBe(sum((t) => t.quality.enrollments.received));
    expect(total.rejected).toBe(sum((t) => t.quality.enrollments.rejected));
    expect(total.reasons.PARENT_REJECTED ?? 0).toBe(sum((t) => t.quality.enrollments.reasons.PARENT_REJECTED ?? 0));
    expect(() => totalQuality(truth, 'enrollments', ['999999'])).toThrow(/999999/);
  });
});

describe('helpers', () => {
  it('countBy counts each key once per record, several keys of one record each once, and skips null keys', () => {
    const records = [
      { c: 'NG', v: ['HOMELESSNESS', 'MENTAL_HEALTH'], s: '2024-01-02' as string | null },
      { c: 'SN', v: [], s: null },
      { c: 'NG', v: ['HOMELESSNESS'], s: '2024-01-30' },
    ];
    expect(countBy(records, (r) => r.c)).toEqual(new Map([['NG', 2], ['SN', 1]]));
    expect(countBy(records, (r) => r.v)).toEqual(new Map([['HOMELESSNESS', 2], ['MENTAL_HEALTH', 1]]));
    expect(countBy(records, (r) => (r.s === null ? null : monthOf(r.s)))).toEqual(new Map([['2024-01', 2]]));
  });

  it("monthOf gives an ISO date's year and month, and refuses what is not an ISO date", () => {
    expect(monthOf('2026-10-31')).toBe('2026-10');
    expect(() => monthOf('31/10/2026')).toThrow(RangeError);
    expect(() => monthOf('2026-13-01')).toThrow(RangeError);
  });
});

// ---------------------------------------------------------------------------
// The running sandbox.

describe('the sandbox', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox({ seed: SEED, scale: 0.05 });
  });
  afterAll(async () => {
    await sandbox?.close();
  });

  it('exposes the truth of every city it serves, worked out from its population and its broken records', () => {
    expect([...sandbox.truth.keys()].sort()).toEqual(dialects.map((d) => d.code).sort());
    expect(sandbox.truth).toEqual(computeTruth(sandbox.population, sandbox.broken));
    for (const [city, t] of sandbox.truth) {
      const brokenPersons = sandbox.broken.get(city)!.filter((b) => b.entity === 'beneficiaries').length;
      expect(t.quality.beneficiaries.accepted, city).toBe(sandbox.population.get(city)!.beneficiaries.length - brokenPersons);
    }
  });
});
