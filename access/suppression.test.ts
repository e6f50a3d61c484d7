import { describe, expect, it } from 'vitest';
import { solve } from '../test/disclosure.ts';
import { DEFAULT_THRESHOLD, suppressCount, suppressTable, type CountTable, type Relation } from './suppression.ts';

/**
 * What a reader can work out from a published table: while some relation has
 * exactly one withheld member, that member is its total minus the other
 * parts (or the sum of its parts). Returns every withheld cell so recovered.
 */
function recover(values: Record<string, number | null>, relations: readonly Relation[]): Record<string, number> {
  const known = new Map<string, number>();
  for (const [name, value] of Object.entries(values)) if (value !== null) known.set(name, value);
  const recovered: Record<string, number> = {};
  for (let changed = true; changed; ) {
    changed = false;
    for (const { total, parts } of relations) {
      const unknown = [total, ...parts].filter((name) => !known.has(name));
      if (unknown.length !== 1) continue;
      const cell = unknown[0]!;
      const others = parts.filter((part) => part !== cell).reduce((sum, part) => sum + known.get(part)!, 0);
      const value = cell === total ? others : known.get(total)! - others;
      known.set(cell, value);
      recovered[cell] = value;
      changed = true;
    }
  }
  return recovered;
}

/** A two-way table (rows by columns) with both margins and the grand total, as cells and relations. */
function twoWay(grid: number[][]): Required<Omit<CountTable, 'notPeople'>> {
  const cells: Record<string, number> = {};
  const relations: Relation[] = [];
  const columns = grid[0]!.map((_, j) => j);
  grid.forEach((row, i) => {
    row.forEach((v, j) => (cells[`r${i}c${j}`] = v));
    cells[`r${i}`] = row.reduce((a, b) => a + b, 0);
    relations.push({ total: `r${i}`, parts: columns.map((j) => `r${i}c${j}`) });
  });
  for (const j of columns) {
    cells[`c${j}`] = grid.reduce((n, row) => n + row[j]!, 0);
    relations.push({ total: `c${j}`, parts: grid.map((_, i) => `r${i}c${j}`) });
  }
  cells.all = grid.flat().reduce((a, b) => a + b, 0);
  relations.push({ total: 'all', parts: grid.map((_, i) => `r${i}`) }, { total: 'all', parts: columns.map((j) => `c${j}`) });
  return { cells, relations };
}

/** Seeded PRNG (mulberry32), so the random tables are the same on every run. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A figure broken down zero to two ways (by city, by channel, ...), each part
 * broken down again, a few levels deep; cut points are uniform, so small
 * parts and zeros are common.
 */
function randomTable(random: () => number): Required<Omit<CountTable, 'notPeople'>> {
  const int = (n: number) => Math.floor(random() * n);
  const cells: Record<string, number> = {};
  const relations: Relation[] = [];
  let next = 0;
  const grow = (name: string, value: number, depth: number): void => {
    cells[name] = value;
    const ways = depth >= 3 ? 0 : int(3);
    for (let way = 0; way < ways; way++) {
      const cuts = Array.from({ length: int(4) }, () => int(value + 1)).sort((a, b) => a - b);
      const values = [...cuts, value].map((cut, i) => cut - (i === 0 ? 0 : cuts[i - 1]!));
      const parts = values.map(() => `c${String(next++).padStart(3, '0')}`);
      relations.push({ total: name, parts });
      parts.forEach((part, i) => grow(part, values[i]!, depth + 1));
    }
  };
  grow(`c${String(next++).padStart(3, '0')}`, int(80), 0);
  return { cells, relations };
}

function shuffle<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('suppressCount', () => {
  it('withholds counts from 1 to 4 by default, and publishes 0 and 5 and more', () => {
    expect(DEFAULT_THRESHOLD).toBe(5);
    expect([0, 1, 2, 3, 4, 5, 6, 120].map((n) => suppressCount(n))).toEqual([0, null, null, null, null, 5, 6, 120]);
  });

  it('withholds only 1 and 2 with a threshold of 3', () => {
    expect([0, 1, 2, 3, 4].map((n) => suppressCount(n, { threshold: 3 }))).toEqual([0, null, null, 3, 4]);
  });
});

