/**
 * Statistical disclosure control for published counts. A count of one to a
 * few people can single those people out, so it is withheld (primary
 * suppression); and because a withheld count could be worked back out from a
 * total or from another breakdown printed in the same table, enough further
 * counts are withheld with it that it cannot (complementary suppression).
 *
 * Pure: no I/O and no state, so the same table always gives the same result.
 */

/** A common floor for counts about people; official statistics use at least 3. */
export const DEFAULT_THRESHOLD = 5;

export interface SuppressionOptions {
  /** Smallest count published as is; counts from 1 to threshold-1 are withheld. */
  threshold?: number;
}

/** `total` = sum of `parts`: a sum a reader can do to recover a withheld cell. */
export interface Relation {
  total: string;
  parts: readonly string[];
}

export interface CountTable {
  cells: Readonly<Record<string, number>>;
  /** Every additive relation between cells published together; a cell may be in several. */
  relations?: ReadonlyArray<Relation>;
  /**
   * Cells that count no people (the places a city's housing offers, say): a
   * small one is no disclosure in itself, so it is withheld only as a
   * complement, to protect a cell that does count people.
   */
  notPeople?: readonly string[];
}

export type WithheldReason = 'small' | 'complementary';

export interface SuppressedTable {
  /** Each cell's published value: the count, or null when withheld. */
  values: Record<string, number | null>;
  /**
   * Why each withheld cell is withheld. For audit, not for publication: it
   * tells a reader which withheld cells are the small ones.
   */
  withheld: Record<string, WithheldReason>;
}

/** A relation's cell; the first member of a relation is its total. */
interface Member {
  name: string;
  value: number;
}

/** One lone count (no relations): null when 1..threshold-1. */
export function suppressCount(value: number, options?: SuppressionOptions): number | null {
  const threshold = checkThreshold(options);
  checkCount('count', value);
  return isSmall(value, threshold) ? null : value;
}

/**
 * Withholds the small cells of a table, then, until nothing changes, one more
 * member of every relation that has exactly one withheld member: a relation
 * with a single unknown gives it away, one with two or more gives only their sum.
 *
 * Where a table is crossed two ways (months by channel, with both margins) or
 * linked to another through shared totals, relations that each keep two
 * unknowns can still pin one down when combined (a withheld cell on no cycle
 * of withheld cells); so the withheld cells are then checked against every
 * relation at once, and more complements are withheld until none can be
 * worked out.
 */
export function suppressTable(table: CountTable, options?: SuppressionOptions): SuppressedTable {
  const threshold = checkThreshold(options);
  const cells = new Map(Object.entries(table.cells));
  for (const [name, value] of cells) checkCount(`cell ${JSON.stringify(name)}`, value);
  const relations = (table.relations ?? []).map((relation) => checkRelation(relation, cells));
  // Which complement a relation gets can depend on which relation is seen first; a canonical
  // order makes the result independent of the order the relations were listed in.
  relations.sort((a, b) => byCodeUnits(relationKey(a), relationKey(b)));
  const notPeople = new Set(table.notPeople ?? []);
  for (const name of notPeople) if (!cells.has(name)) throw new Error(`notPeople names unknown cell ${JSON.stringify(name)}`);

  const withheld = new Map<string, WithheldReason>();
  for (const [name, value] of cells) if (isSmall(value, threshold) && !notPeople.has(name)) withheld.set(name, 'small');
  for (;;) {
    for (let changed = true; changed; ) {
      changed = false;
      for (const members of relations) {
        const open = members.filter((m) => !withheld.has(m.name));
        if (members.length - open.length !== 1) continue;
        withheld.set(open.sort(byCost)[0]!.name, 'complementary');
        changed = true;
      }
    }
    const complement = complementForRecoverable(relations, withheld);
    if (complement === null) break;
    withheld.set(complement, 'complementary');
  }

  const names = [...cells.keys()];
  return {
    // fromEntries, not assignment, so a cell named "__proto__" is kept as a cell.
    values: Object.fromEntries(names.map((name) => [name, withheld.has(name) ? null : cells.get(name)!])),
    withheld: Object.fromEntries(names.filter((name) => withheld.has(name)).map((name) => [name, withheld.get(name)!])),
  };
}

/**
 * Which cell to withhold next so that a withheld cell that the relations,
 * taken together, still give away no longer is; null when none is given away
 * (or nothing is left to withhold). Tries the members of the relations the
 * given-away cell is in, cheapest first, and takes the first that hides it.
 */
