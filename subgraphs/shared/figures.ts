/**
 * Grouped counts (breakdowns): each record counted becomes a fact with its
 * value on every dimension, and facts are counted per combination of the
 * dimensions asked. Every bucket a dimension can hold is shown, a count of
 * zero included (the cities asked, the months of the period, every code of a
 * code list), so that "none" is an answer; the cities that could not be read
 * are named on each bucket they may belong to, so that "not known" is a
 * different one.
 */
import { badInput } from '../../schema/errors.ts';
import { CivicProjectStatus, HousingKind, IntakeChannel, IntakeStatus, PermitType, ServiceCategory, Sex, Vulnerability } from '../../schema/code-lists.ts';

export const dimensions = [
  'CITY',
  'MONTH',
  'CHANNEL',
  'INTAKE_STATUS',
  'SEX',
  'AGE_BAND',
  'CITIZENSHIP',
  'PERMIT',
  'VULNERABILITY',
  'SERVICE_CATEGORY',
  'HOUSING_KIND',
  'CIVIC_PROJECT_STATUS',
] as const;
export type Dimension = (typeof dimensions)[number];

/** The value of a record whose reference could not be followed (a rejected service, say). */
export const UNKNOWN = 'UNKNOWN';
/** The value of a person with no vulnerability recorded, or of a project never signed (no month). */
export const NONE = 'NONE';

/** Age bands at intake, in years. */
const AGE_BANDS = [
  { band: '0-17', below: 18 },
  { band: '18-24', below: 25 },
  { band: '25-34', below: 35 },
  { band: '35-44', below: 45 },
  { band: '45-54', below: 55 },
  { band: '55-64', below: 65 },
  { band: '65+', below: Infinity },
] as const;

/** Whole years from one ISO date to another. */
export function ageOn(birthDate: string, on: string): number {
  const years = Number(on.slice(0, 4)) - Number(birthDate.slice(0, 4));
  return on.slice(5) < birthDate.slice(5) ? years - 1 : years;
}

export function ageBand(birthDate: string, on: string): string {
  const age = ageOn(birthDate, on);
  return AGE_BANDS.find((b) => age < b.below)!.band;
}

/** Days from one ISO date to another. */
export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}

/** One record counted. A dimension may hold several values (a person's vulnerabilities): the record counts in each. */
export interface Fact {
  city: string;
  /** The person it is about, counted once however many records they have. */
  personKey: string;
  values: Partial<Record<Dimension, string | readonly string[]>>;
  /** A length in days (a placement or enrolment that ended), for averages and medians. */
  days?: number | null;
}

export interface Group {
  keys: string[];
  count: number;
  persons: number;
  citiesMissing: Array<{ code: string }>;
  averageDays: number | null;
  medianDays: number | null;
}

export interface GroupOptions {
  /** The cities asked, in code order. */
  cities: readonly string[];
  /** The cities that could not be read. */
  missing: readonly string[];
  /** The months of the period, `YYYY-MM` in order; null when the period is open (months then come from the facts). */
  months: readonly string[] | null;
}

/** Every value a dimension can take, for the buckets shown with a zero. Null: only the values met. */
function domainOf(d: Dimension, o: GroupOptions): readonly string[] | null {
  switch (d) {
    case 'CITY':
      return o.cities;
    case 'MONTH':
      return o.months;
    case 'CHANNEL':
      return IntakeChannel.options;
    case 'INTAKE_STATUS':
      return IntakeStatus.options;
    case 'SEX':
      return Sex.options;
    case 'AGE_BAND':
      return AGE_BANDS.map((b) => b.band);
    case 'PERMIT':
      return PermitType.options;
    case 'VULNERABILITY':
      return [...Vulnerability.options, NONE];
    case 'SERVICE_CATEGORY':
      return [...ServiceCategory.options, UNKNOWN];
    case 'HOUSING_KIND':
      return [...HousingKind.options, UNKNOWN];
    case 'CIVIC_PROJECT_STATUS':
      return CivicProjectStatus.options;
    case 'CITIZENSHIP':
      return null;
  }
}

/** Most dimensions one breakdown may cross. */
export const MAX_DIMENSIONS = 3;
/** Most buckets shown with a zero: beyond, only the buckets that hold records are. */
const MAX_ZERO_BUCKETS = 5_000;

