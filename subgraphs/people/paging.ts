/**
 * Paging across cities. Records are ordered by city code, then in each city's
 * own order; a position is a city and an offset in that city's records.
 *
 * A page asks every city still ahead of the cursor how many records it holds
 * (concurrently), plans the slices the page spans, and reads them
 * (concurrently). A city that fails is stepped over, never waited on page
 * after page: the cursor remembers where it was left, and every later page
 * names it in its coverage, so a walk always ends and an incomplete walk says
 * so to the end. Cities behind the cursor are not asked again; the cursor
 * carries how many records they held.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Where } from '../../adapters/port.ts';
import type { CityError } from '../../schema/errors.ts';
import type { FanOut } from '../shared/fan-out.ts';

/** A city stepped over: where its unread records start, and why. */
export interface Skipped {
  city: string;
  offset: number;
  code: string;
  /** What went wrong, in words (never anything the city sent). */
  detail: string;
}

export interface Cursor {
  /** The next record to read: a city, and a position among its records. */
  city: string;
  offset: number;
  /** Digest of the question the cursor was issued for. */
  filter: string;
  skipped: Skipped[];
  /** Records held by the cities already read to their end (they are not asked again). */
  counted: number;
}

/** Marks a city as read to its end, whatever its count. */
const PAST_END = Number.MAX_SAFE_INTEGER;

export function filterDigest(cities: readonly string[], where: Where): string {
  return createHash('sha256').update(JSON.stringify([cities, where])).digest('base64url').slice(0, 12);
}

/**
 * Cursors are signed (HMAC-SHA256) and bound to who asked and what: a cursor
 * carries counts and reasons that the answer repeats, so one a client forged
 * or altered, or one issued to another role or for another question, is
 * refused rather than believed.
 */
export interface CursorCodec {
  /** `binding` names the caller (role, city) the cursor is issued to. */
  encode(c: Cursor, binding: string): string;
  /** The cursor, or why it is refused. */
  decode(text: string, binding: string): Cursor | { refused: string };
}

/** Longest cursor accepted, in characters: a walk steps over at most every city. */
const MAX_CURSOR_LENGTH = 16_384;

export function createCursorCodec(key: Buffer): CursorCodec {
  const mac = (binding: string, payload: string) => createHmac('sha256', key).update(binding).update('\n').update(payload).digest('base64url');
  return {
    encode(c, binding) {
      const payload = Buffer.from(JSON.stringify([3, c.city, c.offset, c.filter, c.skipped.map((s) => [s.city, s.offset, s.code, s.detail]), c.counted])).toString('base64url');
      return `${payload}.${mac(binding, payload)}`;
    },
    decode(text, binding) {
      if (typeof text !== 'string' || text.length > MAX_CURSOR_LENGTH) return { refused: 'after is not a cursor this API issued' };
      const [payload, signature, ...rest] = text.split('.');
      if (!payload || !signature || rest.length) return { refused: 'after is not a cursor this API issued' };
      const expected = Buffer.from(mac(binding, payload));
      const given = Buffer.from(signature);
      if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
        return { refused: 'after is not a cursor this API issued to you: it was altered, or issued to another caller' };
      }
      return decodePayload(payload) ?? { refused: 'after is not a cursor this API issued' };
    },
  };
}

function decodePayload(text: string): Cursor | null {
  try {
    const v = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown;
    if (!Array.isArray(v) || v.length !== 6 || v[0] !== 3) return null;
    const [, city, offset, filter, skipped, counted] = v as [number, unknown, unknown, unknown, unknown, unknown];
    if (typeof city !== 'string' || !Number.isSafeInteger(offset) || (offset as number) < 0 || typeof filter !== 'string' || !Array.isArray(skipped)) return null;
    if (!Number.isSafeInteger(counted) || (counted as number) < 0) return null;
    const list: Skipped[] = [];
    for (const s of skipped as unknown[]) {
      if (!Array.isArray(s) || typeof s[0] !== 'string' || !Number.isSafeInteger(s[1]) || typeof s[2] !== 'string' || typeof s[3] !== 'string') return null;
      list.push({ city: s[0], offset: s[1], code: s[2], detail: s[3] });
    }
    return { city, offset: offset as number, filter, skipped: list, counted: counted as number };
  } catch {
    return null;
  }
}

export interface CityCount<T> {
  total: number;
  /** Every matching record, when counting needed them all anyway (filtered questions). */
  items?: T[];
  /** The page's first slice, when it came with the count (the city at the cursor). */
  head?: CitySlice<T>;
}

export interface CitySlice<T> {
  items: T[];
  /** Position just past the slice. */
  nextOffset: number;
}

