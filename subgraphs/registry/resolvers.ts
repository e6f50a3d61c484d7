/**
 * The registry subgraph: the cities of the network (one config file each),
 * the editions with their targets, and how each city's sources are doing.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { GraphQLResolverMap } from '@apollo/subgraph';
import type { ResolvedCity } from '../../adapters/config.ts';
import type { SourceStatus } from '../../adapters/port.ts';
import { readAuditEntries } from '../../access/audit.ts';
import { asCityError, badInput, forbidden } from '../../schema/errors.ts';
import { shown } from '../shared/fan-out.ts';
import type { SubgraphContext } from '../shared/context.ts';
import { euIndicators } from './eu-indicators.ts';
import { editions, indicatorDescriptions, reportIndicators, type EditionInfo, type ReportIndicator } from '../../schema/editions.ts';
import type { Edition } from '../../schema/code-lists.ts';
import type { CoverageResult } from '../shared/fan-out.ts';
import { editionCities, parseRowKey, parseTotalsKey, periodOf, rowKey, totalsKey, type ReportRow } from '../shared/report.ts';

/** A source that answered within this long is not asked again for its status, in milliseconds. */
const STATUS_MAX_AGE_MS = 30_000;
/** Longest wait for a sweep of a city's records before its status is told without it, in milliseconds. */
const STATUS_PROBE_WAIT_MS = 3_000;

async function sourcesOf(city: ResolvedCity, ctx: SubgraphContext) {
  const adapter = ctx.fleet.adapter(city.code);
  // One check per city per request, however many fields ask.
  const live: SourceStatus[] = adapter
    ? await ctx.loader<'sources', SourceStatus[]>('sources', city.code, async (keys) => {
        // A source whose records are mostly rejected is DEGRADED: that is known from a
        // sweep of its records (shared with dataQuality, and reused for a while), waited
        // for no longer than a status probe.
        await Promise.race([adapter.dataQuality(ctx.call).catch(() => undefined), delay(STATUS_PROBE_WAIT_MS, undefined, { ref: false })]);
        const statuses = await adapter.checkSources(ctx.call, STATUS_MAX_AGE_MS);
        return keys.map(() => statuses);
      }).load('sources')
    : [];
  return city.sources.map((s) => {
    const l = live.find((x) => x.id === s.id);
    return { id: s.id, kind: s.kind.toUpperCase(), domains: [...s.domains], status: l?.status ?? 'UNKNOWN', statusReason: l?.reason ?? null, asOf: l?.asOf ?? null };
  });
}

/** Most access-log entries one answer holds. */
const MAX_LOG_ENTRIES = 1000;

async function accessLog(ctx: SubgraphContext, args: { first?: number | null; since?: string | null }) {
  const first = args.first ?? 100;
  if (!Number.isInteger(first) || first < 1 || first > MAX_LOG_ENTRIES) throw badInput(`first must be between 1 and ${MAX_LOG_ENTRIES}; got ${first}`);
  const since = args.since ? Date.parse(args.since) : -Infinity;
  if (Number.isNaN(since)) throw badInput(`since: ${shown(String(args.since))} is not a date and time (ISO 8601)`);
  const city = ctx.caller.city;
  if (ctx.caller.role !== 'operator' || !city) return null;
  const entries = await readAuditEntries(ctx.auditDir, (e) => Date.parse(e.time) >= since && e.cities.some((c) => c.city === city)).catch((e: NodeJS.ErrnoException) => {
    // No trail yet: nobody has read anything.
    if (e.code === 'ENOENT') return [];
    throw e;
  });
  return entries.slice(0, first).map((e) => ({
    time: e.time,
    subject: e.subject,
    role: e.role,
    callerCity: e.callerCity ?? null,
    records: e.cities.find((c) => c.city === city)!.records,
    fields: e.fields,
    operation: e.operation,
    clientOperation: e.clientOperation ?? null,
    subgraph: e.service ?? 'unknown',
  }));
}

/** A copy: the configs are frozen, and entity resolution tags the object it returns. */
function cityByCode(ctx: SubgraphContext, code: string): ResolvedCity | null {
  const city = ctx.fleet.cities.find((c) => c.code === code);
  return city ? { ...city } : null;
}

type Figures = Partial<Record<ReportIndicator, number | null>>;

/** Each figure beside its target: progress only where a target exists, never invented. */
function progressOf(figures: Figures, targets: Partial<Record<ReportIndicator, { value: number; comparison: string }>>) {
  return reportIndicators.map((indicator) => {
    const value = figures[indicator] ?? null;
    const target = targets[indicator] ?? null;
    return {
      indicator,
      description: indicatorDescriptions[indicator],
      value,
      target: target?.value ?? null,
      comparison: target?.comparison ?? null,
      progress: target && value !== null ? value / target.value : null,
    };
  });
}

type CoverageParts = { peopleCoverage?: CoverageResult | null; servicesCoverage?: CoverageResult | null; housingCoverage?: CoverageResult | null };

/**
 * The coverage of a row or of the totals, over every figure: a city missing
 * from any domain's count is missing (once per city and code), and so on.
 */
