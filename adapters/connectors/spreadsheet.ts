/**
 * A city that publishes an .xlsx workbook kept by hand (a social worker's
 * register): one workbook with a sheet per entity, or one file per entity.
 * Like a CSV export it is a snapshot: each workbook is fetched whole (checked
 * with a conditional GET at most once per `revalidateMs`), read with exceljs
 * once per new file, and queries are answered from memory. A new file that
 * cannot be used never replaces a good snapshot: the last good rows are served
 * and the source reports STALE.
 *
 * What a hand-kept sheet holds, and what reaches the shared mapper:
 *
 * - rows above the header (a title merged across the columns) are not read;
 *   a group label merged above sub-columns names them "Intake / Data";
 * - blank rows, and totals rows (`totalsPattern`, "TOTALE"), are skipped:
 *   neither records nor rejections;
 * - every cell is reduced to trimmed plain text: numbers (also as text), rich
 *   text, hyperlinks, the cached result of a formula;
 * - dates: an Excel date cell is written in the source's `dateFormat`, and so
 *   is text in a date column that is a date beyond doubt ("3/4/2024",
 *   "03-04-24", "4 marzo 2024", read day first as Italians write them); other
 *   text ("marzo 2024") is passed as it is, and the mapper rejects it as
 *   INVALID_DATE;
 * - a mapped cell holding an error value (#REF!, or a formula whose cached
 *   result is one, as `=B2+` leaves #VALUE!) or a formula saved without its
 *   result holds no value: it is marked on the row (`cellDefects`, naming the
 *   row and the cell, never the content), the mapper rejects the row as
 *   INVALID_VALUE naming the field, and the rest of the sheet is served. A
 *   formula whose result is text where a number belongs is read as that text,
 *   and rejected by the mapper as any other value that is not a number.
 *
 * A file that is not an xlsx workbook (an HTML page, garbage, a truncated
 * zip), a missing sheet, or a header without a configured column (the city
 * renamed it) is CITY_BAD_RESPONSE naming the sheet, the column and the key
 * of the city's file that names it.
 */
import ExcelJS from 'exceljs';
import { CityError } from '../../schema/errors.ts';
import type { EntityName } from '../../schema/records.ts';
import type { DateFormat, ResolvedSource } from '../config.ts';
import { fieldValue, parseDate } from '../mapping.ts';
import { cellDefects, type ConnectorDeps, type ConnectorStatus, type RawRow, type SourceConnector } from '../port.ts';
import { fieldKeysReading, filterablePaths } from '../source-base.ts';
import { abortable, createHttpClient, mediaType, withHealth, type UpstreamResponse } from './http.ts';
import type { SpreadsheetEntityConfig } from './spreadsheet-config.ts';

export type SpreadsheetSource = ResolvedSource & { kind: 'spreadsheet' };

/** The media type of an .xlsx file. */
export const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

interface EntitySnapshot {
  /** Frozen, and the same objects for as long as the file does not change (callers cache per row). */
  rows: readonly RawRow[];
  /** Names this snapshot among all the connector read (`RawPage.version`). */
  version: string;
  /** When the workbook was current at the source, in milliseconds since the epoch. */
  asOf: number;
}

interface EntityState {
  snapshot: EntitySnapshot | null;
  /** Why the latest workbook gives no rows for this entity (a missing sheet or column); stays until a new file arrives. */
  sheetError: CityError | null;
}

/** One workbook file, shared by the entities whose sheets it holds. */
interface FileState {
  path: string;
  entities: EntityName[];
  /** Validators of the latest readable file, for conditional requests. */
  etag: string | null;
  lastModified: string | null;
  /** A readable file was seen: a 304 refers to it. */
  seen: boolean;
  /** When the file was last asked for, in milliseconds since the epoch. */
  checkedAt: number;
  /** Why the last fetch gave no readable file (the source down, an HTML page); null after one that did. */
  failure: CityError | null;
  inflight: Promise<void> | null;
}

