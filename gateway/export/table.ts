/**
 * From a GraphQL answer to a table: which list of the answer is the rows,
 * and how each row's nested fields become named columns of typed cells.
 * Pure: the formats (formats.ts) write what this decides.
 *
 * - The rows: the pages' nodes when the query is walked; otherwise the list
 *   named (`rows`), or else the list of objects whose items ask for the most
 *   fields (nested fields counted), then the one with the most items, then
 *   the first. Coverage objects and lists inside another list's items (they
 *   are columns of its rows) are never the rows. An answer with no list of
 *   objects is one row.
 * - Columns: nested fields by their dotted path (`intake.channel`); a list
 *   of scalars joined with "; "; a list of objects with one field asked
 *   joined the same way (`citiesMissing.code`); any other list of objects as
 *   `a[0].b`, `a[1].b`, ... when no row's list has more than
 *   MAX_LIST_COLUMNS items, else one column `a.count` with its length.
 *   Coverage objects are left out (they are collected apart, coverage.ts).
 */
import { ExportRequestError, isCoverage, type Shape } from './shape.ts';

/** A date cell: `Date` scalars at UTC midnight, `DateTime` scalars with their time (UTC). */
export interface DateCell {
  kind: 'date';
  date: Date;
  /** The value as the graph sent it. */
  text: string;
  time: boolean;
}
export type Cell = null | string | number | boolean | DateCell;

export interface Column {
  name: string;
  read: (row: unknown) => Cell;
}

export interface Table {
  columns: string[];
  rows: Cell[][];
}

/** Past this many items in some row, a list of objects is a count rather than columns. */
export const MAX_LIST_COLUMNS = 10;
export const LIST_SEPARATOR = '; ';

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

function dateOnly(text: string): Date | null {
  const m = DATE.exec(text);
  if (!m) return null;
  const date = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  // 2024-02-31 is not a date: Date.UTC would roll it over to March.
  return date.getUTCDate() === Number(m[3]) && date.getUTCMonth() === Number(m[2]) - 1 ? date : null;
}

function dateTime(text: string): Date | null {
  if (!DATE_TIME.test(text)) return null;
  const t = Date.parse(text);
  return Number.isNaN(t) ? null : new Date(t);
}

/**
 * A leaf value as a cell. The schema's type decides whether a string is a
 * date (`Date`, `DateTime`); where the schema does not know the field, an
 * ISO date or date-time string is taken as one.
 */
export function cellOf(value: unknown, type?: string): Cell {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value !== 'string') return JSON.stringify(value);
  const asDate = (d: Date | null, time: boolean): Cell => (d ? { kind: 'date', date: d, text: value, time } : value);
  if (type === 'Date') return asDate(dateOnly(value), false);
  if (type === 'DateTime') return asDate(dateTime(value), true);
  if (type !== undefined) return value;
  const d = dateOnly(value);
  if (d) return asDate(d, false);
  return asDate(dateTime(value), true);
}

/** A cell as plain text (CSV, comments, joined lists): dates as the graph sent them. */
export function cellText(cell: Cell): string {
  if (cell === null) return '';
  if (typeof cell === 'object') return cell.text;
  return String(cell);
}

/**
 * Text a spreadsheet would take for a formula (or a formula's start: a sign,
 * `@`, a tab or carriage return) is prefixed with an apostrophe, so that it
 * stays text when opened, pasted or saved again.
 */
