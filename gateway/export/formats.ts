/**
 * An export written as a file: CSV, XLSX or JSON, each with the answer's
 * coverage inside it. Pure (no I/O), shared by `npm run query` and the
 * gateway's `POST /export`.
 *
 * CSV is written for Excel as set up in Italy, where most of its readers
 * are: UTF-8 with a byte-order mark (so accents survive), fields separated by
 * `;`, decimals with a comma, RFC 4180 quoting and CRLF line ends. Dates are
 * ISO 8601 text. The coverage comes first, as lines starting with `#`.
 * In XLSX numbers are number cells and `Date`/`DateTime` values date cells
 * (times in UTC); a second sheet, "Coverage", holds the coverage. JSON keeps
 * the rows as the graph answered them, with `coverage` beside them.
 * In CSV and XLSX a text cell that a spreadsheet would read as a formula is
 * neutralised (table.ts `neutralise`).
 */
import type ExcelJS from 'exceljs';
import type { ExportCoverage } from './coverage.ts';
import { cellText, neutralise, type Cell, type Table } from './table.ts';

export const formats = {
  csv: { contentType: 'text/csv; charset=utf-8; header=present', extension: 'csv' },
  xlsx: { contentType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', extension: 'xlsx' },
  json: { contentType: 'application/json; charset=utf-8', extension: 'json' },
} as const;
export type ExportFormat = keyof typeof formats;

export function isExportFormat(value: unknown): value is ExportFormat {
  return typeof value === 'string' && Object.hasOwn(formats, value);
}

export interface ExportResult {
  /** Dotted path of the list the rows are ("" when the whole answer is one row). */
  rowsFrom: string;
  /** The other lists of the answer that could have been the rows (`rows` names one). */
  otherLists: string[];
  /** The rows as the graph answered them. */
  items: unknown[];
  table: Table;
  /** The answer's values outside the rows. */
  outside: Array<{ name: string; cell: Cell }>;
  coverage: ExportCoverage;
  /** Answers the export is made of: the pages of a walk, or 1. */
  pages: number;
}

export const CSV_SEPARATOR = ';';

function csvField(text: string): string {
  return /[;"\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function csvCell(cell: Cell): string {
  if (typeof cell === 'number') return String(cell).replace('.', ',');
  if (typeof cell === 'string') return csvField(neutralise(cell));
  return csvField(cellText(cell));
}

/** The coverage as label and text, in the order both CSV and XLSX give it. */
function coverageLines(result: ExportResult): Array<[string, string]> {
  const c = result.coverage;
  const named = (x: { city: string; name?: string }) => (x.name ? `${x.city} ${x.name}` : x.city);
  return [
    ['rows', `${result.table.rows.length} from ${result.rowsFrom || 'the whole answer'}, in ${result.pages} ${result.pages === 1 ? 'answer' : 'answers'}`],
    ['asked at', c.requestedAt],
    ['cities asked', c.citiesAsked === null ? 'not asked for (select coverage { citiesAsked citiesAnswered })' : String(c.citiesAsked)],
    ['cities answered', c.citiesAnswered === null ? 'not asked for' : String(c.citiesAnswered)],
    ...c.missing.map((m): [string, string] => ['missing', `${named(m)} ${m.code}: ${m.reason}`]),
    ...c.stale.map((s): [string, string] => ['stale', `${named(s)} as of ${s.asOf ?? 'unknown'}`]),
    ...c.degraded.map((d): [string, string] => ['degraded', `${named(d)}: ${d.reason}`]),
    ['rejected records', c.rejected === null ? 'not known (not asked for, or withheld as a small count)' : String(c.rejected)],
    ...c.otherErrors.map((e): [string, string] => ['other errors', `${e.count} × ${e.code}${e.city ? ` (city ${e.city})` : ''}: ${e.message}`]),
  ];
}

/** A comment line: one line, and no separator, so that a spreadsheet keeps it in its first cell. */
function comment(label: string, text: string): string {
  return `# ${label}: ${text}`.replace(/[\r\n]+/g, ' ').replaceAll(CSV_SEPARATOR, ',');
}

export function toCsv(result: ExportResult): Buffer {
  const lines = [
    ...coverageLines(result).map(([label, text]) => comment(label, text)),
    ...result.outside.map(({ name, cell }) => comment(name, cellText(cell))),
    result.table.columns.map((c) => csvField(neutralise(c))).join(CSV_SEPARATOR),
    ...result.table.rows.map((row) => row.map(csvCell).join(CSV_SEPARATOR)),
  ];
  return Buffer.from(`\uFEFF${lines.join('\r\n')}\r\n`, 'utf8');
}

export function toJson(result: ExportResult): Buffer {
  const outside = Object.fromEntries(result.outside.map(({ name, cell }) => [name, cell !== null && typeof cell === 'object' ? cell.text : cell]));
  return Buffer.from(`${JSON.stringify({ rowsFrom: result.rowsFrom, rows: result.items, outside, coverage: result.coverage })}\n`, 'utf8');
}

const DATE_FORMAT = 'yyyy-mm-dd';
const DATE_TIME_FORMAT = 'yyyy-mm-dd hh:mm:ss';

function setCell(cell: ExcelJS.Cell, value: Cell): void {
  if (value === null) return;
  if (typeof value === 'string') cell.value = neutralise(value);
  else if (typeof value === 'object') {
    cell.value = value.date;
    cell.numFmt = value.time ? DATE_TIME_FORMAT : DATE_FORMAT;
  } else cell.value = value;
}

function addRow(sheet: ExcelJS.Worksheet, values: Cell[], bold = false): void {
  const row = sheet.addRow([]);
  values.forEach((v, i) => setCell(row.getCell(i + 1), v));
  if (bold) row.font = { bold: true };
}

function dateCell(iso: string | null): Cell {
  const t = iso === null ? NaN : Date.parse(iso);
  return Number.isNaN(t) ? iso : { kind: 'date', date: new Date(t), text: iso!, time: true };
}

export async function toXlsx(result: ExportResult): Promise<Buffer> {
  // Loaded when asked for: exceljs takes a while to load, and CSV and JSON do without it.
  const { default: Excel } = await import('exceljs');
  const book = new Excel.Workbook();
  const data = book.addWorksheet('Data', { views: [{ state: 'frozen', ySplit: 1 }] });
  addRow(data, result.table.columns, true);
  for (const row of result.table.rows) addRow(data, row);
  data.columns.forEach((column, i) => {
    const header = result.table.columns[i] ?? '';
    column.width = Math.min(Math.max(header.length + 2, 12), 40);
  });

  const c = result.coverage;
  const sheet = book.addWorksheet('Coverage');
  sheet.getColumn(1).width = 22;
  sheet.getColumn(2).width = 24;
  sheet.getColumn(3).width = 22;
  sheet.getColumn(4).width = 60;
  addRow(sheet, ['Rows', result.table.rows.length, result.rowsFrom || 'the whole answer']);
  addRow(sheet, ['Answers', result.pages]);
  addRow(sheet, ['Asked at', dateCell(c.requestedAt)]);
  addRow(sheet, ['Cities asked', c.citiesAsked]);
  addRow(sheet, ['Cities answered', c.citiesAnswered]);
  addRow(sheet, ['Rejected records', c.rejected]);
  const section = (title: string, headers: string[], rows: Cell[][]) => {
    sheet.addRow([]);
    addRow(sheet, [title], true);
    addRow(sheet, headers, true);
    if (rows.length === 0) addRow(sheet, ['none']);
    for (const r of rows) addRow(sheet, r);
  };
  section('Missing cities', ['City', 'Name', 'Code', 'Reason'], c.missing.map((m) => [m.city, m.name ?? null, m.code, m.reason]));
  section('Stale cities', ['City', 'Name', 'As of'], c.stale.map((s) => [s.city, s.name ?? null, dateCell(s.asOf)]));
  section('Degraded cities', ['City', 'Name', 'Reason'], c.degraded.map((d) => [d.city, d.name ?? null, d.reason]));
  section('Other errors', ['Code', 'City', 'Count', 'First message'], c.otherErrors.map((e) => [e.code, e.city ?? null, e.count, e.message]));
  if (result.outside.length) section('Outside the rows', ['Field', 'Value'], result.outside.map(({ name, cell }) => [name, cell]));
  return Buffer.from(await book.xlsx.writeBuffer());
}

export async function render(format: ExportFormat, result: ExportResult): Promise<Buffer> {
  if (format === 'csv') return toCsv(result);
  if (format === 'json') return toJson(result);
  return toXlsx(result);
}
