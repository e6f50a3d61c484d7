/**
 * Stand-in for a city that publishes a hand-kept .xlsx register over HTTP:
 * the workbooks a spreadsheet source's config describes (one per file path,
 * a sheet per entity), written with exceljs from rows in the city's own
 * column names, with what a social worker's register has: a title merged
 * above the header, group labels merged above sub-columns, dates as Excel
 * date cells and some as Italian text ("4 marzo 2024"), numbers as numbers
 * or as formulas with their cached result, codes with stray spaces, ids as
 * hyperlinks, blank rows between records and a trailing TOTALE row. Served
 * with ETag and Last-Modified, so clients revalidate with a conditional GET.
 *
 * The sandbox's faults apply as for every stand-in (sandbox/faults.ts).
 * Those that change the workbooks serve other files, each with its own ETag,
 * as a new version saved by hand would be: `rename:<column>` calls that
 * column `<column>_v2` in the header, as a social worker retitling a column
 * would (a sub-column is named whole, "Intake / Data", or by its own label); `duplicate` writes the first record of every sheet again after the
 * last; `formula` puts, in the housing sheet, a formula that cannot be
 * computed in the places of the first resource (`B2+`, saved with #VALUE!
 * as its result) and one whose result is text in those of the second
 * ("dieci posti"); `truncate` serves the first half of each file's bytes.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import ExcelJS from 'exceljs';
import { fieldValue, parseDate } from '../adapters/mapping.ts';
import type { RawRow } from '../adapters/port.ts';
import { filterablePaths } from '../adapters/source-base.ts';
import type { SpreadsheetEntityConfig, SpreadsheetSourceConfig } from '../adapters/connectors/spreadsheet-config.ts';
import { XLSX_TYPE, dateColumnsOf } from '../adapters/connectors/spreadsheet.ts';
import type { EntityName } from '../schema/records.ts';
import { notModified, createStandInServer, withDuplicate, type Fault, type StandIn, type StandInResponse } from './faults.ts';

/** What makes the workbooks hand-kept; every quirk is on unless turned off. */
export interface SpreadsheetQuirks {
  /** Dates as Excel date cells, every fourth as Italian text ("4 marzo 2024"); off: the text given. */
  dates?: boolean;
  /** A blank row after every so many records; 0 for none. Default 7. */
  blankRowEvery?: number;
  /**
   * A trailing "TOTALE" row counting the records; left out of a sheet whose
   * `totalsPattern` would not know it, as that sheet's own label is not known.
   */
  totalsRow?: boolean;
  /** Whole numbers as number cells, the housing counts as formulas with their cached result. */
  numbers?: boolean;
  /** Codes with a space either side (" Unita mobile "). */
  padCodes?: boolean;
  /** Record ids as hyperlinks to the record's page in the city's intranet. */
  linkIds?: boolean;
}

export interface SpreadsheetStandInOptions {
  /** The source as a city's file declares it: its files, sheets, header rows, columns and auth. */
  source: Pick<SpreadsheetSourceConfig, 'id' | 'dateFormat' | 'entities' | 'auth'>;
  /** Path of the source below the origin, e.g. "/condivisi"; default none. */
  basePath?: string;
  /** Each entity's rows, keyed by the source's own column names, dates in its `dateFormat`. */
  rows: ReadonlyMap<EntityName, readonly RawRow[]>;
  /** The key the source's auth header must carry. */
  apiKey: string;
  host?: string;
  /** 0 = an ephemeral port. */
  port?: number;
  fault?: Fault | null;
  /** Seed of the fault PRNG (flaky, garbage). */
  seed?: number;
  /** When the workbooks were saved (their Last-Modified); default: now, to the second. */
  exportedAt?: Date;
  quirks?: SpreadsheetQuirks;
}

export interface SpreadsheetStandIn extends StandIn {
  /** Base URL of the source: origin and base path. */
  readonly url: string;
}

interface WorkbookFile {
  body: Buffer;
  etag: string;
  lastModified: string;
  /** Seconds since the epoch, to compare with If-Modified-Since (HTTP dates have whole seconds). */
  modifiedSeconds: number;
}

const MONTHS = ['gennaio', 'febbraio', 'marzo', 'aprile', 'maggio', 'giugno', 'luglio', 'agosto', 'settembre', 'ottobre', 'novembre', 'dicembre'];

/** An entity's columns in the order the sheet has them: its fields' columns, in canonical order. */
export function sheetColumns(config: SpreadsheetEntityConfig): string[] {
  const specs = Object.values(config.fields as Record<string, string>);
  return [...new Set(specs.flatMap((s) => (s.includes('{') ? [...s.matchAll(/\{([^{}]+)\}/g)].map((m) => m[1]!.trim()) : [s])))];
}