export function createSpreadsheetConnector(city: string, source: SpreadsheetSource, deps: ConnectorDeps): SourceConnector {
  const http = createHttpClient(city, source, deps);
  const files = new Map<string, FileState>();
  const states = new Map<EntityName, EntityState>();
  /** Snapshots read so far, to name each. */
  let parsed = 0;

  function entityConfig(entity: EntityName): SpreadsheetEntityConfig {
    const config = source.entities[entity] as SpreadsheetEntityConfig | undefined;
    if (!config) throw new CityError('CITY_NOT_CONFIGURED', city, `source "${source.id}" does not serve ${entity}`);
    return config;
  }

  function fileOf(path: string): FileState {
    let file = files.get(path);
    if (!file) {
      const entities = (Object.keys(source.entities) as EntityName[]).filter((e) => source.entities[e]?.path === path);
      file = { path, entities, etag: null, lastModified: null, seen: false, checkedAt: 0, failure: null, inflight: null };
      files.set(path, file);
      for (const e of entities) states.set(e, { snapshot: null, sheetError: null });
    }
    return file;
  }

  /** The entity's rows to answer from: the current snapshot, or one read now (the fetch shared by concurrent callers). */
  async function load(entity: EntityName, signal?: AbortSignal): Promise<EntitySnapshot> {
    const file = fileOf(entityConfig(entity).path);
    const state = states.get(entity)!;
    if (state.snapshot && deps.now() - file.checkedAt < source.revalidateMs) return state.snapshot;
    // Not tied to one caller's signal: others may be waiting on the same fetch.
    file.inflight ??= refresh(file).finally(() => {
      file.inflight = null;
    });
    await abortable(file.inflight, signal);
    if (state.snapshot) return state.snapshot;
    throw file.failure ?? state.sheetError ?? new CityError('CITY_BAD_RESPONSE', city, `no rows read for ${entity}`);
  }

  /** Fetches the file if it changed and reads every entity's sheet; failures the city's doing are recorded, not thrown. */
  async function refresh(file: FileState): Promise<void> {
    const headers: Record<string, string> = { accept: `${XLSX_TYPE}, application/octet-stream;q=0.5` };
    if (file.seen && file.etag) headers['if-none-match'] = file.etag;
    if (file.seen && file.lastModified) headers['if-modified-since'] = file.lastModified;
    let workbook: ExcelJS.Workbook;
    let res: UpstreamResponse;
    try {
      res = await http.get(file.path, { headers });
      if (res.status === 304) {
        if (!file.seen) throw new CityError('CITY_BAD_RESPONSE', city, 'status 304 to an unconditional request');
        // The same file: each entity's rows, or its sheet's problem, still hold.
        Object.assign(file, { checkedAt: deps.now(), failure: null });
        return;
      }
      workbook = await readWorkbook(res.body, res.headers['content-type'], city);
    } catch (error) {
      // A fault of the graph's own says nothing about the file: it goes up as it is, to be reported as such.
      if (!(error instanceof CityError)) throw error;
      // The validators stay those of the last good file, so the next check asks about it.
      Object.assign(file, { checkedAt: deps.now(), failure: error });
      for (const entity of file.entities) {
        if (states.get(entity)!.snapshot) serveStale(entity, error);
      }
      return;
    }
    const fetchedAt = deps.now();
    const lastModified = res.headers['last-modified'] ?? null;
    const modified = lastModified === null ? NaN : Date.parse(lastModified);
    Object.assign(file, { etag: res.headers.etag ?? null, lastModified, seen: true, checkedAt: fetchedAt, failure: null });
    for (const entity of file.entities) {
      const state = states.get(entity)!;
      try {
        const rows = readSheet(workbook, entityConfig(entity), dateColumnsOf(entity, entityConfig(entity).fields), source.dateFormat, city, { entity, source });
        state.snapshot = { rows, version: String(++parsed), asOf: Number.isNaN(modified) ? fetchedAt : modified };
        state.sheetError = null;
      } catch (error) {
        if (!(error instanceof CityError)) throw error;
        state.sheetError = error;
        if (state.snapshot) serveStale(entity, error);
      }
    }
  }

  function serveStale(entity: EntityName, error: CityError): void {
    deps.logger.warn('spreadsheet unusable, serving the previous snapshot', {
      city, source: source.id, entity, code: error.code, detail: error.detail,
    });
  }

  return {
    kind: 'spreadsheet',

    // A workbook is read whole: conditions are applied by the caller, from the snapshot (no `pushable`).
    async page(entity, { offset, limit }, signal) {
      const { rows, version } = await load(entity, signal);
      return { rows: rows.slice(offset, offset + limit), total: rows.length, version };
    },

    async lookup(entity, key, values, signal) {
      const spec = (entityConfig(entity).fields as Record<string, string | undefined>)[key];
      if (spec === undefined) throw new CityError('CITY_NOT_CONFIGURED', city, `${entity} has no source field for ${key}`);
      const { rows } = await load(entity, signal);
      const wanted = new Set(values);
      return rows.filter((row) => {
        const v = fieldValue(row, spec);
        return v !== null && v !== undefined && wanted.has(String(v));
      });
    },

    /** The worst of the entities read so far, as the HTTP client's health corrects it; asOf is the oldest snapshot being served. */
    status() {
      const read = [...states.entries()].filter(([entity, s]) => s.snapshot !== null || s.sheetError !== null || fileOf(entityConfig(entity).path).failure !== null);
      const asOfs = read.flatMap(([, s]) => (s.snapshot ? [s.snapshot.asOf] : []));
      const asOf = asOfs.length > 0 ? new Date(Math.min(...asOfs)) : null;
      const problem = (entity: EntityName, s: EntityState) => fileOf(entityConfig(entity).path).failure ?? s.sheetError;
      const down = read.find(([entity, s]) => s.snapshot === null && problem(entity, s) !== null);
      const stale = read.find(([entity, s]) => s.snapshot !== null && problem(entity, s) !== null);
      const why = ([entity, s]: [EntityName, EntityState]) => `${entity}: ${problem(entity, s)!.code}: ${problem(entity, s)!.detail}`;
      const own: ConnectorStatus = down
        ? { status: 'DOWN', asOf, reason: why(down) }
        : stale
          ? { status: 'STALE', asOf, reason: why(stale) }
          : asOfs.length > 0
            ? { status: 'UP', asOf }
            : { status: 'UNKNOWN', asOf: null };
      return withHealth(own, http.health());
    },
  };
}

