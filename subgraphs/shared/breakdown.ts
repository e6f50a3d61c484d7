/**
 * A breakdown across cities: each city is read concurrently for the facts of
 * the period, and the facts are grouped (subgraphs/shared/figures.ts). A city
 * that fails is named in the coverage and on every bucket it may belong to.
 */
import type { Beneficiary } from '../../schema/records.ts';
import type { Domain } from '../../schema/code-lists.ts';
import { badInput } from '../../schema/errors.ts';
import type { SubgraphContext } from './context.ts';
import { askCities, citiesToAsk, coverageOf, type CoverageResult } from './fan-out.ts';
import { ageBand, checkDimensions, groupFacts, monthsBetween, wholeMonths, type BreakdownArgs, type Dimension, type Fact, type Group } from './figures.ts';

/** A period as given: either end may be open. */
export interface OpenPeriod {
  from: string | null;
  to: string | null;
}

export interface FigureTable {
  by: readonly Dimension[];
  from: string | null;
  to: string | null;
  groups: ReturnType<typeof protect>;
  total: number;
  persons: number;
  coverage: CoverageResult;
}

/** The dimensions every record about a person can be grouped by. */
export const personDimensions: readonly Dimension[] = ['CITY', 'MONTH', 'CHANNEL', 'INTAKE_STATUS', 'SEX', 'AGE_BAND', 'CITIZENSHIP', 'PERMIT', 'VULNERABILITY'];

/** A person's values on the person dimensions (the month is the record's own). */
export function personValues(b: Beneficiary): Fact['values'] {
  return {
    CHANNEL: b.intake.channel,
    INTAKE_STATUS: b.intake.status,
    SEX: b.sex,
    AGE_BAND: ageBand(b.birthDate, b.intake.date),
    CITIZENSHIP: b.citizenship,
    PERMIT: b.permitType,
    VULNERABILITY: b.vulnerabilities,
  };
}

/** The city's valid persons by local id, read once per request whatever asks. */
export function personsOf(ctx: SubgraphContext, city: string): Promise<Map<string, Beneficiary>> {
  return ctx
    .loader<'all', Map<string, Beneficiary>>('persons', city, async (keys) => {
      const page = await ctx.fleet.adapter(city)!.list('beneficiaries', { offset: 0, limit: Infinity }, ctx.call);
      const persons = new Map(page.items.map((b) => [b.localId, b]));
      return keys.map(() => persons);
    })
    .load('all');
}

export async function breakdown(
  ctx: SubgraphContext,
  options: {
    domain: Domain;
    what: string;
    allowed: readonly Dimension[];
    args: BreakdownArgs;
    facts: (city: string, period: OpenPeriod) => Promise<{ facts: Fact[]; rejected: number }>;
  },
): Promise<FigureTable> {
  const { args } = options;
  checkDimensions(args.by, options.allowed, options.what);
  const period: OpenPeriod = wholeMonths({ from: args.from ?? null, to: args.to ?? null });
  if (period.from && period.to && period.from > period.to) throw badInput(`from (${period.from}) is after to (${period.to})`);
  // Figures are not records: operators, like analysts, may count every city.
  const { cities, unknown } = citiesToAsk(ctx.fleet.citiesServing(options.domain), args.cities);
  if (unknown.length) throw badInput(`Unknown city code(s), not in the registry: ${unknown.join(', ')}`, { cities: unknown });
  const fan = await askCities(ctx, cities, (city) => options.facts(city, period));
  const facts = fan.answers.flatMap((a) => a.value.facts);
  const coverage = coverageOf(ctx, options.domain, cities, fan.failures);
  coverage.rejected = fan.answers.reduce((n, a) => n + a.value.rejected, 0);
  const missing = fan.failures.map((f) => f.city);
  const months = period.from && period.to ? monthsBetween(period.from, period.to) : null;
  return {
    by: args.by,
    from: period.from,
    to: period.to,
    groups: protect(ctx, groupFacts(facts, args.by, { cities, missing, months }), args.by),
    total: facts.length,
    persons: new Set(facts.map((f) => f.personKey)).size,
    coverage,
  };
}

/**
 * What a breakdown may show of small buckets. Vulnerabilities are special
 * categories of data, seen only as counts: a bucket that crosses them with
 * other dimensions down to 1 to 4 people could say which vulnerabilities
 * someone has, so its counts are withheld (null). A length is withheld from a
 * bucket of fewer lengths than that too: one placement's length is close to
 * its exact dates.
 */
function protect(ctx: SubgraphContext, groups: Group[], by: readonly Dimension[]): Array<Omit<Group, 'count' | 'persons'> & { count: number | null; persons: number | null }> {
  const threshold = ctx.suppressionThreshold;
  const special = by.includes('VULNERABILITY');
  return groups.map((g) => {
    const small = g.count > 0 && g.count < threshold;
    if (small && special) ctx.suppressed.add('FigureGroup.count');
    if (small && g.averageDays !== null) ctx.suppressed.add('FigureGroup.averageDays');
    return {
      ...g,
      count: special && small ? null : g.count,
      persons: special && g.persons > 0 && g.persons < threshold ? null : g.persons,
      averageDays: small ? null : g.averageDays,
      medianDays: small ? null : g.medianDays,
    };
  });
}
