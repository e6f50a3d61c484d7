import { describe, expect, it } from 'vitest';
import { CityError } from '../../schema/errors.ts';
import type { FanOut } from '../shared/fan-out.ts';
import { createCursorCodec, MAX_ATTEMPTS, readPage, type Cursor, type PageRequest } from './paging.ts';

const cursors = createCursorCodec(Buffer.alloc(32, 7));
const roundTrip = (c: Cursor) => cursors.decode(cursors.encode(c, 'analyst'), 'analyst') as Cursor;

/**
 * Cities with known records; `fail` decides, per call, whether a city fails:
 * `true` fails a count as CITY_UNAVAILABLE and a slice as CITY_TIMEOUT, a
 * code fails either with that code.
 */
function world(sizes: Record<string, number>) {
  const records = new Map(Object.entries(sizes).map(([city, n]) => [city, Array.from({ length: n }, (_, i) => `${city}:${i}`)]));
  const calls: string[] = [];
  let fail: (city: string, phase: 'count' | 'slice') => boolean | 'CITY_UNAVAILABLE' | 'CITY_TIMEOUT' = () => false;
  const failure = (city: string, phase: 'count' | 'slice') => {
    const f = fail(city, phase);
    if (!f) return null;
    const code = f === true ? (phase === 'count' ? 'CITY_UNAVAILABLE' : 'CITY_TIMEOUT') : f;
    return new CityError(code, city, code === 'CITY_UNAVAILABLE' ? 'down' : 'slow');
  };
  const ask = async <R>(cities: readonly string[], fn: (city: string) => Promise<R>): Promise<FanOut<R>> => {
    const settled = await Promise.allSettled(cities.map(fn));
    const out: FanOut<R> = { answers: [], failures: [] };
    settled.forEach((s, i) => {
      if (s.status === 'fulfilled') out.answers.push({ city: cities[i]!, value: s.value });
      else out.failures.push(s.reason as CityError);
    });
    return out;
  };
  const request = (start: Cursor, first: number): PageRequest<string> => ({
    cities: [...records.keys()].sort(),
    first,
    start,
    ask,
    count: async (city) => {
      calls.push(`count ${city}`);
      const f = failure(city, 'count');
      if (f) throw f;
      return { total: records.get(city)!.length };
    },
    slice: async (city, offset, limit) => {
      calls.push(`slice ${city} ${offset}+${limit}`);
      const f = failure(city, 'slice');
      if (f) throw f;
      const items = records.get(city)!.slice(offset, offset + limit);
      return { items, nextOffset: offset + items.length };
    },
  });
  const begin: Cursor = { city: [...records.keys()].sort()[0]!, offset: 0, filter: 'f', skipped: [], totals: {}, figures: {} };
  /** Follows endCursor until hasNextPage is false; at most 1000 pages. */
  async function walk(first: number, onPage: (n: number) => void = () => {}, from: Cursor = begin) {
    const seen: string[] = [];
    let start = from;
    let last: Cursor = begin;
    for (let n = 1; n <= 1000; n++) {
      onPage(n);
      const page = await readPage(request(start, first));
      seen.push(...page.nodes);
      last = page.end;
      if (!page.hasNextPage) return { seen, end: last, pages: n };
      start = roundTrip(page.end);
    }
    throw new Error('the walk did not end');
  }
  return { records, calls, walk, request, begin, setFail: (f: typeof fail) => (fail = f) };
}

