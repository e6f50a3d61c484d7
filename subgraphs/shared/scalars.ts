import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';
import { z } from 'zod';

const isoDate = z.iso.date();

/** `YYYY-MM-DD`, checked to be a real day. */
export const DateScalar = new GraphQLScalarType({
  name: 'Date',
  serialize: (v) => String(v),
  parseValue: (v) => {
    if (typeof v !== 'string' || !isoDate.safeParse(v).success) throw new GraphQLError('Date must be YYYY-MM-DD', { extensions: { code: 'BAD_USER_INPUT' } });
    return v;
  },
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING || !isoDate.safeParse(ast.value).success) throw new GraphQLError('Date must be YYYY-MM-DD', { extensions: { code: 'BAD_USER_INPUT' } });
    return ast.value;
  },
});

const isoDateTime = z.iso.datetime({ offset: true });
const dateTimeError = () => new GraphQLError('DateTime must be ISO 8601 with a time zone, e.g. 2026-11-21T09:30:00Z', { extensions: { code: 'BAD_USER_INPUT' } });

export const DateTimeScalar = new GraphQLScalarType({
  name: 'DateTime',
  serialize: (v) => (v instanceof Date ? v.toISOString() : String(v)),
  parseValue: (v) => {
    if (typeof v !== 'string' || v.length > 40 || !isoDateTime.safeParse(v).success) throw dateTimeError();
    return v;
  },
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING || ast.value.length > 40 || !isoDateTime.safeParse(ast.value).success) throw dateTimeError();
    return ast.value;
  },
});

const yearMonth = /^\d{4}-(0[1-9]|1[0-2])$/;
const yearMonthError = () => new GraphQLError('YearMonth must be YYYY-MM, e.g. 2024-03', { extensions: { code: 'BAD_USER_INPUT' } });

/** `YYYY-MM`: the month of a date, as analysts see a person's dates. */
export const YearMonthScalar = new GraphQLScalarType({
  name: 'YearMonth',
  serialize: (v) => String(v),
  parseValue: (v) => {
    if (typeof v !== 'string' || !yearMonth.test(v)) throw yearMonthError();
    return v;
  },
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING || !yearMonth.test(ast.value)) throw yearMonthError();
    return ast.value;
  },
});

export interface MonthRangeInput {
  from?: string | null;
  to?: string | null;
}

/** A range of months as a condition on a date field; null when it does not limit anything. A range that ends before it starts is the client's mistake. */
export function monthRange(range: MonthRangeInput | null | undefined, name: string): { from?: string; to?: string } | null {
  if (!range || (!range.from && !range.to)) return null;
  if (range.from && range.to && range.from > range.to) {
    throw new GraphQLError(`${name}: from (${range.from}) is after to (${range.to})`, { extensions: { code: 'BAD_USER_INPUT' } });
  }
  return { ...(range.from ? { from: range.from } : {}), ...(range.to ? { to: range.to } : {}) };
}

/** The month of an ISO date; null for null. */
export function month(date: string | null): string | null {
  return date === null ? null : date.slice(0, 7);
}
