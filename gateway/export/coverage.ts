/**
 * What an exported file covers, gathered from every `coverage` object of
 * every answer (each page of a walk) and from the answers' errors, so that a
 * file never travels without saying which cities it leaves out.
 *
 * - cities asked: the largest `citiesAsked` of any coverage object; cities
 *   answered: the smallest `citiesAnswered` among those (a walk's pages each
 *   carry the walk's own; a report's per-city rows ask one city each);
 * - missing: every city a coverage object names as missing, and every city a
 *   CITY_* (or INTERNAL_ERROR) error names, with its code and reason: some of
 *   the file's data from it is absent (a joined field, at least);
 * - stale: each city answered from older data, with the oldest `asOf` seen;
 * - degraded: each city whose source answered with much of its data rejected;
 * - rejected: the largest `rejected` count of any coverage object (a walk's
 *   pages each repeat the walk's count; a report's totals hold its rows');
 * - other errors that leave a value empty without failing the export
 *   (a reference to a rejected record, a withheld small count), counted.
 */
import type { GraphQLFormattedError } from 'graphql';
import { errorCatalogue } from '../../schema/errors.ts';
import { isCoverage, type Shape } from './shape.ts';

export interface CityNote {
  city: string;
  /** The city's name, when the query asked for it. */
  name?: string;
}
export interface MissingCity extends CityNote {
  code: string;
  reason: string;
}
export interface StaleCity extends CityNote {
  asOf: string | null;
}
export interface DegradedCity extends CityNote {
  reason: string;
}
export interface OtherError {
  code: string;
  city?: string;
  count: number;
  /** The first such error's message. */
  message: string;
}

export interface ExportCoverage {
  /** When the export asked its first question (ISO 8601, UTC). */
  requestedAt: string;
  citiesAsked: number | null;
  citiesAnswered: number | null;
  missing: MissingCity[];
  stale: StaleCity[];
  degraded: DegradedCity[];
  rejected: number | null;
  otherErrors: OtherError[];
}

/** Errors about one city's data: the city is missing from (part of) the answer. */
const cityCodes = new Set<string>([...Object.keys(errorCatalogue).filter((c) => c.startsWith('CITY_')), 'INTERNAL_ERROR']);
/** Errors that leave one value empty and say why: the export goes on, and counts them. */
const valueCodes = new Set(['RECORD_REJECTED', 'NOT_FOUND', 'SMALL_COUNT_SUPPRESSED']);

export interface SortedErrors {
  /** Errors naming a city whose data is missing. */
  cities: GraphQLFormattedError[];
  /** Errors leaving a value empty. */
  values: GraphQLFormattedError[];
  /** Everything else: the export cannot stand on this answer. */
  fatal: GraphQLFormattedError[];
}

