/**
 * Paging across cities. Records are ordered by city code, then in each city's
 * own order; a position is a city and an offset in that city's records.
 *
 * Each city is counted once per walk: the cursor carries every count, so
 * later pages ask only for records, and the walk's total stays the same from
 * page to page unless a city that could not be counted is counted later.
 *
 * A city that fails is stepped over, never waited on page after page. If its
 * failure may pass (a lost connection, a bad answer), the cursor says from
 * which position its records are still owed, and the next pages ask for them
 * first, up to MAX_ATTEMPTS pages; a timeout, or a failure that will not
 * pass (no configuration, refused credentials, an open circuit), is not asked
 * again. Every page names the cities whose records are missing so far, and
 * the last page says exactly what the walk missed.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Where } from '../../adapters/port.ts';
import type { CityError } from '../../schema/errors.ts';
import type { FanOut } from '../shared/fan-out.ts';

/** A city stepped over: from which position its records were not read, and why. */
export interface Skipped {
  city: string;
  offset: number;
  code: string;
  /** What went wrong, in words (never anything the city sent). */
  detail: string;
  /** Pages in a row on which reading it failed. */
  attempts: number;
  /** Its records are still owed: the next page asks for them again. */
  owed: boolean;
}

export interface Cursor {
  /** The next record to read: a city, and a position among its records. */
  city: string;
  offset: number;
  /** Digest of the question the cursor was issued for. */
  filter: string;
  skipped: Skipped[];
  /** How many positions each city counted so far spans for the question: counted once per walk. */
  totals: Record<string, number>;
  /**
   * Per city counted, how many valid records it holds for the question (the
   * nodes a walk returns) and how many of its records were rejected, when
   * the count told (a city's positions may include rejected records).
   */
  figures: Record<string, { valid: number; rejected: number }>;
}

/** Pages in a row on which a city's owed records may fail before the walk gives them up. */
export const MAX_ATTEMPTS = 3;

/** Marks a city as read to its end, whatever its count. */
const PAST_END = Number.MAX_SAFE_INTEGER;

/** A failure that may pass by the next page; a timeout is not waited for again, and an open circuit says the city is known to be down. */
export function mayPass(e: CityError): boolean {
  return (e.code === 'CITY_UNAVAILABLE' || e.code === 'CITY_BAD_RESPONSE') && !e.detail.startsWith('circuit open');
}

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
      const skipped = c.skipped.map((s) => [s.city, s.offset, s.code, s.detail, s.attempts, s.owed ? 1 : 0]);
      const totals = Object.entries(c.totals).map(([city, n]) => {
        const f = c.figures[city];
        return f ? [city, n, f.valid, f.rejected] : [city, n];
      });
      const payload = Buffer.from(JSON.stringify([5, c.city, c.offset, c.filter, skipped, totals])).toString('base64url');
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

const count = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;

function decodePayload(text: string): Cursor | null {
  try {
    const v = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown;
    if (!Array.isArray(v) || v.length !== 6 || v[0] !== 5) return null;
    const [, city, offset, filter, skipped, totals] = v as [number, unknown, unknown, unknown, unknown, unknown];
    if (typeof city !== 'string' || !count(offset) || typeof filter !== 'string' || !Array.isArray(skipped) || !Array.isArray(totals)) return null;
    const list: Skipped[] = [];
    for (const s of skipped as unknown[]) {
      if (!Array.isArray(s) || typeof s[0] !== 'string' || !count(s[1]) || typeof s[2] !== 'string' || typeof s[3] !== 'string' || !count(s[4]) || (s[5] !== 0 && s[5] !== 1)) return null;
      list.push({ city: s[0], offset: s[1], code: s[2], detail: s[3], attempts: s[4], owed: s[5] === 1 });
    }
    const byCity: Record<string, number> = {};
    const figures: Cursor['figures'] = {};
    for (const t of totals as unknown[]) {
      if (!Array.isArray(t) || typeof t[0] !== 'string' || !count(t[1])) return null;
      byCity[t[0]] = t[1];
      if (t.length === 4 && count(t[2]) && count(t[3])) figures[t[0]] = { valid: t[2], rejected: t[3] };
      else if (t.length !== 2) return null;
    }
    return { city, offset, filter, skipped: list, totals: byCity, figures };
  } catch {
    return null;
  }
}

