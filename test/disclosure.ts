/**
 * What a reader can work out from published tables, for the tests of
 * small-count suppression: the unit tests of access/suppression.ts and the
 * end-to-end tests of what the dashboard role is shown.
 */

/** `total` = the sum of `parts`, between cells of published tables. */
export interface Relation {
  total: string;
  parts: readonly string[];
}

/**
 * What a reader can work out by combining every relation at once: solves the
 * published relations for the withheld cells (Gauss-Jordan elimination) and
 * returns each withheld cell the system pins down, with its value. Floating
 * point is exact enough for tables of a few hundred cells with coefficients
 * of one, and this shares no code with the suppression it checks.
 */
export function solve(values: Record<string, number | null>, relations: readonly Relation[]): Record<string, number> {
  const unknown = Object.keys(values).filter((name) => values[name] === null);
  const col = new Map(unknown.map((name, i) => [name, i]));
  const rows = relations.map(({ total, parts }) => {
    const row = new Array<number>(unknown.length + 1).fill(0);
    const add = (name: string, sign: number) => {
      const i = col.get(name);
      if (i === undefined) row[unknown.length]! -= sign * values[name]!;
      else row[i]! += sign;
    };
    add(total, 1);
    for (const p of parts) add(p, -1);
    return row;
  });
  const pivots: Array<[number, number]> = [];
  let r = 0;
  for (let c = 0; c < unknown.length && r < rows.length; c++) {
    let best = r;
    for (let k = r; k < rows.length; k++) if (Math.abs(rows[k]![c]!) > Math.abs(rows[best]![c]!)) best = k;
    if (Math.abs(rows[best]![c]!) < 1e-9) continue;
    [rows[r], rows[best]] = [rows[best]!, rows[r]!];
    const p = rows[r]![c]!;
    rows[r] = rows[r]!.map((v) => v / p);
    for (let k = 0; k < rows.length; k++) {
      if (k === r) continue;
      const f = rows[k]![c]!;
      if (f !== 0) rows[k] = rows[k]!.map((v, j) => v - f * rows[r]![j]!);
    }
    pivots.push([r++, c]);
  }
  const out: Record<string, number> = {};
  for (const [row, c] of pivots) {
    if (rows[row]!.every((v, j) => j === c || j === unknown.length || Math.abs(v) < 1e-9)) out[unknown[c]!] = Math.round(rows[row]![unknown.length]!) || 0;
  }
  return out;
}

