/**
 * Reading records for resolvers: look-ups by id and by beneficiary go through
 * the request's DataLoader for the record's city, so a page of 500 people
 * costs one batched call per city, not one per person.
 */
import type { BeneficiaryChild, Where } from '../../adapters/port.ts';
import type { Domain } from '../../schema/code-lists.ts';
import { GraphQLError } from 'graphql';
import { CityError, RecordRejectedError, asCityError, badInput } from '../../schema/errors.ts';
import type { EntityName, EntityRecord } from '../../schema/records.ts';
import type { IdKind } from '../../access/opaque-id.ts';
import type { SubgraphContext } from './context.ts';
import { askCities, citiesToAsk, coverageOf } from './fan-out.ts';

function reportAll(ctx: SubgraphContext, keys: readonly unknown[], e: unknown): Error[] {
  if (e instanceof CityError) ctx.report(e);
  return keys.map(() => e as Error);
}

/** The kind of opaque id each entity's records carry. */
export const idKindOf = {
  beneficiaries: 'Beneficiary',
  services: 'Service',
  enrollments: 'Enrollment',
  civicProjects: 'CivicProject',
  housingResources: 'HousingResource',
  placements: 'Placement',
} as const satisfies Record<EntityName, IdKind>;

/** A record's opaque id in the graph. */
export function idOf(ctx: SubgraphContext, entity: EntityName, r: { city: string; localId: string }): string {
  return ctx.ids.encode(idKindOf[entity], r.city, r.localId);
}

/** The city and local id an opaque id names; null when this graph did not issue it for that entity. */
export function refOf(ctx: SubgraphContext, entity: EntityName, id: string): { city: string; localId: string } | null {
  const ref = ctx.ids.decode(id, idKindOf[entity]);
  return ref && ctx.fleet.adapter(ref.city) ? { city: ref.city, localId: ref.localId } : null;
}

/** A record by opaque id; null when there is none, or its city could not answer (reported in errors). */
export async function loadById<E extends EntityName>(ctx: SubgraphContext, entity: E, id: string): Promise<EntityRecord<E> | null> {
  const ref = refOf(ctx, entity, id);
  return ref ? loadRecord(ctx, entity, ref.city, ref.localId) : null;
}

/** A record by its city and the city's own id; null when there is none, or its city could not answer (reported in errors). */
export async function loadRecord<E extends EntityName>(ctx: SubgraphContext, entity: E, city: string, localId: string): Promise<EntityRecord<E> | null> {
  const adapter = ctx.fleet.adapter(city);
  if (!adapter) return null;
  const loader = ctx.loader<string, EntityRecord<E>>(`${entity}ById`, city, (ids) =>
    adapter.byId(entity, ids, ctx.call).catch((e: unknown) => reportAll(ctx, ids, e)),
  );
  try {
    return await loader.load(localId);
  } catch (e) {
    if (e instanceof CityError) {
      // A missing or rejected record is just absent (rejections are counted in
      // the city's data quality); a city that cannot answer is news for the caller.
      if (e.code !== 'NOT_FOUND' && e.code !== 'RECORD_REJECTED') ctx.report(e);
      return null;
    }
    throw e;
  }
}

const referenceLabels: Partial<Record<EntityName, string>> = { services: 'service', housingResources: 'housing resource' };

/**
 * A record another record points at (an enrolment's service, a placement's
 * resource). When the city holds no valid record of it, the field is null and
 * carries an error naming the city and why (the reason it was rejected for,
 * or that the city does not hold it), so that nobody mistakes it for a join
 * that was not asked; figures count such records under "unknown".
 */
export async function loadReferenced<E extends EntityName>(ctx: SubgraphContext, entity: E, city: string, localId: string): Promise<EntityRecord<E> | null> {
  const adapter = ctx.fleet.adapter(city);
  if (!adapter) return null;
  const loader = ctx.loader<string, EntityRecord<E>>(`${entity}ById`, city, (ids) =>
    adapter.byId(entity, ids, ctx.call).catch((e: unknown) => reportAll(ctx, ids, e)),
  );
  try {
    return await loader.load(localId);
  } catch (e) {
    if (e instanceof RecordRejectedError) {
      const label = referenceLabels[entity] ?? entity;
      // The city's own record number is not every reader's to see: the message names the city and the reason only.
      const message = e.reason === null
        ? `City ${city} holds no record of this ${label}: it is counted as unknown`
        : `City ${city} sent a record of this ${label} that was rejected (${e.reason}, see City.dataQuality): it is counted as unknown`;
      throw new GraphQLError(message, { extensions: { code: e.code, city, reason: e.reason } });
    }
    if (e instanceof CityError) {
      ctx.report(e);
      return null;
    }
    throw e;
  }
}