/** The source columns of an entity's date fields (a template spec, a date split in columns, is left to the mapper). */
export function dateColumnsOf(entity: EntityName, fields: Readonly<Record<string, string>>): Set<string> {
  const columns = new Set<string>();
  for (const f of Object.values(filterablePaths[entity])) {
    const spec = fields[f.field];
    if (f.kind === 'date' && spec !== undefined && !spec.includes('{')) columns.add(spec);
  }
  return columns;
}

/** The columns a field spec reads: the names in a template's braces, or the spec itself. */
function columnsOfSpec(spec: string): string[] {
  if (!spec.includes('{')) return [spec];
  return [...spec.matchAll(/\{([^{}]+)\}/g)].map((m) => m[1]!.trim());
}

/** A header label as compared: runs of spaces and line breaks as one space, trimmed. */
const normalise = (s: string) => s.replace(/\s+/g, ' ').trim();
const keyOf = (s: string) => normalise(s).toLowerCase();

/**
 * The workbook in a file. Throws CITY_BAD_RESPONSE, saying what the bytes
 * were and never quoting them, on anything but an .xlsx (zip) workbook.
 */
export async function readWorkbook(body: Buffer, contentType: string | undefined, city: string): Promise<ExcelJS.Workbook> {
  const bad = (detail: string) => new CityError('CITY_BAD_RESPONSE', city, detail);
  const type = mediaType(contentType);
  if (type === 'text/html' || type === 'application/xhtml+xml') throw bad(`expected an xlsx workbook, got ${type}`);
  if (body.length === 0) throw bad('expected an xlsx workbook, got an empty body');
  // An .xlsx is a zip file: "PK\3\4" (or an empty zip's end record).
  if (!(body[0] === 0x50 && body[1] === 0x4b)) {
    // The OLE2 container: a workbook saved as the old .xls, or one protected with a password.
    if (body.readUInt32BE(0) === 0xd0cf11e0) throw bad('expected an xlsx workbook, got an old-format .xls or a password-protected workbook');
    if (/^\s*</.test(body.subarray(0, 200).toString('latin1'))) throw bad(`expected an xlsx workbook, got markup (${type ?? 'no content type'})`);
    throw bad(`expected an xlsx workbook, got bytes that are not a zip file (${type ?? 'no content type'})`);
  }
  const workbook = new ExcelJS.Workbook();
  try {
    await workbook.xlsx.load(body as unknown as ExcelJS.Buffer);
  } catch {
    // No cause attached: a parser's message may quote the file.
    throw bad('not a readable xlsx workbook (a truncated or corrupt file?)');
  }
  if (workbook.worksheets.length === 0) throw bad('a zip file without worksheets: not an xlsx workbook');
  return workbook;
}

