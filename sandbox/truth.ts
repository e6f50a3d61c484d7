/**
 * What the graph must show of the sandbox, worked out from the canonical
 * population and the records the sandbox broke on purpose, without going
 * through any adapter: the reference the end-to-end tests compare the graph
 * with.
 *
 * The rules the graph follows, city by city:
 * - a broken record is rejected with the reason it was broken for;
 * - an enrolment, civic project or placement whose beneficiary is not a valid
 *   record of the city (broken, or not there at all) is rejected as
 *   PARENT_REJECTED, unless it is broken itself: then for its own reason;
 * - an enrolment or placement whose service or housing resource is broken
 *   stays in (the graph shows that reference as unknown);
 * - everything else is accepted.
 */
import type { RejectReason } from '../schema/code-lists.ts';
import { entityNames, type EntityName } from '../schema/records.ts';
import type { CityPopulation, Population } from './population-types.ts';
import type { BrokenRecord } from './render.ts';

/** A canonical record of an entity as the sandbox holds it (beneficiaries without personKey). */
export type TruthRecord<E extends EntityName> = CityPopulation[E][number];

/** What a city's records of one entity become. */
export interface EntityTruthQuality {
  /** Records the city serves. */
  received: number;
  accepted: number;
  rejected: number;
  /** Rejected records by reason; only reasons that occur. */
  reasons: Partial<Record<RejectReason, number>>;
}

export interface CityTruth {
  city: string;
  quality: Readonly<Record<EntityName, Readonly<EntityTruthQuality>>>;
  /** The records the graph must hold, in the city's order. */
  accepted: { readonly [E in EntityName]: ReadonlyArray<TruthRecord<E>> };
  /** Why each rejected record is rejected, per entity, by local id. */
  rejected: { readonly [E in EntityName]: ReadonlyMap<string, RejectReason> };
}

/** The entities that hang off a beneficiary, by `beneficiaryId`. */
const childEntities: ReadonlySet<EntityName> = new Set<EntityName>(['enrollments', 'civicProjects', 'placements']);

const noRecords: readonly [] = Object.freeze([]);

/**
 * The truth of every city of the population, and of every city with a broken
 * list (a city without records has nothing to show, but is still a city), in
 * that order. Fails on a broken record the population does not hold, or one
 * listed twice: the inputs would not belong together.
 */
export function computeTruth(
  population: Population,
  broken: ReadonlyMap<string, ReadonlyArray<BrokenRecord>>,
): ReadonlyMap<string, CityTruth> {
  const cities = [...population.keys()];
  for (const city of broken.keys()) if (!population.has(city)) cities.push(city);
  const out = new Map<string, CityTruth>();
  for (const city of cities) out.set(city, cityTruth(city, population.get(city), broken.get(city) ?? noRecords));
  return out;
}

function cityTruth(city: string, records: CityPopulation | undefined, broken: ReadonlyArray<BrokenRecord>): CityTruth {
  const brokenReason = new Map<string, RejectReason>();
  for (const b of broken) {
    const key = `${b.entity}#${b.localId}`;
    if (brokenReason.has(key)) throw new Error(`city ${city}: ${b.entity} ${b.localId} is listed as broken twice`);
    brokenReason.set(key, b.reason);
  }
  const recordsOf = <E extends EntityName>(entity: E): ReadonlyArray<TruthRecord<E>> =>
    (records?.[entity] ?? noRecords) as ReadonlyArray<TruthRecord<E>>;

  // The persons the graph holds: a child is shown only with its person.
  const validPersons = new Set<string>();
  for (const b of recordsOf('beneficiaries')) {
    if (!brokenReason.has(`beneficiaries#${b.localId}`)) validPersons.add(b.localId);
  }

  const quality = {} as Record<EntityName, EntityTruthQuality>;
  const accepted = {} as { [E in EntityName]: ReadonlyArray<TruthRecord<E>> };
  const rejected = {} as { [E in EntityName]: ReadonlyMap<string, RejectReason> };
  const found = new Set<string>();
  for (const entity of entityNames) {
    const list = recordsOf(entity) as ReadonlyArray<{ localId: string; beneficiaryId?: string }>;
    const kept: object[] = [];
    const why = new Map<string, RejectReason>();
    const reasons: Partial<Record<RejectReason, number>> = {};
    for (const record of list) {
      const key = `${entity}#${record.localId}`;
      let reason = brokenReason.get(key);
      if (reason !== undefined) found.add(key);
      else if (childEntities.has(entity) && !validPersons.has(record.beneficiaryId!)) reason = 'PARENT_REJECTED';
      if (reason === undefined) {
        kept.push(record);
        continue;
      }
      why.set(record.localId, reason);
      reasons[reason] = (reasons[reason] ?? 0) + 1;
    }
    quality[entity] = Object.freeze({ received: list.length, accepted: kept.length, rejected: list.length - kept.length, reasons: Object.freeze(reasons) });
    (accepted as Record<EntityName, readonly object[]>)[entity] = Object.freeze(kept);
    rejected[entity] = why;
  }
  if (found.size !== brokenReason.size) {
    const missing = [...brokenReason.keys()].filter((k) => !found.has(k)).map((k) => k.replace('#', ' '));
    throw new Error(`city ${city}: broken record(s) not in the population: ${missing.join(', ')}`);
  }
  return Object.freeze({ city, quality: Object.freeze(quality), accepted: Object.freeze(accepted), rejected: Object.freeze(rejected) });
}

