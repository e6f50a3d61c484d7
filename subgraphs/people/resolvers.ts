/**
 * The people subgraph: beneficiaries and their intake, read from every city
 * concurrently and paged across cities with an opaque cursor.
 */
import { createHash } from 'node:crypto';
import type { GraphQLResolverMap } from '@apollo/subgraph';
import type { Caller, Where } from '../../adapters/port.ts';
import { badInput } from '../../schema/errors.ts';
import { globalId, type Beneficiary } from '../../schema/records.ts';
import type { SubgraphContext } from '../shared/context.ts';
import { askCities, citiesToAsk, coverageOf } from '../shared/fan-out.ts';
import { loadById } from '../shared/records.ts';

/** Largest page an analyst may ask for. */
export const MAX_PAGE_SIZE = 500;

interface BeneficiaryFilter {
  cities?: string[] | null;
  intakeChannels?: string[] | null;
  intakeStatuses?: string[] | null;
}

/** Where a page starts: a city, and a position among the records that city holds. */
interface Cursor {
  city: string;
  offset: number;
  /** Digest of the filter the cursor was made for. */
  filter: string;
}

function filterDigest(cities: readonly string[], where: Where): string {
  return createHash('sha256').update(JSON.stringify([cities, where])).digest('base64url').slice(0, 12);
}

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify([1, c.city, c.offset, c.filter])).toString('base64url');
}

export function decodeCursor(text: string): Cursor | null {
  try {
    const v = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown;
    if (!Array.isArray(v) || v[0] !== 1 || typeof v[1] !== 'string' || !Number.isInteger(v[2]) || v[2] < 0 || typeof v[3] !== 'string') return null;
    return { city: v[1], offset: v[2], filter: v[3] };
  } catch {
    return null;
  }
}

function whereOf(filter: BeneficiaryFilter | null | undefined): Where {
  const where: Record<string, string[]> = {};
  if (filter?.intakeChannels?.length) where['intake.channel'] = [...filter.intakeChannels].sort();
  if (filter?.intakeStatuses?.length) where['intake.status'] = [...filter.intakeStatuses].sort();
  return where;
}

/** Only the city's own operators see who a person is. */
export function canSeeIdentity(caller: Caller | null, city: string): boolean {
  return caller?.role === 'operator' && caller.city === city;
}

function personal<K extends keyof Beneficiary>(field: K) {
  return (b: Beneficiary, _: unknown, ctx: SubgraphContext) => (canSeeIdentity(ctx.caller, b.city) ? b[field] : null);
}

export const peopleResolvers: GraphQLResolverMap<SubgraphContext> = {
  Query: {
    async beneficiaries(_: unknown, args: { filter?: BeneficiaryFilter | null; first?: number | null; after?: string | null }, ctx: SubgraphContext) {
      const first = args.first ?? 100;
      if (!Number.isInteger(first) || first < 0 || first > MAX_PAGE_SIZE) {
        throw badInput(`first must be between 0 and ${MAX_PAGE_SIZE}; got ${first}`);
      }
      const { cities, unknown } = citiesToAsk(ctx.fleet.citiesServing('people'), args.filter?.cities);
      if (unknown.length) throw badInput(`Unknown city code(s) or cities without people data: ${unknown.join(', ')}`, { cities: unknown });
      const where = whereOf(args.filter);
      const digest = filterDigest(cities, where);
      let start: Cursor = { city: cities[0] ?? '', offset: 0, filter: digest };
      if (args.after) {
        const c = decodeCursor(args.after);
        if (!c) throw badInput('after is not a cursor this API issued');
        if (c.filter !== digest) throw badInput('after was issued for a different filter: page with the same filter, or start again without after');
        start = c;
      }

      // Phase 1: how many records each city holds for the question.
      const counts = await askCities(ctx, cities, (city) =>
        ctx.fleet.adapter(city)!.list('beneficiaries', { offset: 0, limit: 0, where }, ctx.call),
      );
      const totals = counts.answers.map((a) => ({ city: a.city, total: a.value.total }));
      const totalCount = totals.reduce((n, t) => n + t.total, 0);

      // Phase 2: the slices this page spans, read concurrently.
      const plan: Array<{ city: string; offset: number; limit: number }> = [];
      let remaining = first;
      for (const { city, total } of totals) {
        if (remaining === 0 || city < start.city) continue;
        const offset = city === start.city ? start.offset : 0;
        const limit = Math.min(total - offset, remaining);
        if (limit <= 0) continue;
        plan.push({ city, offset, limit });
        remaining -= limit;
      }
      const slices = await askCities(ctx, plan.map((p) => p.city), (city) => {
        const p = plan.find((x) => x.city === city)!;
        return ctx.fleet.adapter(city)!.list('beneficiaries', { offset: p.offset, limit: p.limit, where }, ctx.call);
      });

      const nodes: Beneficiary[] = [];
      let end: Cursor | null = args.after ? start : null;
      let stoppedEarly = false;
      for (const p of plan) {
        const slice = slices.answers.find((a) => a.city === p.city);
        if (!slice) {
          // The city failed between the two phases: stop here, so the next page asks it again.
          end = { city: p.city, offset: p.offset, filter: digest };
          stoppedEarly = true;
          break;
        }
        nodes.push(...slice.value.items);
        end = { city: p.city, offset: slice.value.nextOffset, filter: digest };
      }
      const last = end;
      const hasNextPage =
        stoppedEarly ||
        (last !== null
          ? totals.some((t) => (t.city === last.city && t.total > last.offset) || t.city > last.city && t.total > 0)
          : totals.some((t) => t.total > 0) && first === 0);
      return {
        totalCount,
        nodes,
        pageInfo: { hasNextPage, endCursor: last ? encodeCursor(last) : null },
        coverage: coverageOf(cities, [...counts.failures, ...slices.failures]),
      };
    },

    beneficiary: (_: unknown, args: { id: string }, ctx: SubgraphContext) => loadById(ctx, 'beneficiaries', args.id),
  },

  Beneficiary: {
    __resolveReference: (ref: { id: string }, ctx: SubgraphContext) => loadById(ctx, 'beneficiaries', ref.id),
    id: (b: Beneficiary) => globalId(b.city, b.localId),
    city: (b: Beneficiary) => ({ code: b.city }),
    birthYear: (b: Beneficiary) => Number(b.birthDate.slice(0, 4)),
    givenName: personal('givenName'),
    familyName: personal('familyName'),
    fiscalCode: personal('fiscalCode'),
    birthDate: personal('birthDate'),
  },
};