export async function createSpreadsheetStandIn(options: SpreadsheetStandInOptions): Promise<SpreadsheetStandIn> {
  const { source } = options;
  if (!options.apiKey) throw new Error(`source "${source.id}" needs an API key`);
  const basePath = options.basePath ?? '';
  const exportedAt = options.exportedAt ?? new Date(Math.floor(Date.now() / 1000) * 1000);
  const expected = Buffer.from(source.auth.prefix + options.apiKey);

  const files = await writeFiles(options, null);
  /** The workbooks as a fault that changes them serves them, written when the fault is set. */
  let changed: { key: string; files: Map<string, WorkbookFile> } | null = null;
  const changes = (fault: Fault | null | undefined): fault is Fault => fault !== null && fault !== undefined && ['rename', 'duplicate', 'formula', 'truncate'].includes(fault.kind);
  const prepare = async (fault: Fault | null) => {
    if (!changes(fault) || changed?.key === JSON.stringify(fault)) return;
    changed = { key: JSON.stringify(fault), files: await writeFiles(options, fault) };
  };
  await prepare(options.fault ?? null);

  function authorised(header: string | string[] | undefined): boolean {
    if (typeof header !== 'string') return false;
    const given = Buffer.from(header);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  let server: StandIn | null = null;
  function handle(req: IncomingMessage, url: URL): StandInResponse {
    const text = (status: number, message: string, headers: Record<string, string> = {}): StandInResponse => ({
      status,
      headers: { 'content-type': 'text/plain; charset=utf-8', ...headers },
      body: Buffer.from(`${message}\n`),
    });
    if (!authorised(req.headers[source.auth.header.toLowerCase()])) {
      return text(401, 'Accesso negato: chiave mancante o non valida', { 'www-authenticate': source.auth.prefix.trim() || 'ApiKey' });
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return text(405, 'Metodo non consentito', { allow: 'GET, HEAD' });
    const fault = server?.fault;
    const served = changes(fault) && changed?.key === JSON.stringify(fault) ? changed.files : files;
    const file = url.pathname.startsWith(basePath) ? served.get(url.pathname.slice(basePath.length)) : undefined;
    if (!file) return text(404, `File non trovato: ${url.pathname}`);
    const validators = { etag: file.etag, 'last-modified': file.lastModified };
    if (notModified(req, file)) return { status: 304, headers: validators, body: Buffer.alloc(0) };
    return {
      status: 200,
      headers: { 'content-type': XLSX_TYPE, 'content-disposition': 'attachment', 'cache-control': 'no-cache', ...validators },
      body: file.body,
    };
  }

  server = await createStandInServer({
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    handler: handle,
    fault: options.fault ?? null,
    seed: options.seed ?? 0,
    // A cut workbook is a file of its own, with its own ETag, so that a client holding the whole one sees it.
    handles: ['truncate'],
  });
  const running = server;
  const setFault = running.setFault.bind(running);
  return Object.assign(running, {
    url: running.origin + basePath,
    async setFault(fault: Fault | null) {
      // The changed workbooks are written before the fault applies to any request.
      await prepare(fault);
      await setFault(fault);
    },
  }) as SpreadsheetStandIn;

  async function writeFiles(opts: SpreadsheetStandInOptions, fault: Fault | null): Promise<Map<string, WorkbookFile>> {
    const byPath = new Map<string, EntityName[]>();
    for (const entity of Object.keys(opts.source.entities) as EntityName[]) {
      const config = opts.source.entities[entity];
      if (config) byPath.set(config.path, [...(byPath.get(config.path) ?? []), entity]);
    }
    const out = new Map<string, WorkbookFile>();
    for (const [path, entities] of byPath) {
      const wb = new ExcelJS.Workbook();
      wb.creator = 'Servizi sociali';
      wb.created = exportedAt;
      wb.modified = exportedAt;
      for (const entity of entities) {
        const rows = opts.rows.get(entity) ?? [];
        addSheet(wb, entity, opts.source.entities[entity] as SpreadsheetEntityConfig, fault?.kind === 'duplicate' ? withDuplicate(rows) : rows, fault);
      }
      const whole = Buffer.from(await wb.xlsx.writeBuffer());
      const body = fault?.kind === 'truncate' ? whole.subarray(0, Math.floor(whole.length / 2)) : whole;
      out.set(path, {
        body,
        etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
        lastModified: exportedAt.toUTCString(),
        modifiedSeconds: Math.floor(exportedAt.getTime() / 1000),
      });
    }
    return out;
  }

  function addSheet(wb: ExcelJS.Workbook, entity: EntityName, config: SpreadsheetEntityConfig, rows: readonly RawRow[], fault: Fault | null): void {
    const renameColumn = fault?.kind === 'rename' ? fault.field : null;
    /** Formulas where the first two housing resources' places belong (`formula`): one that cannot be computed, one whose result is text. */
    const formulas: ExcelJS.CellFormulaValue[] =
      fault?.kind === 'formula' && entity === 'housingResources'
        ? [
            { formula: 'B2+', result: { error: '#VALUE!' } as ExcelJS.CellErrorValue, date1904: false },
            { formula: 'D3&" posti"', result: 'dieci posti', date1904: false },
          ]
        : [];
    const quirks = { dates: true, blankRowEvery: 7, totalsRow: true, numbers: true, padCodes: true, linkIds: true, ...options.quirks };
    const ws = wb.addWorksheet(config.sheet ?? 'Foglio1');
    const columns = sheetColumns(config);
    const width = columns.length;
    const letter = (c: number) => ws.getColumn(c).letter;
    /** The label a column's header cell shows (`shown`: a sub-column's own part), renamed when the fault names the column or that part. */
    const label = (name: string, shown = name) => (name === renameColumn || shown === renameColumn ? `${shown}_v2` : shown);

    // The header: group labels merged above their sub-columns, other labels merged down over both rows.
    const top = config.groupRow ?? config.headerRow;
    if (top > 1) {
      ws.getCell(1, 1).value = `ELENCO ${(config.sheet ?? entity).toUpperCase()} ${exportedAt.getUTCFullYear()}`;
      if (width > 1) ws.mergeCells(1, 1, 1, width);
    }
    let c = 1;
    while (c <= width) {
      const name = columns[c - 1]!;
      const cut = config.groupRow === undefined ? -1 : name.indexOf(config.headerJoin);
      if (cut < 0) {
        ws.getCell(config.headerRow, c).value = label(name);
        if (config.groupRow !== undefined) {
          ws.getCell(config.groupRow, c).value = label(name);
          ws.mergeCells(config.groupRow, c, config.headerRow, c);
        }
        c++;
        continue;
      }
      const group = name.slice(0, cut);
      let end = c;
      while (end < width && columns[end]!.startsWith(group + config.headerJoin)) end++;
      ws.getCell(config.groupRow!, c).value = group;
      if (end > c) ws.mergeCells(config.groupRow!, c, config.groupRow!, end);
      for (let k = c; k <= end; k++) ws.getCell(config.headerRow, k).value = label(columns[k - 1]!, columns[k - 1]!.slice(cut + config.headerJoin.length));
      c = end + 1;
    }

    const fields = config.fields as Record<string, string>;
    const dates = dateColumnsOf(entity, fields);
    const codes = new Set(Object.values(filterablePaths[entity]).flatMap((f) => (f.kind === 'code' && fields[f.field] !== undefined ? [fields[f.field]!] : [])));
    const counts = new Set(entity === 'housingResources' ? [fields['capacity'], fields['occupancy']] : []);
    const idColumn = fields['localId'];
    let next = config.headerRow + 1;
    let dateCount = 0;
    rows.forEach((row, i) => {
      if (quirks.blankRowEvery > 0 && i > 0 && i % quirks.blankRowEvery === 0) next++;
      const r = ws.getRow(next++);
      columns.forEach((column, k) => {
        const raw = fieldValue(row, column);
        const value = raw === null || raw === undefined ? '' : String(raw);
        const cell = r.getCell(k + 1);
        if (value === '') return;
        if (quirks.dates && dates.has(column)) {
          const iso = parseDate(value, source.dateFormat);
          if (iso !== null) {
            const [y, m, d] = iso.split('-').map(Number) as [number, number, number];
            if (dateCount++ % 4 === 3) {
              cell.value = `${d} ${MONTHS[m - 1]} ${y}`;
            } else {
              cell.value = new Date(Date.UTC(y, m - 1, d));
              cell.numFmt = 'dd/mm/yyyy';
            }
            return;
          }
        }
        if (quirks.linkIds && column === idColumn) {
          cell.value = { text: value, hyperlink: `https://intranet.comune.example/${entity}/${encodeURIComponent(value)}` };
          return;
        }
        if (column === fields['capacity'] && formulas[i] !== undefined) {
          cell.value = formulas[i]!;
          return;
        }
        if (quirks.numbers && /^(0|[1-9]\d{0,14})$/.test(value)) {
          const n = Number(value);
          cell.value = counts.has(column) ? { formula: `${n}*1`, result: n } : n;
          return;
        }
        if (quirks.padCodes && codes.has(column)) {
          cell.value = ` ${value} `;
          return;
        }
        cell.value = value;
      });
    });
    if (quirks.totalsRow && width > 1 && new RegExp(config.totalsPattern, 'i').test('TOTALE')) {
      const first = config.headerRow + 1;
      const last = Math.max(first, next - 1);
      ws.getRow(next + 1).values = ['TOTALE', { formula: `COUNTA(${letter(1)}${first}:${letter(1)}${last})`, result: rows.length }];
    }
  }
}