export function sortErrors(errors: readonly GraphQLFormattedError[]): SortedErrors {
  const sorted: SortedErrors = { cities: [], values: [], fatal: [] };
  for (const e of errors) {
    const code = e.extensions?.code;
    const city = e.extensions?.city;
    if (typeof code === 'string' && typeof city === 'string' && cityCodes.has(code)) sorted.cities.push(e);
    else if (typeof code === 'string' && valueCodes.has(code)) sorted.values.push(e);
    else sorted.fatal.push(e);
  }
  return sorted;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The value of a field of `shape` in `value`, by the field's name (whatever its alias). */
function read(shape: Shape, value: unknown, field: string): { value: unknown; shape: Shape } | undefined {
  const child = shape.children?.find((c) => c.field === field);
  return child && isObject(value) ? { value: value[child.key], shape: child } : undefined;
}

function cityOf(shape: Shape, item: unknown): CityNote | undefined {
  const city = read(shape, item, 'city');
  const code = city && read(city.shape, city.value, 'code')?.value;
  if (typeof code !== 'string') return undefined;
  const name = city && read(city.shape, city.value, 'name')?.value;
  return typeof name === 'string' ? { city: code, name } : { city: code };
}

function itemsOf(shape: Shape, value: unknown, field: string): Array<{ shape: Shape; item: unknown }> {
  const list = read(shape, value, field);
  return list && Array.isArray(list.value) ? list.value.map((item) => ({ shape: list.shape, item })) : [];
}

export class CoverageCollector {
  private readonly counts: Array<{ asked: number; answered: number | null }> = [];
  private readonly missing = new Map<string, MissingCity & { fromError: boolean }>();
  private readonly stale = new Map<string, StaleCity>();
  private readonly degraded = new Map<string, DegradedCity>();
  private rejected: number | null = null;
  private readonly others = new Map<string, OtherError>();

  private readonly requestedAt: Date;

  constructor(requestedAt: Date) {
    this.requestedAt = requestedAt;
  }

  /** Every coverage object of one answer, wherever the query asked for one. */
  addAnswer(root: Shape[], data: unknown): void {
    const visit = (shapes: Shape[], value: unknown) => {
      if (Array.isArray(value)) return value.forEach((v) => visit(shapes, v));
      if (!isObject(value)) return;
      for (const s of shapes) {
        if (!s.children) continue;
        if (isCoverage(s)) this.addCoverage(s, value[s.key]);
        else visit(s.children, value[s.key]);
      }
    };
    visit(root, data);
  }

  private addCoverage(shape: Shape, value: unknown): void {
    if (!isObject(value)) return;
    const asked = read(shape, value, 'citiesAsked')?.value;
    const answered = read(shape, value, 'citiesAnswered')?.value;
    if (typeof asked === 'number') this.counts.push({ asked, answered: typeof answered === 'number' ? answered : null });
    const rejected = read(shape, value, 'rejected')?.value;
    if (typeof rejected === 'number') this.rejected = Math.max(this.rejected ?? 0, rejected);
    for (const { shape: s, item } of itemsOf(shape, value, 'missing')) {
      const city = cityOf(s, item);
      if (!city) continue;
      const code = read(s, item, 'code')?.value;
      const reason = read(s, item, 'reason')?.value;
      const known = this.missing.get(city.city);
      if (known && !known.fromError) continue;
      this.missing.set(city.city, { ...city, code: typeof code === 'string' ? code : known?.code ?? '', reason: typeof reason === 'string' ? reason : known?.reason ?? '', fromError: false });
    }
    for (const { shape: s, item } of itemsOf(shape, value, 'stale')) {
      const city = cityOf(s, item);
      if (!city) continue;
      const asOf = read(s, item, 'asOf')?.value;
      const known = this.stale.get(city.city);
      const at = typeof asOf === 'string' ? asOf : null;
      // The oldest data served for the city is what the file is as of.
      if (!known || (at !== null && (known.asOf === null || Date.parse(at) < Date.parse(known.asOf)))) this.stale.set(city.city, { ...city, asOf: at ?? known?.asOf ?? null });
    }
    for (const { shape: s, item } of itemsOf(shape, value, 'degraded')) {
      const city = cityOf(s, item);
      if (!city || this.degraded.has(city.city)) continue;
      const reason = read(s, item, 'reason')?.value;
      this.degraded.set(city.city, { ...city, reason: typeof reason === 'string' ? reason : '' });
    }
  }

  /** The errors of one answer that did not fail the export (sortErrors' `cities` and `values`). */
  addErrors(errors: Pick<SortedErrors, 'cities' | 'values'>): void {
    for (const e of errors.cities) {
      const city = e.extensions!.city as string;
      if (!this.missing.has(city)) this.missing.set(city, { city, code: e.extensions!.code as string, reason: e.message, fromError: true });
    }
    for (const e of errors.values) {
      const code = e.extensions!.code as string;
      const city = typeof e.extensions?.city === 'string' ? e.extensions.city : undefined;
      const key = `${code}|${city ?? ''}`;
      const known = this.others.get(key);
      if (known) known.count++;
      else this.others.set(key, { code, ...(city ? { city } : {}), count: 1, message: e.message });
    }
  }

  result(): ExportCoverage {
    const asked = this.counts.length ? Math.max(...this.counts.map((c) => c.asked)) : null;
    const answeredOfWidest = this.counts.filter((c) => c.asked === asked && c.answered !== null).map((c) => c.answered!);
    const byCity = <T extends CityNote>(m: Map<string, T>) => [...m.values()].sort((a, b) => a.city.localeCompare(b.city));
    return {
      requestedAt: this.requestedAt.toISOString(),
      citiesAsked: asked,
      citiesAnswered: answeredOfWidest.length ? Math.min(...answeredOfWidest) : null,
      missing: byCity(this.missing).map(({ fromError: _, ...m }) => m),
      stale: byCity(this.stale),
      degraded: byCity(this.degraded),
      rejected: this.rejected,
      otherErrors: [...this.others.values()],
    };
  }
}