describe('paging across cities', () => {
  it.each([1, 7, 100, 500])('visits every record exactly once, in order, with pages of %i', async (first) => {
    const w = world({ '000001': 120, '000002': 0, '000003': 57, '000004': 3 });
    const { seen, end } = await w.walk(first);
    expect(seen).toEqual([...w.records.values()].flat());
    expect(end.skipped).toEqual([]);
  });

  it('reads a page spanning several cities with one slice request per city', async () => {
    const w = world({ '000001': 10, '000002': 10, '000003': 10 });
    const page = await readPage(w.request({ ...w.begin, offset: 5 }, 20));
    expect(page.nodes).toHaveLength(20);
    expect(w.calls.filter((c) => c.startsWith('slice')).sort()).toEqual(['slice 000001 5+5', 'slice 000002 0+10', 'slice 000003 0+5']);
    expect(page.totalCount).toBe(30);
  });

  it('steps over a city that fails in the middle of its records, and reads them on a later page once it answers again', async () => {
    const w = world({ '000001': 30, '000002': 30, '000003': 30 });
    // City 000002 goes down after the first page has read 10 of its records.
    w.setFail(() => false);
    const page1 = await readPage(w.request(w.begin, 40));
    expect(page1.end).toMatchObject({ city: '000002', offset: 10 });
    w.setFail((city) => (city === '000002' ? 'CITY_UNAVAILABLE' : false));
    const page2 = await readPage(w.request(page1.end, 40));
    // Its share of the page (20 records) was asked for and failed; the rest of the page goes on to 000003.
    expect(page2.nodes).toEqual(w.records.get('000003')!.slice(0, 20));
    expect(page2.end.skipped).toEqual([{ city: '000002', offset: 10, code: 'CITY_UNAVAILABLE', detail: 'down', attempts: 1, owed: true }]);
    // Its records are owed: the walk goes on.
    expect(page2.hasNextPage).toBe(true);
    w.setFail(() => false);
    const page3 = await readPage(w.request(page2.end, 40));
    // The owed records first, then the walk where it stood.
    expect(page3.nodes).toEqual([...w.records.get('000002')!.slice(10), ...w.records.get('000003')!.slice(20)]);
    expect(page3.end.skipped).toEqual([]);
    expect(page3.hasNextPage).toBe(false);
    expect([page1.totalCount, page2.totalCount, page3.totalCount]).toEqual([90, 90, 90]);
  });

  it('gives owed records up after a few pages, and names them to the end of the walk', async () => {
    const w = world({ '000001': 30, '000002': 30 });
    const page1 = await readPage(w.request(w.begin, 40));
    w.setFail((city) => (city === '000002' ? 'CITY_UNAVAILABLE' : false));
    const { seen, end, pages } = await w.walk(40, () => {}, page1.end);
    expect(seen).toEqual([]);
    expect(end.skipped).toEqual([{ city: '000002', offset: 10, code: 'CITY_UNAVAILABLE', detail: 'down', attempts: MAX_ATTEMPTS, owed: false }]);
    expect(pages).toBe(MAX_ATTEMPTS);
  });

  it('ends the walk when a city that owes records turns out to hold fewer than it counted', async () => {
    const w = world({ '000001': 10, '000002': 10 });
    const page1 = await readPage(w.request(w.begin, 5));
    w.setFail((city) => (city === '000001' ? 'CITY_UNAVAILABLE' : false));
    const page2 = await readPage(w.request(page1.end, 5));
    expect(page2.end.skipped).toMatchObject([{ city: '000001', offset: 5, owed: true }]);
    w.setFail(() => false);
    w.records.get('000001')!.length = 7;
    const { seen, end, pages } = await w.walk(5, () => {}, page2.end);
    expect(pages).toBeLessThan(10);
    expect(end.skipped).toEqual([]);
    expect(seen).toContain('000001:6');
  });

  it('ends the walk when the last city holds fewer records than it counted', async () => {
    const w = world({ '000001': 10, '000002': 10 });
    const page1 = await readPage(w.request(w.begin, 12));
    w.records.get('000002')!.length = 7;
    const { seen, pages } = await w.walk(5, () => {}, page1.end);
    expect(seen).toEqual(['000002:2', '000002:3', '000002:4', '000002:5', '000002:6']);
    expect(pages).toBeLessThan(5);
  });

  it('loses no record of a city that fails every other request', async () => {
    const w = world({ '000001': 50, '000002': 200, '000003': 50 });
    let n = 0;
    w.setFail((city) => (city === '000002' && n++ % 2 === 0 ? 'CITY_UNAVAILABLE' : false));
    const { seen, end } = await w.walk(30);
    expect([...seen].sort()).toEqual([...w.records.values()].flat().sort());
    expect(seen.length).toBe(300);
    expect(end.skipped).toEqual([]);
  });

  it('ends the walk when a city counts but never serves its records, instead of asking it forever', async () => {
    const w = world({ '000001': 30, '000002': 30, '000003': 30 });
    w.setFail((city, phase) => city === '000001' && phase === 'slice');
    const { seen, end, pages } = await w.walk(25);
    expect(seen).toEqual([...w.records.get('000002')!, ...w.records.get('000003')!]);
    expect(end.skipped).toEqual([{ city: '000001', offset: 0, code: 'CITY_TIMEOUT', detail: 'slow', attempts: 1, owed: false }]);
    expect(pages).toBeLessThanOrEqual(4);
  });

  it('ends the walk when the last city is down, naming it', async () => {
    const w = world({ '000001': 30, '000002': 30 });
    w.setFail((city) => city === '000002');
    const { seen, end } = await w.walk(30);
    expect(seen).toEqual(w.records.get('000001'));
    expect(end.skipped).toEqual([{ city: '000002', offset: 0, code: 'CITY_UNAVAILABLE', detail: 'down', attempts: MAX_ATTEMPTS, owed: false }]);
  });

  it('with first = 0 reads nothing and says whether records follow', async () => {
    const w = world({ '000001': 3 });
    const page = await readPage(w.request(w.begin, 0));
    expect(page).toMatchObject({ nodes: [], totalCount: 3, hasNextPage: true });
    expect(w.calls.some((c) => c.startsWith('slice'))).toBe(false);
  });

  it('asks the city at the cursor for its count and its slice in one request', async () => {
    const w = world({ '000001': 30, '000002': 30 });
    const req = w.request({ ...w.begin, offset: 5 }, 10);
    const page = await readPage({
      ...req,
      countWithSlice: async (city, offset, limit) => {
        w.calls.push(`count+slice ${city} ${offset}+${limit}`);
        const items = w.records.get(city)!.slice(offset, offset + limit);
        return { total: 30, items, nextOffset: offset + items.length };
      },
    });
    expect(page.nodes).toEqual(w.records.get('000001')!.slice(5, 15));
    expect(w.calls.sort()).toEqual(['count 000002', 'count+slice 000001 5+10']);
    expect(page.end).toMatchObject({ city: '000001', offset: 15 });
  });

  it('slices the records a filtered count already holds, without asking again', async () => {
    const w = world({ '000001': 10, '000002': 10 });
    const req = w.request(w.begin, 15);
    const page = await readPage({ ...req, count: async (city) => ({ total: 10, items: w.records.get(city)! }) });
    expect(page.nodes).toEqual([...w.records.get('000001')!, ...w.records.get('000002')!.slice(0, 5)]);
    expect(w.calls).toEqual([]);
  });
});