describe('suppressTable', () => {
  it('withholds the small cells of a table without relations, and nothing else', () => {
    const result = suppressTable({ cells: { a: 0, b: 4, c: 5, d: 1 } });
    expect(result).toEqual({ values: { a: 0, b: null, c: 5, d: null }, withheld: { b: 'small', d: 'small' } });
  });

  it('withholds the smallest other part of a total that has one small part, so the total cannot give it away', () => {
    const relations = [{ total: 'all', parts: ['roma', 'milano', 'bari', 'napoli'] }];
    const table = { cells: { all: 50, roma: 20, milano: 8, bari: 3, napoli: 19 }, relations };
    const result = suppressTable(table);
    expect(result.values).toEqual({ all: 50, roma: 20, milano: null, bari: null, napoli: 19 });
    expect(result.withheld).toEqual({ bari: 'small', milano: 'complementary' });
    expect(recover({ ...table.cells, bari: null }, relations)).toEqual({ bari: 3 });
    expect(recover(result.values, relations)).toEqual({});
  });

  it('breaks a tie between equally small complements by name', () => {
    const table = { cells: { all: 17, z: 2, b: 5, a: 5, c: 5 }, relations: [{ total: 'all', parts: ['z', 'c', 'b', 'a'] }] };
    expect(suppressTable(table).withheld).toEqual({ z: 'small', a: 'complementary' });
  });

  it('withholds a second reason when one rejection reason is small, and leaves received, accepted and rejected published', () => {
    const relations = [
      { total: 'received', parts: ['accepted', 'rejected'] },
      { total: 'rejected', parts: ['noDocuments', 'outOfArea', 'duplicate'] },
    ];
    const cells = { received: 40, accepted: 25, rejected: 15, noDocuments: 2, outOfArea: 6, duplicate: 7 };
    const result = suppressTable({ cells, relations });
    expect(result.values).toEqual({ ...cells, noDocuments: null, outOfArea: null });
    expect(result.withheld).toEqual({ noDocuments: 'small', outOfArea: 'complementary' });
    expect(recover(result.values, relations)).toEqual({});
  });

  it('withholds accepted when rejected is itself small, so received minus accepted does not give rejected away', () => {
    const relations = [
      { total: 'received', parts: ['accepted', 'rejected'] },
      { total: 'rejected', parts: ['noDocuments', 'outOfArea'] },
    ];
    const cells = { received: 30, accepted: 27, rejected: 3, noDocuments: 3, outOfArea: 0 };
    const result = suppressTable({ cells, relations });
    expect(result.values).toEqual({ received: 30, accepted: null, rejected: null, noDocuments: null, outOfArea: 0 });
    expect(result.withheld).toEqual({ accepted: 'complementary', rejected: 'small', noDocuments: 'small' });
    expect(recover(result.values, relations)).toEqual({});
  });

  it('protects a small city in a national total broken down by city and by channel', () => {
    const relations = [
      { total: 'national', parts: ['roma', 'milano', 'bari'] },
      { total: 'national', parts: ['helpline', 'outreach', 'referral'] },
    ];
    const cells = { national: 30, roma: 18, milano: 10, bari: 2, helpline: 14, outreach: 9, referral: 7 };
    const result = suppressTable({ cells, relations });
    expect(result.values).toEqual({ ...cells, milano: null, bari: null });
    expect(result.withheld).toEqual({ bari: 'small', milano: 'complementary' });
    expect(recover(result.values, relations)).toEqual({});
  });

  it('carries a complement that lands on a subtotal down into that subtotal’s own breakdown', () => {
    const relations = [
      { total: 'national', parts: ['roma', 'milano', 'bari'] },
      { total: 'roma', parts: ['romaCentro', 'romaOstia'] },
    ];
    const cells = { national: 26, roma: 11, milano: 12, bari: 3, romaCentro: 5, romaOstia: 6 };
    const result = suppressTable({ cells, relations });
    expect(result.withheld).toEqual({ bari: 'small', roma: 'complementary', romaCentro: 'complementary' });
    expect(recover(result.values, relations)).toEqual({});
  });

  it('withholds a total rather than a zero part when every other part is zero, in a city-by-age table', () => {
    const relations = [
      { total: 'roma', parts: ['romaMinors', 'romaAdults'] },
      { total: 'milano', parts: ['milanoMinors', 'milanoAdults'] },
      { total: 'minors', parts: ['romaMinors', 'milanoMinors'] },
      { total: 'adults', parts: ['romaAdults', 'milanoAdults'] },
    ];
    const cells = { roma: 11, milano: 8, minors: 9, adults: 10, romaMinors: 9, romaAdults: 2, milanoMinors: 0, milanoAdults: 8 };
    const result = suppressTable({ cells, relations });
    expect(result.withheld).toEqual({
      romaAdults: 'small',
      romaMinors: 'complementary',
      milanoAdults: 'complementary',
      milano: 'complementary',
      minors: 'complementary',
    });
    expect(result.values).toMatchObject({ roma: 11, adults: 10, milanoMinors: 0 });
    expect(recover(result.values, relations)).toEqual({});
  });

  it('leaves no relation of a few hundred random tables with a single withheld member', () => {
    const random = prng(20240617);
    for (let n = 0; n < 300; n++) {
      const threshold = 2 + Math.floor(random() * 5);
      const table = randomTable(random);
      const { values, withheld } = suppressTable(table, { threshold });
      for (const { total, parts } of table.relations) {
        const hidden = [total, ...parts].filter((name) => values[name] === null).length;
        expect(hidden === 0 || hidden >= 2, `table ${n}, relation ${total}`).toBe(true);
      }
      for (const [name, value] of Object.entries(table.cells)) {
        if (value === 0) expect(values[name], `table ${n}, cell ${name}`).toBe(0);
        if (value >= 1 && value < threshold) expect(withheld[name], `table ${n}, cell ${name}`).toBe('small');
        else if (values[name] !== null) expect(values[name]).toBe(value);
        expect(values[name] === null, `table ${n}, cell ${name}`).toBe(name in withheld);
      }
      // Each cell here has at most one parent relation, so peeling is all a linear attack can do.
      expect(recover(values, table.relations), `table ${n}`).toEqual({});
    }
  });

  it('withholds one more cell where relations that each keep two unknowns, combined, would pin a small cell down', () => {
    const table = twoWay([
      [11, 22, 18, 2],
      [9, 23, 8, 6],
      [4, 9, 4, 22],
      [13, 11, 3, 20],
    ]);
    // Withholding one more member of every relation left with a single unknown leaves these: two
    // cycles of withheld cells joined by r2c0 alone, so that r2c0 (a small 4) can be solved for.
    const byRelationsAlone = ['r0c3', 'r2c0', 'r2c2', 'r3c2', 'r1c0', 'r1c3', 'r0c0', 'r3c1', 'r2c1'];
    const naive = Object.fromEntries(Object.entries(table.cells).map(([k, v]) => [k, byRelationsAlone.includes(k) ? null : v]));
    expect(recover(naive, table.relations)).toEqual({});
    expect(solve(naive, table.relations)).toEqual({ r2c0: 4 });

    const result = suppressTable(table);
    expect(Object.keys(result.withheld).sort()).toEqual([...byRelationsAlone, 'r3c0'].sort());
    expect(solve(result.values, table.relations)).toEqual({});
  });

  it('leaves nothing that all the relations of a two-way table together can solve for, in a few hundred random tables', () => {
    const random = prng(4242);
    let protectedMore = 0;
    for (let n = 0; n < 300; n++) {
      const rows = 2 + Math.floor(random() * 5);
      const cols = 2 + Math.floor(random() * 4);
      const grid = Array.from({ length: rows }, () => Array.from({ length: cols }, () => (random() < 0.3 ? Math.floor(random() * 5) : 5 + Math.floor(random() * 30))));
      const table = twoWay(grid);
      const { values, withheld } = suppressTable(table);
      expect(solve(values, table.relations), `table ${n}`).toEqual({});
      for (const [name, value] of Object.entries(table.cells)) {
        if (value >= 1 && value < DEFAULT_THRESHOLD) expect(withheld[name], `table ${n}, cell ${name}`).toBe('small');
        if (values[name] !== null) expect(values[name]).toBe(value);
      }
      const solvedBeforeMore = solve(Object.fromEntries(Object.entries(table.cells).map(([k, v]) => [k, withheld[k] === 'small' ? null : v])), table.relations);
      if (Object.keys(solvedBeforeMore).length) protectedMore++;
    }
    // The small cells alone are solved for in many of these tables: the check above is not idle.
    expect(protectedMore).toBeGreaterThan(50);
  });

  it('never withholds a small count of places for being small, only to protect a count of people', () => {
    const relations = [
      { total: 'roma:places', parts: ['roma:occupied', 'roma:free'] },
      { total: 'bari:places', parts: ['bari:occupied', 'bari:free'] },
      { total: 'aosta:places', parts: ['aosta:occupied', 'aosta:free'] },
    ];
    const cells = { 'roma:places': 40, 'roma:occupied': 37, 'roma:free': 3, 'bari:places': 12, 'bari:occupied': 2, 'bari:free': 10, 'aosta:places': 4, 'aosta:occupied': 4, 'aosta:free': 0 };
    const notPeople = Object.keys(cells).filter((k) => !k.endsWith(':occupied'));
    const result = suppressTable({ cells, relations, notPeople });
    expect(result.withheld).toEqual({ 'bari:occupied': 'small', 'bari:free': 'complementary', 'aosta:occupied': 'small', 'aosta:places': 'complementary' });
    expect(result.values).toMatchObject({ 'roma:places': 40, 'roma:occupied': 37, 'roma:free': 3, 'bari:places': 12, 'aosta:free': 0 });
    expect(recover(result.values, relations)).toEqual({});
    expect(() => suppressTable({ cells, relations, notPeople: ['nowhere'] })).toThrow('notPeople names unknown cell "nowhere"');
  });

  it('gives the same result whatever order cells, relations and parts are listed in', () => {
    const random = prng(7);
    for (let n = 0; n < 200; n++) {
      const table = randomTable(random);
      const reordered = {
        cells: Object.fromEntries(shuffle(Object.entries(table.cells), random)),
        relations: shuffle(table.relations, random).map(({ total, parts }) => ({ total, parts: shuffle(parts, random) })),
      };
      expect(suppressTable(reordered), `table ${n}`).toEqual(suppressTable(table));
    }
  });

  it('refuses bad input with an error that names the rule and the value received', () => {
    const cells = { t: 10, a: 4, b: 6 };
    expect(() => suppressCount(3, { threshold: 1 })).toThrow('threshold must be an integer >= 2; got 1');
    expect(() => suppressTable({ cells }, { threshold: 2.5 })).toThrow('threshold must be an integer >= 2; got 2.5');
    expect(() => suppressCount(-1)).toThrow('count must be a non-negative integer; got -1');
    expect(() => suppressTable({ cells: { x: -3 } })).toThrow('cell "x" must be a non-negative integer; got -3');
    expect(() => suppressTable({ cells: { x: 1.5 } })).toThrow('cell "x" must be a non-negative integer; got 1.5');
    expect(() => suppressTable({ cells: { x: Number.NaN } })).toThrow('cell "x" must be a non-negative integer; got NaN');
    expect(() => suppressTable({ cells, relations: [{ total: 't', parts: ['a', 'y'] }] })).toThrow(
      'relation names unknown cell "y"',
    );
    expect(() => suppressTable({ cells: { ...cells, a: 3 }, relations: [{ total: 't', parts: ['a', 'b'] }] })).toThrow(
      'relation total "t" = 10 but its parts add up to 9',
    );
    expect(() => suppressTable({ cells, relations: [{ total: 't', parts: ['a', 'a', 'b'] }] })).toThrow(
      'relation total "t" names cell "a" more than once',
    );
    expect(() => suppressTable({ cells, relations: [{ total: 't', parts: [] }] })).toThrow(
      'relation total "t" must have at least one part; got none',
    );
  });
});