/** A beneficiary's records of a child entity; null when the city could not answer (reported in errors). */
export async function loadChildren<E extends BeneficiaryChild>(ctx: SubgraphContext, entity: E, beneficiary: { city: string; localId: string }): Promise<EntityRecord<E>[] | null> {
  const adapter = ctx.fleet.adapter(beneficiary.city);
  if (!adapter) return null;
  const loader = ctx.loader<string, EntityRecord<E>[]>(`${entity}ByBeneficiary`, beneficiary.city, (ids) =>
    adapter.byBeneficiary(entity, ids, ctx.call).catch((e: unknown) => reportAll(ctx, ids, e)),
  );
  try {
    return await loader.load(beneficiary.localId);
  } catch (e) {
    if (e instanceof CityError) {
      ctx.report(e);
      return null;
    }
    throw e;
  }
}

/**
 * A beneficiary as another subgraph names it (by opaque id), with the city
 * and local id the rules and look-ups need; null for an id this graph did
 * not issue.
 */
export function beneficiaryRef(ctx: SubgraphContext, ref: { id: string }): { id: string; city: string; localId: string } | null {
  const r = refOf(ctx, 'beneficiaries', ref.id);
  if (!r || (ctx.caller.role === 'operator' && r.city !== ctx.caller.city)) return null;
  return { id: ref.id, ...r };
}

/** The person a placement, enrolment or civic project belongs to, as the people subgraph resolves it. */
export function personOf(ctx: SubgraphContext, r: { city: string; beneficiaryId: string }): { id: string; city: string; localId: string } {
  return { id: idOf(ctx, 'beneficiaries', { city: r.city, localId: r.beneficiaryId }), city: r.city, localId: r.beneficiaryId };
}

/** Oldest last good answer a caller may accept, in seconds: a week. */
const MAX_STALENESS_S = 7 * 24 * 3600;

/** A caller's `maxStaleness`, checked: null when the caller accepts no stale data. */
export function staleness(maxStaleness: number | null | undefined): number | null {
  if (maxStaleness === undefined || maxStaleness === null) return null;
  if (!Number.isInteger(maxStaleness) || maxStaleness < 0 || maxStaleness > MAX_STALENESS_S) {
    throw badInput(`maxStaleness must be a whole number of seconds from 0 to ${MAX_STALENESS_S}; got ${maxStaleness}`);
  }
  return maxStaleness;
}

/**
 * One read of a city, its good answer kept under `key`. When it fails and
 * the caller accepts data up to `maxStaleness` seconds old, the last good
 * answer is served instead: the failure is still reported, and `stale`
 * records the answer's time for the coverage.
 */
export async function withLastGood<T>(
  ctx: SubgraphContext,
  city: string,
  key: string,
  maxStaleness: number | null,
  stale: Map<string, Date>,
  read: () => Promise<T>,
  /** What of the answer is worth keeping (a count without the records it read, say); the whole answer by default. */
  keep: (value: T) => T = (value) => value,
): Promise<T> {
  try {
    const value = await read();
    ctx.lastGood?.set(key, { value: keep(value), at: Date.now() });
    return value;
  } catch (e) {
    const last = maxStaleness === null ? undefined : ctx.lastGood?.get(key);
    if (!last || Date.now() - last.at > maxStaleness! * 1000) throw e;
    ctx.report(asCityError(e, city));
    const asOf = new Date(last.at);
    const before = stale.get(city);
    if (!before || before > asOf) stale.set(city, asOf);
    return last.value as T;
  }
}

/**
 * Every record of a small entity (catalogues, resources) across the cities
 * asked. With `maxStaleness` (seconds), a city that cannot be read now is
 * answered from its last good answer, if it is no older, and named in
 * `coverage.stale` with that answer's time; never silently.
 */
export async function listAcross<E extends EntityName>(
  ctx: SubgraphContext,
  domain: Domain,
  entity: E,
  requestedCities: readonly string[] | null | undefined,
  where: Where,
  maxStaleness?: number | null,
) {
  const accepted = staleness(maxStaleness);
  const { cities, unknown } = citiesToAsk(ctx.fleet.citiesServing(domain), requestedCities);
  if (unknown.length) throw badInput(`Unknown city code(s), not in the registry: ${unknown.join(', ')}`, { cities: unknown });
  const stale = new Map<string, Date>();
  const fan = await askCities(ctx, cities, (city) =>
    withLastGood(ctx, city, `${entity}|${city}|${JSON.stringify(where)}`, accepted, stale, () =>
      ctx.fleet.adapter(city)!.list(entity, { offset: 0, limit: Infinity, where }, ctx.call),
    ),
  );
  const nodes = fan.answers.flatMap((a) => a.value.items);
  const coverage = coverageOf(ctx, domain, cities, fan.failures);
  coverage.rejected = fan.answers.reduce((n, a) => n + a.value.rejected, 0);
  for (const [city, asOf] of stale) coverage.stale.push({ city: { code: city }, asOf });
  return { totalCount: nodes.length, nodes, coverage };
}