describe('paging across cities, on later pages', () => {
  it('counts each city once per walk, and asks again only the cities that owe records', async () => {
    const w = world({ '000001': 10, '000002': 10, '000003': 10 });
    w.setFail((city) => city === '000002');
    const page1 = await readPage(w.request(w.begin, 10));
    expect(page1.end.totals).toEqual({ '000001': 10, '000003': 10 });
    w.calls.length = 0;
    const page2 = await readPage(w.request(page1.end, 10));
    expect(page2.nodes).toEqual(w.records.get('000003'));
    // 000003 was counted on the first page: only its slice is asked for now.
    expect(w.calls.sort()).toEqual(['count 000002', 'slice 000003 0+10']);
    w.calls.length = 0;
    // The next page asks only the city that owes records, never those read to their end.
    const page3 = await readPage(w.request(page2.end, 10));
    expect(w.calls).toEqual(['count 000002']);
    expect(page3).toMatchObject({ nodes: [], totalCount: 20 });
  });

  it('does not wait again for a city that timed out, wherever it stands in the walk', async () => {
    const w = world({ '000001': 10, '000002': 10, '000003': 10 });
    const req = w.request(w.begin, 5);
    const page1 = await readPage({ ...req, count: async (city) => (city === '000003' ? Promise.reject(new CityError('CITY_TIMEOUT', city, 'slow')) : req.count(city)) });
    expect(page1.end.skipped).toEqual([{ city: '000003', offset: 0, code: 'CITY_TIMEOUT', detail: 'slow', attempts: 1, owed: false }]);
    w.calls.length = 0;
    await readPage(w.request(page1.end, 5));
    expect(w.calls.some((c) => c.includes('000003'))).toBe(false);
  });

  it('keeps the walk\'s total on every page although it asks only the cities ahead', async () => {
    const w = world({ '000001': 10, '000002': 10, '000003': 10 });
    const totals: number[] = [];
    let start = w.begin;
    for (let n = 0; n < 5; n++) {
      const page = await readPage(w.request(start, 7));
      totals.push(page.totalCount);
      if (!page.hasNextPage) break;
      start = page.end;
    }
    expect(totals).toEqual([30, 30, 30, 30, 30]);
  });

  it('does not name a city read to its last record when it fails after', async () => {
    const w = world({ '000001': 10, '000002': 5 });
    const page1 = await readPage(w.request(w.begin, 10));
    w.setFail((city) => city === '000001');
    const page2 = await readPage(w.request(page1.end, 10));
    expect(page2.nodes).toEqual(w.records.get('000002'));
    expect(page2.end.skipped).toEqual([]);
    expect(page2.failures).toEqual([]);
  });

  it('with first = 0 on a city that is down still says records may follow', async () => {
    const w = world({ '000001': 10, '000002': 5 });
    const page1 = await readPage(w.request(w.begin, 12));
    w.setFail((city) => city === '000002');
    const page2 = await readPage(w.request(page1.end, 0));
    expect(page2.hasNextPage).toBe(true);
  });
});