export function neutralise(text: string): string {
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const get = (v: unknown, key: string): unknown => (isObject(v) ? v[key] : undefined);

/** Whether a field is a list: the schema says, or else the data shows one. */
function isList(shape: Shape, values: unknown[]): boolean {
  return shape.list ?? values.some(Array.isArray);
}

/** The leaves a field asks for, and whether a list lies between it and them. */
function leaves(shape: Shape): { count: number; listInside: boolean } {
  let count = 0;
  let listInside = false;
  const visit = (s: Shape) => {
    for (const c of s.children ?? []) {
      if (isCoverage(c)) continue;
      if (c.list) listInside = true;
      if (c.children) visit(c);
      else count++;
    }
  };
  visit(shape);
  return { count, listInside };
}

/**
 * The columns of the objects `shape` asks for. `instances` are every such
 * object in the table (across rows and list items), so that a nested list
 * gets as many columns as its longest instance; `at` reads this object from
 * a row.
 */
function columnsOf(shape: Shape, instances: unknown[], prefix: string, at: (row: unknown) => unknown, skip: ReadonlySet<Shape>): Column[] {
  const columns: Column[] = [];
  for (const child of shape.children ?? []) {
    if (skip.has(child) || isCoverage(child) || child.field === 'pageInfo') continue;
    const name = `${prefix}${child.key}`;
    const values = instances.map((o) => get(o, child.key));
    const read = (row: unknown) => get(at(row), child.key);
    const list = isList(child, values);
    if (!child.children) {
      columns.push({ name, read: list ? (row) => joined(read(row), (v) => cellText(cellOf(v, child.type))) : (row) => cellOf(read(row), child.type) });
      continue;
    }
    if (!list) {
      columns.push(...columnsOf(child, values, `${name}.`, read, skip));
      continue;
    }
    const { count, listInside } = leaves(child);
    if (count === 1 && !listInside) {
      // One field asked of each item (a city's code, say): the items' values joined, as for a list of scalars.
      const path = leafPath(child);
      columns.push({ name: `${name}.${path.map((s) => s.key).join('.')}`, read: (row) => joined(read(row), (item) => cellText(cellOf(path.reduce<unknown>((o, s) => get(o, s.key), item), path.at(-1)!.type))) });
      continue;
    }
    const items = values.filter(Array.isArray);
    const longest = Math.max(0, ...items.map((l) => l.length));
    if (longest > MAX_LIST_COLUMNS) {
      columns.push({ name: `${name}.count`, read: (row) => { const l = read(row); return Array.isArray(l) ? l.length : null; } });
      continue;
    }
    const all = items.flat();
    for (let i = 0; i < longest; i++) {
      columns.push(...columnsOf(child, all, `${name}[${i}].`, (row) => { const l = read(row); return Array.isArray(l) ? l[i] : undefined; }, skip));
    }
  }
  return columns;
}

function leafPath(shape: Shape): Shape[] {
  for (const c of shape.children ?? []) {
    if (isCoverage(c)) continue;
    return c.children ? [c, ...leafPath(c)] : [c];
  }
  return [];
}

function joined(value: unknown, text: (v: unknown) => string): Cell {
  if (!Array.isArray(value)) return value === null || value === undefined ? null : text(value);
  return value.map((v) => (v === null || v === undefined ? '' : text(v))).join(LIST_SEPARATOR);
}

/** The table of `rows`, the items of the list `shape` (or the one object it is). */
export function tabulate(shape: Shape, rows: unknown[], skip: ReadonlySet<Shape> = new Set()): Table {
  const columns = columnsOf(shape, rows, '', (row) => row, skip);
  return { columns: columns.map((c) => c.name), rows: rows.map((row) => columns.map((c) => c.read(row))) };
}

export interface RowsChoice {
  /** Response keys from the root to the rows' list; empty when the whole answer is one row. */
  path: string[];
  shape: Shape;
  /** The other lists the rows could have been, by path. */
  others: string[];
}

interface Candidate {
  path: string[];
  shape: Shape;
  items: number;
  width: number;
}

/** The list of objects that is the rows of a single answer (see the module's comment). */
export function chooseRows(root: Shape[], data: Record<string, unknown>, wanted?: string): RowsChoice {
  const candidates: Candidate[] = [];
  const visit = (shapes: Shape[], value: unknown, path: string[]) => {
    for (const s of shapes) {
      if (!s.children || isCoverage(s) || s.field === 'pageInfo') continue;
      const v = get(value, s.key);
      if (isList(s, [v])) candidates.push({ path: [...path, s.key], shape: s, items: Array.isArray(v) ? v.length : 0, width: leaves(s).count });
      else visit(s.children, v, [...path, s.key]);
    }
  };
  visit(root, data, []);
  const named = (c: Candidate) => c.path.join('.');
  const wholeAnswer: Shape = { key: '', field: '', children: root, nodes: [] };
  if (wanted !== undefined) {
    const chosen = candidates.find((c) => named(c) === wanted) ?? objectAt(root, data, wanted);
    if (!chosen) {
      const lists = candidates.map(named);
      throw new ExportRequestError(`${wanted} is not a list of objects in the answer${lists.length ? `: its lists are ${lists.join(', ')}` : ''}`);
    }
    return { path: chosen.path, shape: chosen.shape, others: candidates.filter((c) => c !== chosen).map(named) };
  }
  if (candidates.length === 0) return { path: [], shape: wholeAnswer, others: [] };
  const best = candidates.reduce((a, b) => (b.width > a.width || (b.width === a.width && b.items > a.items) ? b : a));
  return { path: best.path, shape: best.shape, others: candidates.filter((c) => c !== best).map(named) };
}

/** A named object that is not in a list: exported as one row. */
function objectAt(root: Shape[], data: unknown, wanted: string): Candidate | undefined {
  let shapes = root;
  let value = data;
  let found: Shape | undefined;
  const path = wanted.split('.');
  for (const key of path) {
    found = shapes.find((s) => s.key === key);
    if (!found?.children || isList(found, [get(value, key)])) return undefined;
    value = get(value, key);
    shapes = found.children;
  }
  return found && { path, shape: found, items: 1, width: 0 };
}

/** The field at `path` (response keys from the root). */
export function shapeAt(root: Shape[], path: string[]): Shape | undefined {
  let shapes: Shape[] | undefined = root;
  let found: Shape | undefined;
  for (const key of path) {
    found = shapes?.find((s) => s.key === key);
    shapes = found?.children;
  }
  return found;
}

/** The rows at `path` of one answer: a list's items, or one object as a single row. */
export function rowsAt(data: unknown, path: string[]): unknown[] {
  if (path.length === 0) return [data];
  let value = data;
  for (const [i, key] of path.entries()) {
    if (Array.isArray(value)) throw new ExportRequestError(`${path.slice(0, i).join('.')} is a list: the rows cannot be read inside another list`);
    value = get(value, key);
  }
  if (Array.isArray(value)) return value;
  return value === null || value === undefined ? [] : [value];
}

/**
 * The answer's values outside the rows (a report's totals, the period, a
 * walk's totalCount), as name and cell: they travel with the file beside the
 * coverage.
 */
export function outsideRows(root: Shape[], data: unknown, rows: Shape): Array<{ name: string; cell: Cell }> {
  const whole: Shape = { key: '', field: '', children: root, nodes: [] };
  if (rows === whole || rows.children === root) return [];
  const table = tabulate(whole, [data], new Set([rows]));
  return table.columns.map((name, i) => ({ name, cell: table.rows[0]![i]! }));
}
