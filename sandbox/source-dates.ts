/**
 * Dates as a city's system writes them, read back by the stand-ins that
 * filter by date on the system's behalf (REST, GraphQL).
 */
import type { DateFormat } from '../adapters/config.ts';

const DATE_SHAPES: Record<DateFormat, RegExp> = {
  'yyyy-mm-dd': /^(?<y>\d{4})-(?<m>\d{1,2})-(?<d>\d{1,2})$/,
  'dd/mm/yyyy': /^(?<d>\d{1,2})\/(?<m>\d{1,2})\/(?<y>\d{4})$/,
  'dd-mm-yyyy': /^(?<d>\d{1,2})-(?<m>\d{1,2})-(?<y>\d{4})$/,
  'dd.mm.yyyy': /^(?<d>\d{1,2})\.(?<m>\d{1,2})\.(?<y>\d{4})$/,
  yyyymmdd: /^(?<y>\d{4})(?<m>\d{2})(?<d>\d{2})$/,
};

/**
 * A date in the source's format as `YYYY-MM-DD`, to compare as text; null
 * when it is not written in that format. The day is not checked: a system
 * that stored 31/02 compares it where its digits put it.
 */
export function isoOf(text: string, format: DateFormat): string | null {
  const g = DATE_SHAPES[format].exec(text)?.groups;
  return g ? `${g.y}-${g.m!.padStart(2, '0')}-${g.d!.padStart(2, '0')}` : null;
}