export function checkDimensions(by: readonly Dimension[], allowed: readonly Dimension[], what: string): void {
  if (by.length > MAX_DIMENSIONS) throw badInput(`by: at most ${MAX_DIMENSIONS} dimensions; got ${by.length}`);
  if (new Set(by).size !== by.length) throw badInput('by: a dimension is named twice');
  const wrong = by.find((d) => !allowed.includes(d));
  if (wrong) throw badInput(`by: ${what} cannot be grouped by ${wrong}; they can by ${allowed.join(', ')}`);
}

function median(sorted: readonly number[]): number | null {
  if (sorted.length === 0) return null;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Facts counted per combination of the dimensions `by`, in a stable order. */
export function groupFacts(facts: readonly Fact[], by: readonly Dimension[], o: GroupOptions): Group[] {
  const buckets = new Map<string, { keys: string[]; count: number; persons: Set<string>; days: number[] }>();
  const bucket = (keys: string[]) => {
    const id = JSON.stringify(keys);
    let b = buckets.get(id);
    if (!b) buckets.set(id, (b = { keys, count: 0, persons: new Set(), days: [] }));
    return b;
  };
  // Every bucket the dimensions can hold, when they are few enough to show.
  const domains = by.map((d) => domainOf(d, o));
  if (domains.every((x) => x !== null) && domains.reduce((n, x) => n * x!.length, 1) <= MAX_ZERO_BUCKETS) {
    let combos: string[][] = [[]];
    for (const values of domains) combos = combos.flatMap((c) => values!.map((v) => [...c, v]));
    for (const keys of combos) bucket(keys);
  }
  for (const f of facts) {
    let combos: string[][] = [[]];
    for (const d of by) {
      const v = d === 'CITY' ? f.city : f.values[d];
      const values = v === undefined || v === null ? [UNKNOWN] : typeof v === 'string' ? [v] : v.length ? v : [NONE];
      combos = combos.flatMap((c) => values.map((x) => [...c, x]));
    }
    for (const keys of combos) {
      const b = bucket(keys);
      b.count++;
      b.persons.add(f.personKey);
      if (f.days !== undefined && f.days !== null) b.days.push(f.days);
    }
  }
  const cityAt = by.indexOf('CITY');
  const missing = [...o.missing].sort();
  return [...buckets.values()]
    .sort((a, b) => {
      for (let i = 0; i < a.keys.length; i++) {
        const c = a.keys[i]!.localeCompare(b.keys[i]!);
        if (c) return c;
      }
      return 0;
    })
    .map((b) => {
      const days = b.days.sort((x, y) => x - y);
      return {
        keys: b.keys,
        count: b.count,
        persons: b.persons.size,
        // A city's own bucket is unknown only if that city is missing; any other bucket, if any city is.
        citiesMissing: (cityAt >= 0 ? missing.filter((c) => c === b.keys[cityAt]) : missing).map((code) => ({ code })),
        averageDays: days.length ? days.reduce((n, x) => n + x, 0) / days.length : null,
        medianDays: median(days),
      };
    });
}

/** The months from one ISO date to another, `YYYY-MM`, in order. */
export function monthsBetween(from: string, to: string): string[] {
  const out: string[] = [];
  let y = Number(from.slice(0, 4));
  let m = Number(from.slice(5, 7));
  const end = to.slice(0, 7);
  for (;;) {
    const month = `${y}-${String(m).padStart(2, '0')}`;
    if (month > end) return out;
    out.push(month);
    if (++m > 12) {
      m = 1;
      y++;
    }
  }
}

export interface BreakdownArgs {
  cities?: readonly string[] | null;
  from?: string | null;
  to?: string | null;
  by: readonly Dimension[];
}

/** The last day of the month of an ISO date. */
function lastDayOfMonth(date: string): string {
  const y = Number(date.slice(0, 4));
  const m = Number(date.slice(5, 7));
  return new Date(Date.UTC(y, m, 0)).toISOString().slice(0, 10);
}

/**
 * A period widened to whole months. Figures are counted over whole months
 * only: two periods a day apart could be subtracted from each other, and a
 * day's count may point at one person's exact date, which is personal data.
 */
export function wholeMonths<T extends { from?: string | null; to?: string | null }>(period: T): T {
  return {
    ...period,
    ...(period.from ? { from: `${period.from.slice(0, 7)}-01` } : {}),
    ...(period.to ? { to: lastDayOfMonth(period.to) } : {}),
  };
}

/** Whether a period is made of whole months. */
export function isWholeMonths(from: string, to: string): boolean {
  return from.endsWith('-01') && to === lastDayOfMonth(to);
}