/** A cell reduced to text, or why it cannot be. */
type CellText = { text: string } | { defect: string };

/**
 * An entity's rows from its sheet, keyed by column name (the config's
 * spelling for the mapped columns, the header's for the others), in sheet
 * order, frozen. Throws CITY_BAD_RESPONSE naming the sheet, and the
 * column, when the sheet or a mapped column is not there; with `where`, also
 * the config key that names the missing column.
 */
export function readSheet(
  workbook: ExcelJS.Workbook,
  config: SpreadsheetEntityConfig,
  dateColumns: ReadonlySet<string>,
  dateFormat: DateFormat,
  city: string,
  where?: { entity: EntityName; source: SpreadsheetSource },
): RawRow[] {
  const sheetName = config.sheet === undefined ? 'the first sheet' : `sheet "${config.sheet}"`;
  const bad = (detail: string) => new CityError('CITY_BAD_RESPONSE', city, `${sheetName}: ${detail}`);
  const sheet = config.sheet === undefined
    ? workbook.worksheets[0]
    : workbook.worksheets.find((ws) => keyOf(ws.name) === keyOf(config.sheet!));
  // Sheet names are not listed: one may be a person's name.
  if (!sheet) throw bad(`not in the workbook (it has ${workbook.worksheets.length} sheet(s))`);

  // Column names, by column number (from 1).
  const width = sheet.columnCount;
  const names: Array<string | null> = [null];
  const headerRow = sheet.getRow(config.headerRow);
  const groupRow = config.groupRow === undefined ? null : sheet.getRow(config.groupRow);
  for (let c = 1; c <= width; c++) {
    const cell = headerRow.getCell(c);
    const sub = normalise(plain(cell.value));
    let name = sub;
    if (groupRow) {
      const above = groupRow.getCell(c);
      const group = normalise(plain(above.value));
      // A label merged down over both rows names the column alone.
      const sameCell = cell.isMerged && above.isMerged && cell.master.address === above.master.address;
      if (group !== '' && !sameCell) name = sub === '' ? group : `${group}${config.headerJoin}${sub}`;
    }
    names.push(name === '' ? null : name);
  }

  // The columns the config reads, by the header's key.
  const found = new Map<string, number[]>();
  names.forEach((name, c) => {
    if (name !== null) found.set(keyOf(name), [...(found.get(keyOf(name)) ?? []), c]);
  });
  const wanted = [...new Set(Object.values(config.fields as Record<string, string>).flatMap(columnsOfSpec))];
  for (const name of wanted) {
    const at = found.get(keyOf(name)) ?? [];
    if (at.length > 1) throw bad(`column "${name}" appears ${at.length} times in the header (columns ${at.map(columnLetter).join(', ')})`);
  }
  const missing = wanted.filter((name) => !found.has(keyOf(name)));
  if (missing.length > 0) {
    const rows = config.groupRow === undefined ? `row ${config.headerRow}` : `rows ${config.groupRow} and ${config.headerRow}`;
    const fix = where ? `: change ${fieldKeysReading(where.source, where.entity, missing)} to the column's name in the sheet` : '';
    throw bad(`the header (${rows}) has no column ${missing.map((m) => `"${m}"`).join(', ')} (renamed or removed?)${fix}`);
  }
  const mapped = new Map<number, string>(wanted.map((name) => [found.get(keyOf(name))![0]!, name]));
  // Unmapped columns keep the header's name; a repeated one is left out (nothing reads it).
  const columns: Array<{ c: number; key: string; mapped: boolean }> = [];
  names.forEach((name, c) => {
    if (name === null) return;
    const own = mapped.get(c);
    if (own !== undefined) columns.push({ c, key: own, mapped: true });
    else if (found.get(keyOf(name))!.length === 1 && !wanted.some((w) => keyOf(w) === keyOf(name))) columns.push({ c, key: name, mapped: false });
  });

  const totals = new RegExp(config.totalsPattern, 'i');
  const rows: RawRow[] = [];
  sheet.eachRow((row, n) => {
    if (n <= config.headerRow) return;
    const cells = columns.map(({ c, key, mapped }) => ({ c, key, mapped, read: cellText(valueOf(row.getCell(c)), dateFormat) }));
    const texts = cells.map(({ read }) => ('text' in read ? read.text : null));
    // A blank row, however formatted; a cell holding an error is not blank.
    if (texts.every((t) => t === '')) return;
    const first = texts.find((t) => t !== '');
    if (first !== undefined && first !== null && totals.test(first)) return;
    const record: Record<PropertyKey, unknown> = {};
    const defects: Record<string, string> = {};
    for (const { c, key, mapped, read } of cells) {
      if ('defect' in read) {
        record[key] = '';
        if (mapped) defects[key] = `row ${n}: column "${key}" (${columnLetter(c)}${n}) ${read.defect}`;
        continue;
      }
      record[key] = mapped && dateColumns.has(key) ? dateText(read.text, dateFormat) : read.text;
    }
    if (Object.keys(defects).length > 0) record[cellDefects] = Object.freeze(defects);
    rows.push(Object.freeze(record) as RawRow);
  });
  return rows;
}