describe('cursors', () => {
  const c: Cursor = { city: '015146', offset: 500, filter: 'abc', skipped: [{ city: '001272', offset: 42, code: 'CITY_TIMEOUT', detail: 'no complete answer within 10000 ms', attempts: 1, owed: false }], totals: { '001272': 100, '015146': 1134 }, figures: { '015146': { valid: 1130, rejected: 4 } } };

  it('survive the round trip, skipped cities included', () => {
    expect(roundTrip(c)).toEqual(c);
  });

  it.each(['', 'not-a-cursor', Buffer.from('[4,"015146",0,"abc",[],[]]').toString('base64url'), 'a.b.c', 'x'.repeat(100_000)])(
    'are refused when not issued by this API: %s',
    (text) => {
      expect(cursors.decode(text, 'analyst')).toHaveProperty('refused');
    },
  );

  it('are refused when altered, even by one character of the payload', () => {
    const text = cursors.encode(c, 'analyst');
    const [payload, sig] = text.split('.') as [string, string];
    const forged = Buffer.from(JSON.stringify([4, '015146', 500, 'abc', [], [['015146', 123462188]]])).toString('base64url');
    expect(cursors.decode(`${forged}.${sig}`, 'analyst')).toEqual({ refused: expect.stringMatching(/altered/) });
    const flipped = payload.slice(0, -1) + (payload.endsWith('A') ? 'B' : 'A');
    expect(cursors.decode(`${flipped}.${sig}`, 'analyst')).toHaveProperty('refused');
  });

  it('are refused when issued to another caller, or signed with another key', () => {
    const text = cursors.encode(c, 'operator|082053');
    expect(cursors.decode(text, 'operator|015146')).toHaveProperty('refused');
    expect(cursors.decode(text, 'analyst')).toHaveProperty('refused');
    expect(createCursorCodec(Buffer.alloc(32, 8)).decode(text, 'operator|082053')).toHaveProperty('refused');
    expect(cursors.decode(text, 'operator|082053')).toEqual(c);
  });
});