// ---------------------------------------------------------------------------
// Helpers for tests that compare the graph with the truth

/**
 * How many records fall under each key, in the order keys first appear. A key
 * function may give several keys (a beneficiary's vulnerabilities: the record
 * counts once under each) or none (null or undefined: not counted).
 */
export function countBy<T, K extends string>(
  records: Iterable<T>,
  keyFn: (record: T) => K | readonly K[] | null | undefined,
): Map<K, number> {
  const counts = new Map<K, number>();
  for (const record of records) {
    const keys = keyFn(record);
    if (keys === null || keys === undefined) continue;
    for (const key of typeof keys === 'string' ? [keys as K] : (keys as readonly K[])) {
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return counts;
}

/** The month `YYYY-MM` of an ISO date `YYYY-MM-DD`. */
export function monthOf(isoDate: string): string {
  const m = /^(\d{4}-(0[1-9]|1[0-2]))-\d{2}$/.exec(isoDate);
  if (!m) throw new RangeError(`not an ISO date: "${isoDate}"`);
  return m[1]!;
}

/** Every accepted record of an entity, city after city (all cities of the truth, or those named). */
export function acceptedRecords<E extends EntityName>(
  truth: ReadonlyMap<string, CityTruth>,
  entity: E,
  cities?: Iterable<string>,
): TruthRecord<E>[] {
  const out: TruthRecord<E>[] = [];
  for (const city of cities ?? truth.keys()) {
    const t = truth.get(city);
    if (!t) throw new Error(`no truth for city ${city}`);
    out.push(...t.accepted[entity]);
  }
  return out;
}

/**
 * Distinct persons among the accepted beneficiaries (by fiscal code): a
 * person taken in charge in two cities counts once, as the graph's personKey
 * makes them.
 */
export function distinctPersons(truth: ReadonlyMap<string, CityTruth>, cities?: Iterable<string>): number {
  return new Set(acceptedRecords(truth, 'beneficiaries', cities).map((b) => b.fiscalCode)).size;
}

/** The quality of an entity over several cities (all of the truth, or those named), added up. */
export function totalQuality(
  truth: ReadonlyMap<string, CityTruth>,
  entity: EntityName,
  cities?: Iterable<string>,
): EntityTruthQuality {
  const total: EntityTruthQuality = { received: 0, accepted: 0, rejected: 0, reasons: {} };
  for (const city of cities ?? truth.keys()) {
    const t = truth.get(city);
    if (!t) throw new Error(`no truth for city ${city}`);
    const q = t.quality[entity];
    total.received += q.received;
    total.accepted += q.accepted;
    total.rejected += q.rejected;
    for (const [reason, n] of Object.entries(q.reasons) as [RejectReason, number][]) {
      total.reasons[reason] = (total.reasons[reason] ?? 0) + n;
    }
  }
  return total;
}