function complementForRecoverable(relations: readonly Member[][], withheld: ReadonlyMap<string, WithheldReason>): string | null {
  const unknown = [...withheld.keys()].sort(byCodeUnits);
  const exposed = recoverable(relations, unknown);
  if (exposed.length === 0) return null;
  const cell = exposed[0]!;
  const seen = new Set<string>();
  const candidates: Member[] = [];
  for (const members of relations) {
    if (!members.some((m) => m.name === cell)) continue;
    for (const m of members) if (!withheld.has(m.name) && !seen.has(m.name)) (seen.add(m.name), candidates.push(m));
  }
  if (candidates.length === 0) {
    // Its own relations are all withheld: widen to any relation that holds a withheld cell.
    for (const members of relations) {
      if (!members.some((m) => withheld.has(m.name))) continue;
      for (const m of members) if (!withheld.has(m.name) && !seen.has(m.name)) (seen.add(m.name), candidates.push(m));
    }
  }
  if (candidates.length === 0) return null;
  candidates.sort(byCost);
  for (const c of candidates) {
    if (!recoverable(relations, [...unknown, c.name].sort(byCodeUnits)).includes(cell)) return c.name;
  }
  return candidates[0]!.name;
}

/**
 * The withheld cells that the relations determine exactly, whatever the
 * other withheld cells hold: those whose unit vector lies in the row space
 * of the relations restricted to the withheld cells (the published cells are
 * constants). Exact integer elimination, so no rounding can hide one.
 */
function recoverable(relations: readonly Member[][], unknown: readonly string[]): string[] {
  const column = new Map(unknown.map((name, i) => [name, i]));
  const rows: bigint[][] = [];
  for (const [total, ...parts] of relations) {
    const row = new Array<bigint>(unknown.length).fill(0n);
    let any = false;
    const put = (name: string, sign: bigint) => {
      const i = column.get(name);
      if (i === undefined) return;
      row[i]! += sign;
      any = true;
    };
    put(total!.name, 1n);
    for (const p of parts) put(p.name, -1n);
    if (any) rows.push(row);
  }
  const pivotOf = new Map<number, number>();
  let next = 0;
  for (let col = 0; col < unknown.length && next < rows.length; col++) {
    const found = rows.findIndex((r, i) => i >= next && r[col] !== 0n);
    if (found < 0) continue;
    [rows[next], rows[found]] = [rows[found]!, rows[next]!];
    const pivot = rows[next]!;
    for (let k = 0; k < rows.length; k++) {
      if (k === next || rows[k]![col] === 0n) continue;
      const a = pivot[col]!;
      const b = rows[k]![col]!;
      rows[k] = normalised(rows[k]!.map((v, j) => v * a - pivot[j]! * b));
    }
    pivotOf.set(col, next++);
  }
  return unknown.filter((_, col) => {
    const r = pivotOf.get(col);
    return r !== undefined && rows[r]!.every((v, j) => j === col || v === 0n);
  });
}

/** A row divided by the greatest common divisor of its entries, so that numbers stay small. */
function normalised(row: bigint[]): bigint[] {
  let g = 0n;
  for (const v of row) {
    let a = v < 0n ? -v : v;
    let b = g;
    while (b !== 0n) [a, b] = [b, a % b];
    g = a;
  }
  return g > 1n ? row.map((v) => v / g) : row;
}

function isSmall(value: number, threshold: number): boolean {
  return value >= 1 && value < threshold;
}

/**
 * Cheapest complement first: a non-zero count (withholding a zero leaves the
 * pair adding up to the very count it was meant to hide), then the smallest
 * (least information lost), then by name so ties always go the same way.
 * Parts come before the total without a rule of their own: next to a lone
 * withheld part the total exceeds every other part, so it is picked only when
 * the other parts are all zero.
 */
function byCost(a: Member, b: Member): number {
  return Number(a.value === 0) - Number(b.value === 0) || a.value - b.value || byCodeUnits(a.name, b.name);
}

function relationKey([total, ...parts]: Member[]): string {
  return JSON.stringify([total!.name, ...parts.map((m) => m.name).sort(byCodeUnits)]);
}

/** Code-unit order: unlike localeCompare it is the same on every machine. */
function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function checkThreshold(options?: SuppressionOptions): number {
  const threshold = options?.threshold ?? DEFAULT_THRESHOLD;
  if (!Number.isSafeInteger(threshold) || threshold < 2) {
    throw new Error(`threshold must be an integer >= 2; got ${String(threshold)}`);
  }
  return threshold;
}

function checkCount(label: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new Error(`${label} must be a non-negative integer; got ${String(value)}`);
  }
}

function checkRelation(relation: Relation, cells: ReadonlyMap<string, number>): Member[] {
  const label = `relation total ${JSON.stringify(relation.total)}`;
  if (relation.parts.length === 0) throw new Error(`${label} must have at least one part; got none`);
  const names = [relation.total, ...relation.parts];
  const seen = new Set<string>();
  for (const name of names) {
    if (!cells.has(name)) throw new Error(`relation names unknown cell ${JSON.stringify(name)}`);
    // A repeated cell would count twice among the withheld and make a lone unknown look safe.
    if (seen.has(name)) throw new Error(`${label} names cell ${JSON.stringify(name)} more than once`);
    seen.add(name);
  }
  const total = cells.get(relation.total)!;
  const sum = relation.parts.reduce((acc, part) => acc + cells.get(part)!, 0);
  if (sum !== total) throw new Error(`${label} = ${total} but its parts add up to ${sum}`);
  return names.map((name) => ({ name, value: cells.get(name)! }));
}