function mergedCoverage(parts: CoverageParts): CoverageResult {
  const all = [parts.peopleCoverage, parts.servicesCoverage, parts.housingCoverage].filter((c): c is CoverageResult => !!c);
  const uniq = <T extends { city: { code: string } }>(list: T[], key: (x: T) => string) => [...new Map(list.map((x) => [key(x), x])).values()];
  const missing = uniq(all.flatMap((c) => c.missing), (m) => `${m.city.code}|${m.code}`);
  const citiesAsked = Math.max(0, ...all.map((c) => c.citiesAsked));
  return {
    citiesAsked,
    citiesAnswered: citiesAsked - new Set(missing.map((m) => m.city.code)).size,
    missing,
    stale: uniq(all.flatMap((c) => c.stale), (x) => x.city.code),
    degraded: uniq(all.flatMap((c) => c.degraded), (x) => `${x.city.code}|${x.reason}`),
    rejected: all.reduce((n, c) => n + c.rejected, 0),
  };
}

export const registryResolvers: GraphQLResolverMap<SubgraphContext> = {
  Query: {
    cities: (_: unknown, args: { edition?: string | null }, ctx: SubgraphContext) =>
      ctx.fleet.cities.filter((c) => !args.edition || c.editions.includes(args.edition as ResolvedCity['editions'][number])),
    city: (_: unknown, args: { code: string }, ctx: SubgraphContext) => {
      if (!/^\d{6}$/.test(args.code)) throw badInput(`code: ${shown(args.code)} is not an ISTAT code (six digits, e.g. "090064")`);
      return cityByCode(ctx, args.code);
    },
    editions: () => editions,
    euIndicators: (_: unknown, args: { from: string; to: string }, ctx: SubgraphContext) => euIndicators(ctx, args),
    report: (_: unknown, args: { edition: Edition; from?: string | null; to?: string | null }, ctx: SubgraphContext) => {
      // Two published periods could be subtracted from each other: the dashboard's figures are the edition's whole period.
      if (ctx.caller.role === 'dashboard' && (args.from || args.to)) {
        throw forbidden("The dashboard role reads the published report of an edition's whole period: from and to are for analysts and operators");
      }
      const period = periodOf(args.edition, args.from, args.to);
      return {
        ...period,
        cities: editionCities(ctx, period.edition).map((city) => ({ key: rowKey(period, city), city, ...period })),
        totals: { key: totalsKey(period), ...period },
      };
    },
    accessLog: (_: unknown, args: { first?: number | null; since?: string | null }, ctx: SubgraphContext) => accessLog(ctx, args),
  },
  City: {
    __resolveReference: (ref: { code: string }, ctx: SubgraphContext) => cityByCode(ctx, ref.code),
    sources: (city: ResolvedCity, _: unknown, ctx: SubgraphContext) => sourcesOf(city, ctx),
    source: async (city: ResolvedCity, _: unknown, ctx: SubgraphContext) => {
      const all = await sourcesOf(city, ctx);
      return all.find((s) => s.domains.includes('people')) ?? all[0] ?? null;
    },
    async dataQuality(city: ResolvedCity, _: unknown, ctx: SubgraphContext) {
      const adapter = ctx.fleet.adapter(city.code);
      if (!adapter) return [];
      try {
        const quality = await adapter.dataQuality(ctx.call);
        for (const q of quality) ctx.metrics?.recordsRejected.set({ city: city.code, entity: q.entity }, q.rejected);
        return quality;
      } catch (e) {
        ctx.report(asCityError(e, city.code));
        return null;
      }
    },
  },
  CityReport: {
    // The gateway sends the figures the other subgraphs counted along with the key (@requires).
    __resolveReference: (ref: { key: string } & Figures & CoverageParts, ctx: SubgraphContext) => {
      const row = parseRowKey(ctx, ref.key);
      return row ? { ...ref, ...row } : null;
    },
    city: (row: ReportRow, _: unknown, ctx: SubgraphContext) => cityByCode(ctx, row.city),
    targets: (row: ReportRow & Figures, _: unknown, ctx: SubgraphContext) => {
      const own = ctx.fleet.cities.find((c) => c.code === row.city)?.targets[row.edition] ?? {};
      const targets = Object.fromEntries(Object.entries(own).map(([k, v]) => [k, { value: v as number, comparison: 'AT_LEAST' }]));
      return progressOf(row, targets);
    },
    coverage: (row: CoverageParts) => mergedCoverage(row),
  },
  ReportTotals: {
    __resolveReference: (ref: { key: string } & Figures & CoverageParts, ctx: SubgraphContext) => {
      const t = parseTotalsKey(ctx, ref.key);
      return t ? { ...ref, ...t } : null;
    },
    targets: (t: { edition: Edition; uniquePersons?: number | null } & Figures) => {
      const info = editions.find((e) => e.edition === t.edition)!;
      // People who moved are counted once against the network's target.
      return progressOf({ ...t, beneficiaries: t.uniquePersons ?? null }, Object.fromEntries(info.targets.map((x) => [x.indicator, x])));
    },
    coverage: (t: CoverageParts) => mergedCoverage(t),
  },
  EditionInfo: {
    cities: (e: EditionInfo, _: unknown, ctx: SubgraphContext) => ctx.fleet.cities.filter((c) => c.editions.includes(e.edition)),
  },
};