/**
 * A cell's value (a merged cell's, for every cell of the merge). A formula's
 * result is read from the cell itself: exceljs leaves a falsy one (0) out of
 * `value`, which would make a formula whose result is 0 look unresolved.
 */
function valueOf(cell: ExcelJS.Cell): ExcelJS.CellValue {
  const own = cell.type === ExcelJS.ValueType.Merge ? cell.master : cell;
  const value = own.value;
  if (value !== null && typeof value === 'object' && ('formula' in value || 'sharedFormula' in value)) {
    return { ...value, result: own.result as ExcelJS.CellFormulaValue['result'] };
  }
  return value;
}

/** A cell's value as plain text, or why the row cannot be read (an error value, a formula without its result). */
function cellText(value: ExcelJS.CellValue, dateFormat: DateFormat): CellText {
  if (value === null || value === undefined) return { text: '' };
  if (typeof value === 'string') return { text: value.trim() };
  if (typeof value === 'number') return { text: numberText(value) };
  if (typeof value === 'boolean') return { text: value ? 'TRUE' : 'FALSE' };
  if (value instanceof Date) return { text: Number.isNaN(value.getTime()) ? '' : formatDate(value.getUTCFullYear(), value.getUTCMonth() + 1, value.getUTCDate(), dateFormat) };
  if ('error' in value) return { defect: `holds the error ${errorName(value.error)}` };
  if ('formula' in value || 'sharedFormula' in value) {
    const result = value.result;
    if (result === undefined || result === null) return { defect: 'holds a formula saved without its result' };
    if (typeof result === 'object' && 'error' in result) return { defect: `holds a formula whose result is the error ${errorName(result.error)}` };
    return cellText(result, dateFormat);
  }
  return { text: plain(value).trim() };
}

/** The text of a value that is (or holds) text: rich text runs joined, a hyperlink's text. */
function plain(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value !== 'object') return '';
  if ('richText' in value && Array.isArray(value.richText)) return value.richText.map((r: { text?: unknown }) => plain(r.text)).join('');
  if ('text' in value) return plain(value.text);
  if ('result' in value) return plain(value.result);
  return '';
}