export interface PageRequest<T> {
  /** Cities asked, in code order. */
  cities: readonly string[];
  first: number;
  start: Cursor;
  ask: <R>(cities: readonly string[], fn: (city: string) => Promise<R>) => Promise<FanOut<R>>;
  count: (city: string) => Promise<CityCount<T>>;
  slice: (city: string, offset: number, limit: number) => Promise<CitySlice<T>>;
  /**
   * A slice that also gives the city's total. When given, the city at the
   * cursor is asked for its count and the page's first slice in one request,
   * so a page within one city costs that city a single round trip.
   */
  countWithSlice?: (city: string, offset: number, limit: number) => Promise<{ total: number } & CitySlice<T>>;
}

export interface PageResult<T> {
  nodes: T[];
  /** Records held by the cities that answered: those read earlier in the walk, and those asked now. */
  totalCount: number;
  end: Cursor;
  hasNextPage: boolean;
  /** Cities that failed in this request. */
  failures: CityError[];
}

export async function readPage<T>(req: PageRequest<T>): Promise<PageResult<T>> {
  const { first, start } = req;
  const skipped = [...start.skipped];
  // Only the cities still ahead are asked: those read to their end, or stepped
  // over, are not asked again (a slow city must not cost every page its timeout).
  const pending = req.cities.filter(
    (c) => (c > start.city || (c === start.city && start.offset < PAST_END)) && !skipped.some((s) => s.city === c),
  );
  const head = pending[0];
  const headOffset = head === start.city ? start.offset : 0;
  const counts = await req.ask(pending, (city): Promise<CityCount<T>> => {
    if (city !== head || first === 0 || !req.countWithSlice) return req.count(city);
    return req.countWithSlice(city, headOffset, first).then((r) => ({ total: r.total, head: { items: r.items, nextOffset: r.nextOffset } }));
  });
  const answered = new Map(counts.answers.map((a) => [a.city, a.value]));
  const failedNow = new Map(counts.failures.map((f) => [f.city, f]));
  const skip = (city: string, offset: number, failure: CityError) => {
    if (!skipped.some((s) => s.city === city)) skipped.push({ city, offset, code: failure.code, detail: failure.detail });
  };

  // Plan the slices this page spans, stepping over cities that did not answer.
  const plan: Array<{ city: string; offset: number; limit: number }> = [];
  let end: Cursor = { ...start, skipped };
  let remaining = first;
  for (const city of pending) {
    if (remaining === 0) break;
    const offset = city === start.city ? start.offset : 0;
    const failure = failedNow.get(city);
    if (failure) {
      skip(city, offset, failure);
      end = { ...end, city, offset: PAST_END };
      continue;
    }
    const limit = Math.min(answered.get(city)!.total - offset, remaining);
    if (limit <= 0) continue;
    plan.push({ city, offset, limit });
    remaining -= limit;
  }

  // Read them: from the counts when those hold the records, else concurrently.
  const slices = await req.ask(
    plan.map((p) => p.city),
    (city) => {
      const p = plan.find((x) => x.city === city)!;
      const count = answered.get(city)!;
      if (count.items) return Promise.resolve({ items: count.items.slice(p.offset, p.offset + p.limit), nextOffset: p.offset + p.limit });
      // The first city of the page was read with its count, from the same offset and for at least this many records.
      if (count.head && p.offset === headOffset) return Promise.resolve(count.head);
      return req.slice(city, p.offset, p.limit);
    },
  );
  const nodes: T[] = [];
  for (const p of plan) {
    const slice = slices.answers.find((a) => a.city === p.city);
    let offset = PAST_END;
    if (slice) {
      nodes.push(...slice.value.items);
      // A city read to its last record is done: it is not asked again.
      if (slice.value.nextOffset < answered.get(p.city)!.total) offset = slice.value.nextOffset;
    } else {
      skip(p.city, p.offset, slices.failures.find((f) => f.city === p.city)!);
    }
    if (end.city <= p.city) end = { ...end, city: p.city, offset };
  }

  const done = (c: string) => c < end.city || (c === end.city && end.offset === PAST_END);
  let counted = start.counted;
  for (const [c, count] of answered) if (done(c)) counted += count.total;
  end = { ...end, counted };

  const hasNextPage = pending.some((c) => {
    if (done(c) || c < end.city) return false;
    const count = answered.get(c);
    if (!count) return true; // failed now: the next page steps over it, and names it
    return count.total > (c === end.city ? end.offset : 0);
  });
  return {
    nodes,
    totalCount: start.counted + counts.answers.reduce((n, a) => n + a.value.total, 0),
    end,
    hasNextPage,
    failures: [...counts.failures, ...slices.failures],
  };
}
