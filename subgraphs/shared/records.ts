/**
 * Reading records for resolvers: look-ups by id and by beneficiary go through
 * the request's DataLoader for the record's city, so a page of 500 people
 * costs one batched call per city, not one per person.
 */
import type { BeneficiaryChild, Where } from '../../adapters/port.ts';
import type { Domain } from '../../schema/code-lists.ts';
import { CityError, badInput } from '../../schema/errors.ts';
import { parseGlobalId, type EntityName, type EntityRecord } from '../../schema/records.ts';
import type { SubgraphContext } from './context.ts';
import { askCities, citiesToAsk, coverageOf } from './fan-out.ts';

function reportAll(ctx: SubgraphContext, keys: readonly unknown[], e: unknown): Error[] {
  if (e instanceof CityError) ctx.report(e);
  return keys.map(() => e as Error);
}

/** A record by graph-wide id; null when there is none, or its city could not answer (reported in errors). */
export async function loadById<E extends EntityName>(ctx: SubgraphContext, entity: E, id: string): Promise<EntityRecord<E> | null> {
  const parsed = parseGlobalId(id);
  const adapter = parsed && ctx.fleet.adapter(parsed.city);
  if (!parsed || !adapter) return null;
  const loader = ctx.loader<string, EntityRecord<E>>(`${entity}ById`, parsed.city, (ids) =>
    adapter.byId(entity, ids, ctx.call).catch((e: unknown) => reportAll(ctx, ids, e)),
  );
  try {
    return await loader.load(parsed.localId);
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

/** A beneficiary's records of a child entity; null when the city could not answer (reported in errors). */
export async function loadChildren<E extends BeneficiaryChild>(ctx: SubgraphContext, entity: E, beneficiaryId: string): Promise<EntityRecord<E>[] | null> {
  const parsed = parseGlobalId(beneficiaryId);
  const adapter = parsed && ctx.fleet.adapter(parsed.city);
  if (!parsed || !adapter) return null;
  const loader = ctx.loader<string, EntityRecord<E>[]>(`${entity}ByBeneficiary`, parsed.city, (ids) =>
    adapter.byBeneficiary(entity, ids, ctx.call).catch((e: unknown) => reportAll(ctx, ids, e)),
  );
  try {
    return await loader.load(parsed.localId);
  } catch (e) {
    if (e instanceof CityError) {
      ctx.report(e);
      return null;
    }
    throw e;
  }
}

/** Every record of a small entity (catalogues, resources) across the cities asked. */
export async function listAcross<E extends EntityName>(
  ctx: SubgraphContext,
  domain: Domain,
  entity: E,
  requestedCities: readonly string[] | null | undefined,
  where: Where,
) {
  const { cities, unknown } = citiesToAsk(ctx.fleet.citiesServing(domain), requestedCities);
  if (unknown.length) throw badInput(`Unknown city code(s), not in the registry: ${unknown.join(', ')}`, { cities: unknown });
  const fan = await askCities(ctx, cities, (city) =>
    ctx.fleet.adapter(city)!.list(entity, { offset: 0, limit: Infinity, where }, ctx.call),
  );
  const nodes = fan.answers.flatMap((a) => a.value.items);
  return { totalCount: nodes.length, nodes, coverage: coverageOf(ctx, domain, cities, fan.failures) };
}
