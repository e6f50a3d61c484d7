/**
 * Conditions a REST source applies itself: the part of a `Where` that its
 * config's `filters` offer, written as the source's own query parameters.
 * A date range becomes two parameters, inclusive, in the source's date format
 * (a month or year bound stands for its first or last day); a list of
 * national codes becomes every local code of the source's vocabulary that
 * maps to one of them, comma-separated; ids go as they are.
 *
 * What cannot be written for the source (a bound it has no parameter for, a
 * code no local code maps to, a value holding the list separator) is left
 * out: the caller applies every condition again in process, so leaving one
 * out costs bytes, never the answer.
 */
import type { VocabularyName } from '../../schema/code-lists.ts';
import type { EntityName } from '../../schema/records.ts';
import { filterablePaths, type DateFormat, type RestSourceConfig } from '../config.ts';
import type { DateRange, Where } from '../port.ts';
import type { Query } from './http.ts';

export interface FilterTranslator {
  /** The part of `where` the source applies itself (for a range, the bounds it has parameters for). */
  pushable(entity: EntityName, where: Where): Where;
  /** The query parameters that ask the source for the pushable part of `where`, in the order the config declares them. */
  query(entity: EntityName, where: Where): Query;
}

type FilterParams = string | { from?: string; to?: string };

export function createFilterTranslator(source: Pick<RestSourceConfig, 'entities' | 'vocabularies' | 'citizenship' | 'dateFormat'>): FilterTranslator {
  /** Per code list, national code -> the source's own codes for it, in the config's order. */
  const localCodes = new Map<VocabularyName | 'citizenship', Map<string, string[]>>();
  const tables: Array<[VocabularyName | 'citizenship', Record<string, string> | undefined]> = [
    ...(Object.entries(source.vocabularies) as Array<[VocabularyName, Record<string, string> | undefined]>),
    ['citizenship', source.citizenship],
  ];
  for (const [list, table] of tables) {
    if (!table) continue;
    const inverse = new Map<string, string[]>();
    for (const [own, national] of Object.entries(table)) {
      const codes = inverse.get(national) ?? [];
      codes.push(own.trim());
      inverse.set(national, codes);
    }
    localCodes.set(list, inverse);
  }

  /** The source's own values for a list condition; a list without a table is written in the national codes. */
  function ownValues(list: VocabularyName | 'citizenship' | null, values: readonly string[]): string[] {
    const inverse = list === null ? undefined : localCodes.get(list);
    const own = inverse ? values.flatMap((v) => inverse.get(v) ?? []) : [...values];
    return [...new Set(own)];
  }

  /** Per pushable condition: the condition as pushed, and its parameters. */
  function plan(entity: EntityName, where: Where): Array<{ path: string; pushed: Where[string]; params: Array<[string, string | string[]]> }> {
    const declared = (source.entities[entity]?.filters ?? {}) as Readonly<Record<string, FilterParams>>;
    const out: Array<{ path: string; pushed: Where[string]; params: Array<[string, string | string[]]> }> = [];
    for (const [path, params] of Object.entries(declared)) {
      const condition = where[path];
      const f = filterablePaths[entity][path];
      if (condition === undefined || !f) continue;
      if (f.kind === 'date') {
        if (Array.isArray(condition) || typeof params === 'string') continue;
        const range = condition as DateRange;
        // A source's date filter drops the records without a date, which this condition keeps.
        if (range.orEmpty) continue;
        const pushed: { from?: string; to?: string } = {};
        const sent: Array<[string, string]> = [];
        const first = range.from === undefined ? null : firstDay(range.from);
        if (params.from !== undefined && first !== null) {
          pushed.from = range.from!;
          sent.push([params.from, formatDate(first, source.dateFormat)]);
        }
        const last = range.to === undefined ? null : lastDay(range.to);
        if (params.to !== undefined && last !== null) {
          pushed.to = range.to!;
          sent.push([params.to, formatDate(last, source.dateFormat)]);
        }
        if (sent.length > 0) out.push({ path, pushed, params: sent });
        continue;
      }
      if (!Array.isArray(condition) || typeof params !== 'string') continue;
      const values = ownValues(f.kind === 'code' ? f.vocabulary : null, condition as readonly string[]);
      // No value to send (no local code maps to the ones asked), or one the list separator would split: filtered in process only.
      if (values.length === 0 || values.some((v) => v === '' || v.includes(','))) continue;
      out.push({ path, pushed: condition, params: [[params, values]] });
    }
    return out;
  }

  return {
    pushable(entity, where) {
      return Object.fromEntries(plan(entity, where).map((p) => [p.path, p.pushed]));
    },
    query(entity, where) {
      return Object.fromEntries(plan(entity, where).flatMap((p) => p.params));
    },
  };
}

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const MONTH = /^(\d{4})-(\d{2})$/;
const YEAR = /^(\d{4})$/;

/** The first day (ISO) a lower bound `YYYY`, `YYYY-MM` or `YYYY-MM-DD` admits; null for anything else. */
export function firstDay(bound: string): string | null {
  if (YEAR.test(bound)) return `${bound}-01-01`;
  const month = MONTH.exec(bound);
  if (month) return validMonth(month[2]!) ? `${bound}-01` : null;
  return isRealDay(bound) ? bound : null;
}

/** The last day (ISO) an upper bound `YYYY`, `YYYY-MM` or `YYYY-MM-DD` admits; null for anything else. */
export function lastDay(bound: string): string | null {
  if (YEAR.test(bound)) return `${bound}-12-31`;
  const month = MONTH.exec(bound);
  if (month) {
    if (!validMonth(month[2]!)) return null;
    const days = new Date(Date.UTC(Number(month[1]), Number(month[2]), 0)).getUTCDate();
    return `${bound}-${String(days).padStart(2, '0')}`;
  }
  return isRealDay(bound) ? bound : null;
}

function validMonth(mm: string): boolean {
  const m = Number(mm);
  return m >= 1 && m <= 12;
}

function isRealDay(text: string): boolean {
  const m = DAY.exec(text);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

/** An ISO date written in a source's date format. */
export function formatDate(iso: string, format: DateFormat): string {
  const [y, m, d] = iso.split('-') as [string, string, string];
  switch (format) {
    case 'yyyy-mm-dd':
      return iso;
    case 'dd/mm/yyyy':
      return `${d}/${m}/${y}`;
    case 'dd-mm-yyyy':
      return `${d}-${m}-${y}`;
    case 'dd.mm.yyyy':
      return `${d}.${m}.${y}`;
    case 'yyyymmdd':
      return `${y}${m}${d}`;
  }
}