export interface CityCount<T> {
  /** Positions the city spans for the question. */
  total: number;
  /** Valid records among them (the nodes a walk returns), when the count knows; else `total`. */
  valid?: number;
  /** Records of the city that were rejected, when the count knows. */
  rejected?: number;
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
  countWithSlice?: (city: string, offset: number, limit: number) => Promise<{ total: number; valid?: number; rejected?: number } & CitySlice<T>>;
}

export interface PageResult<T> {
  nodes: T[];
  /** Valid records held by every city counted in the walk so far: the nodes a full walk returns. */
  totalCount: number;
  /** Records of the cities counted so far that were rejected, and are in no page. */
  rejected: number;
  end: Cursor;
  hasNextPage: boolean;
  /** Cities that failed in this request. */
  failures: CityError[];
}

interface Read<T> {
  total: number;
  items: T[];
  nextOffset: number;
}

export async function readPage<T>(req: PageRequest<T>): Promise<PageResult<T>> {
  const { first, start } = req;
  const totals = new Map(Object.entries(start.totals));
  const figures = new Map(Object.entries(start.figures));
  const counted = (city: string, c: { total: number; valid?: number; rejected?: number }) => {
    totals.set(city, c.total);
    figures.set(city, { valid: c.valid ?? c.total, rejected: c.rejected ?? 0 });
  };
  const skipped = start.skipped.map((s) => ({ ...s }));
  const nodes: T[] = [];
  const failures: CityError[] = [];
  let remaining = first;

  /** `limit` records of a city from `offset`, with its total: counted now if this walk has not counted it yet. */
  const read = async (city: string, offset: number, limit: number): Promise<Read<T>> => {
    const known = totals.get(city);
    if (known !== undefined) return { total: known, ...(await req.slice(city, offset, Math.max(0, Math.min(limit, known - offset)))) };
    if (req.countWithSlice) {
      const r = await req.countWithSlice(city, offset, limit);
      counted(city, r);
      return r;
    }
    const c = await req.count(city);
    counted(city, c);
    if (c.items) {
      const items = c.items.slice(offset, offset + limit);
      return { total: c.total, items, nextOffset: offset + items.length };
    }
    return { total: c.total, ...(await req.slice(city, offset, Math.max(0, Math.min(limit, c.total - offset)))) };
  };
  const failed = (s: Skipped, f: CityError) => {
    failures.push(f);
    s.attempts++;
    s.code = f.code;
    s.detail = f.detail;
    if (!mayPass(f) || s.attempts >= MAX_ATTEMPTS) s.owed = false;
  };

  // 1. Records still owed by cities stepped over on earlier pages, first.
  for (const s of skipped) {
    if (!s.owed || remaining === 0) continue;
    const got = await req.ask([s.city], (city) => read(city, s.offset, remaining));
    const answer = got.answers[0]?.value;
    if (!answer) {
      failed(s, got.failures[0]!);
      continue;
    }
    // A read that asked for records and got none means the city now holds fewer than it counted: it owes nothing more.
    const total = answer.nextOffset === s.offset ? s.offset : answer.total;
    if (!figures.has(s.city)) figures.set(s.city, { valid: total, rejected: 0 });
    totals.set(s.city, total);
    nodes.push(...answer.items);
    remaining -= answer.nextOffset - s.offset;
    s.offset = answer.nextOffset;
    // Attempts count failures in a row: a city that answers again gets its full share of patience.
    s.attempts = 0;
  }
  // A city whose owed records have all been read is no longer missing.
  const stillSkipped = skipped.filter((s) => !(s.owed && s.offset >= (totals.get(s.city) ?? PAST_END)));
  skipped.length = 0;
  skipped.push(...stillSkipped);

  // 2. The walk goes on from the cursor. Only the cities not counted yet are counted.
  const isSkipped = (c: string) => skipped.some((s) => s.city === c);
  const skip = (city: string, offset: number, f: CityError) => {
    const s: Skipped = { city, offset, code: f.code, detail: f.detail, attempts: 0, owed: true };
    failed(s, f);
    skipped.push(s);
  };
  const pending = req.cities.filter((c) => (c > start.city || (c === start.city && start.offset < PAST_END)) && !isSkipped(c));
  const head = pending[0];
  const headOffset = head === start.city ? start.offset : 0;
  const counts = await req.ask(
    pending.filter((c) => !totals.has(c)),
    (city): Promise<CityCount<T>> => {
      if (city !== head || remaining === 0 || !req.countWithSlice) return req.count(city);
      return req.countWithSlice(city, headOffset, remaining).then((r) => ({ total: r.total, valid: r.valid, rejected: r.rejected, head: { items: r.items, nextOffset: r.nextOffset } }));
    },
  );
  const fetched = new Map(counts.answers.map((a) => [a.city, a.value]));
  for (const [city, c] of fetched) counted(city, c);
  const failedNow = new Map(counts.failures.map((f) => [f.city, f]));
  // A city that will not answer soon is stepped over at once, wherever it stands: no later page waits for it.
  for (const [city, f] of failedNow) if (!mayPass(f)) skip(city, city === start.city ? start.offset : 0, f);

  // Plan the slices this page spans, stepping over cities that did not answer.
  const plan: Array<{ city: string; offset: number; limit: number }> = [];
  let end: Cursor = { ...start, skipped, totals: {} };
  for (const city of pending) {
    if (remaining === 0) break;
    const offset = city === start.city ? start.offset : 0;
    const failure = failedNow.get(city);
    if (failure) {
      if (!isSkipped(city)) skip(city, offset, failure);
      end = { ...end, city, offset: PAST_END };
      continue;
    }
    const limit = Math.min(totals.get(city)! - offset, remaining);
    if (limit <= 0) continue;
    plan.push({ city, offset, limit });
    remaining -= limit;
  }

  // Read them: from the counts when those hold the records, else concurrently.
  const slices = await req.ask(
    plan.map((p) => p.city),
    (city) => {
      const p = plan.find((x) => x.city === city)!;
      const c = fetched.get(city);
      if (c?.items) return Promise.resolve({ items: c.items.slice(p.offset, p.offset + p.limit), nextOffset: p.offset + p.limit });
      // The first city of the page was read with its count, from the same offset and for at least this many records.
      if (c?.head && p.offset === headOffset) return Promise.resolve(c.head);
      return req.slice(city, p.offset, p.limit);
    },
  );
  for (const p of plan) {
    const slice = slices.answers.find((a) => a.city === p.city);
    let offset = PAST_END;
    if (slice) {
      nodes.push(...slice.value.items);
      // A slice that moved nowhere means the city holds fewer records than it counted: it is done, at what it holds.
      if (slice.value.nextOffset === p.offset) totals.set(p.city, p.offset);
      // A city read to its last record is done: it is not asked again.
      else if (slice.value.nextOffset < totals.get(p.city)!) offset = slice.value.nextOffset;
    } else {
      skip(p.city, p.offset, slices.failures.find((f) => f.city === p.city)!);
    }
    if (end.city <= p.city) end = { ...end, city: p.city, offset };
  }

  const done = (c: string) => c < end.city || (c === end.city && end.offset === PAST_END);
  const hasNextPage =
    skipped.some((s) => s.owed) ||
    pending.some((c) => {
      if (done(c) || isSkipped(c)) return false;
      const total = totals.get(c);
      // Not counted (it failed, and may answer next time): the next page asks it.
      if (total === undefined) return true;
      return total > (c === end.city ? end.offset : 0);
    });
  end = { ...end, skipped, totals: Object.fromEntries(totals), figures: Object.fromEntries(figures) };
  let totalCount = 0;
  let rejected = 0;
  for (const [city, n] of totals) {
    const f = figures.get(city);
    totalCount += f ? f.valid : n;
    rejected += f?.rejected ?? 0;
  }
  return { nodes, totalCount, rejected, end, hasNextPage, failures: [...failures, ...counts.failures.filter((f) => !failures.includes(f))] };
}