/** Only Excel's own error names are repeated in a message. */
function errorName(error: unknown): string {
  return typeof error === 'string' && /^#[A-Z0-9/]{1,8}[!?]?$/.test(error) ? error : 'value';
}

/** A number as Excel shows it at most: 15 significant digits, so 0.1 + 0.2 is "0.3" and 3 is "3". */
function numberText(n: number): string {
  return Number.isFinite(n) ? String(Number(n.toPrecision(15))) : '';
}

function columnLetter(c: number): string {
  let s = '';
  for (let n = c; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
  return s;
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/** A day written in one of the date formats a city may declare. */
export function formatDate(y: number, m: number, d: number, format: DateFormat): string {
  const yyyy = String(y).padStart(4, '0');
  switch (format) {
    case 'yyyy-mm-dd':
      return `${yyyy}-${pad2(m)}-${pad2(d)}`;
    case 'dd/mm/yyyy':
      return `${pad2(d)}/${pad2(m)}/${yyyy}`;
    case 'dd-mm-yyyy':
      return `${pad2(d)}-${pad2(m)}-${yyyy}`;
    case 'dd.mm.yyyy':
      return `${pad2(d)}.${pad2(m)}.${yyyy}`;
    case 'yyyymmdd':
      return `${yyyy}${pad2(m)}${pad2(d)}`;
  }
}

const MONTHS = ['gennaio', 'febbraio', 'marzo', 'aprile', 'maggio', 'giugno', 'luglio', 'agosto', 'settembre', 'ottobre', 'novembre', 'dicembre'];

/** An Italian month name or its abbreviation of three letters or more ("mar", "sett"), 1 to 12; 0 when it is none. */
function monthOf(word: string): number {
  const w = word.toLowerCase();
  if (w.length < 3) return 0;
  return MONTHS.findIndex((m) => m.startsWith(w)) + 1;
}

/** A two-digit year as Excel reads one typed in: 00-29 are 2000-2029, 30-99 are 1930-1999. */
const fullYear = (y: string) => (y.length === 4 ? Number(y) : Number(y) + (Number(y) < 30 ? 2000 : 1900));

/**
 * Text in a date column written in the source's `dateFormat` (padded) when
 * it is a date beyond doubt: already in that format; year first (2024-03-04); day
 * first with one separator (3/4/2024, 03-04-24, 3.4.2024), as Italians write
 * dates; or with an Italian month name (4 marzo 2024, 1° mar 2024, 04-mar-24).
 * Anything else, a month without a day ("marzo 2024") or a day that does
 * not exist (31/02/2024), is returned as it is, for the mapper to reject.
 */
export function dateText(text: string, format: DateFormat): string {
  if (text === '') return text;
  const declared = parseDate(text, format);
  if (declared !== null) return formatDate(Number(declared.slice(0, 4)), Number(declared.slice(5, 7)), Number(declared.slice(8, 10)), format);
  let y: number, m: number, d: number;
  let g: RegExpExecArray | null;
  if ((g = /^(\d{4})([-/.])(\d{1,2})\2(\d{1,2})$/.exec(text))) {
    [y, m, d] = [Number(g[1]), Number(g[3]), Number(g[4])];
  } else if ((g = /^(\d{1,2})([-/.])(\d{1,2})\2(\d{4}|\d{2})$/.exec(text))) {
    [y, m, d] = [fullYear(g[4]!), Number(g[3]), Number(g[1])];
  } else if ((g = /^(\d{1,2})[°º]?(?:\s+|-|\/)([a-z]+)\.?(?:\s+|-|\/)(\d{4}|\d{2})$/i.exec(text))) {
    [y, m, d] = [fullYear(g[3]!), monthOf(g[2]!), Number(g[1])];
  } else {
    return text;
  }
  const date = new Date(Date.UTC(y, m - 1, d));
  if (m < 1 || date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) return text;
  return formatDate(y, m, d, format);
}
