/**
 * Stand-in for a city that publishes CSV exports over HTTP: one file per
 * entity, header row in the city's own names, quoted where needed, encoded
 * per the dialect (mostly Windows-1252), with ETag and Last-Modified so
 * clients can revalidate with a conditional GET (304 Not Modified).
 *
 * The sandbox's faults apply as to every stand-in (faults.ts). Those that
 * change the export serve another file, with its own ETag, as a new export
 * would be: `rename:<column>` calls the column `<column>_v2` in the header,
 * `truncate` ends each file just after the first cell of its middle row,
 * `duplicate` writes the first row again at the end, and `encoding` encodes
 * the text in UTF-8 where the dialect says windows-1252 (or another one-byte
 * encoding), and in windows-1252 where it says UTF-8, with no byte order mark.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import iconv from 'iconv-lite';
import type { RawRow } from '../adapters/port.ts';
import type { EntityName } from '../schema/records.ts';
import { columnsOfSpec } from '../adapters/connectors/sql-config.ts';
import type { CsvSourceDialect } from './dialects.ts';
import { notModified, createStandInServer, withDuplicate, type Fault, type StandIn, type StandInResponse } from './faults.ts';

export interface CsvStandInOptions {
  dialect: CsvSourceDialect;
  rows: ReadonlyMap<EntityName, readonly RawRow[]>;
  /** Checked only when the dialect has an auth header. */
  apiKey?: string | null;
  host?: string;
  /** 0 = an ephemeral port. */
  port?: number;
  fault?: Fault | null;
  /** Seed of the fault PRNG (flaky, garbage). */
  seed?: number;
  /** When the export was made (its Last-Modified); default: now, to the second. */
  exportedAt?: Date;
}

export interface CsvStandIn extends StandIn {
  /** Base URL of the source: origin and the dialect's base path. */
  readonly url: string;
}

interface ExportFile {
  body: Buffer;
  etag: string;
  lastModified: string;
  /** Seconds since the epoch, to compare with If-Modified-Since (HTTP dates have whole seconds). */
  modifiedSeconds: number;
}

/** The header of an entity's file: its mapped columns in canonical order, then the unmapped extras. */
export function csvHeader(dialect: CsvSourceDialect, entity: EntityName): string[] {
  const fields = dialect.entities[entity]!.fields as Record<string, string>;
  const columns = [...new Set(Object.values(fields).flatMap(columnsOfSpec))];
  return [...columns, ...Object.keys(dialect.quirks.extraFields ?? {})];
}

/** One cell as the dialect writes it: quoted where it must be (or always, where the dialect quotes every cell). */
export function csvCell(dialect: CsvSourceDialect, value: unknown): string {
  const { delimiter, quoteAll } = dialect;
  const s = value === null || value === undefined ? '' : String(value);
  const needsQuotes = quoteAll || s.includes(delimiter) || s.includes('"') || s.includes('\n') || s.includes('\r');
  return needsQuotes ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * A CSV file as the dialect writes it: text, before encoding. `labels`, the
 * header as written, where it differs from the names the rows are keyed by.
 */
export function csvText(dialect: CsvSourceDialect, header: readonly string[], rows: readonly RawRow[], labels: readonly string[] = header): string {
  const { delimiter, lineEnding } = dialect;
  const cell = (value: unknown) => csvCell(dialect, value);
  const lines = [labels.map(cell).join(delimiter), ...rows.map((row) => header.map((h) => cell(row[h])).join(delimiter))];
  return lines.join(lineEnding) + lineEnding;
}

/**
 * The text of a file cut halfway through a row: every line before the middle
 * row whole, then that row's first cell and the delimiter after it. A file
 * without rows is cut in the middle of its header.
 */
function truncatedText(dialect: CsvSourceDialect, header: readonly string[], rows: readonly RawRow[]): string {
  if (rows.length === 0) {
    const whole = csvText(dialect, header, rows);
    return whole.slice(0, Math.floor(whole.length / 2));
  }
  const middle = Math.floor(rows.length / 2);
  return csvText(dialect, header, rows.slice(0, middle)) + csvCell(dialect, rows[middle]![header[0]!]) + dialect.delimiter;
}

/** The encoding a file in the wrong encoding is served in: UTF-8 for a one-byte encoding, windows-1252 for UTF-8. */
export function otherEncoding(encoding: string): string {
  return /^utf-?8$/i.test(encoding.trim()) ? 'windows-1252' : 'utf-8';
}

/** The file's bytes: encoded per the dialect, with a BOM where the dialect writes one. */
export function encodeCsv(dialect: CsvSourceDialect, text: string): Buffer {
  const body = iconv.encode(text, dialect.encoding);
  return dialect.bom ? Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), body]) : body;
}

export async function createCsvStandIn(options: CsvStandInOptions): Promise<CsvStandIn> {
  const { dialect } = options;
  const exportedAt = options.exportedAt ?? new Date(Math.floor(Date.now() / 1000) * 1000);
  const expected = dialect.auth ? Buffer.from(dialect.auth.prefix + (options.apiKey ?? '')) : null;
  if (dialect.auth && !options.apiKey) throw new Error(`source "${dialect.id}" needs an API key`);

  /** The files of an export as a fault makes them (null: as they are), by path. */
  function exportFiles(fault: Fault | null): Map<string, ExportFile> {
    const files = new Map<string, ExportFile>();
    for (const entity of Object.keys(dialect.entities) as EntityName[]) {
      const header = csvHeader(dialect, entity);
      const rows = options.rows.get(entity) ?? [];
      let body: Buffer;
      switch (fault?.kind) {
        case 'rename':
          body = encodeCsv(dialect, csvText(dialect, header, rows, header.map((h) => (h === fault.field ? `${h}_v2` : h))));
          break;
        case 'truncate':
          body = encodeCsv(dialect, truncatedText(dialect, header, rows));
          break;
        case 'duplicate':
          body = encodeCsv(dialect, csvText(dialect, header, withDuplicate(rows)));
          break;
        case 'encoding':
          body = iconv.encode(csvText(dialect, header, rows), otherEncoding(dialect.encoding));
          break;
        default:
          body = encodeCsv(dialect, csvText(dialect, header, rows));
      }
      files.set(dialect.basePath + dialect.entities[entity]!.path, {
        body,
        etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
        lastModified: exportedAt.toUTCString(),
        modifiedSeconds: Math.floor(exportedAt.getTime() / 1000),
      });
    }
    return files;
  }
  const files = exportFiles(null);
  /** The export a fault changes, made when first asked for and kept while the fault is the same. */
  let changed: { key: string; files: Map<string, ExportFile> } | null = null;
  const filesFor = (fault: Fault | null): Map<string, ExportFile> => {
    if (fault === null || !['rename', 'truncate', 'duplicate', 'encoding'].includes(fault.kind)) return files;
    const key = JSON.stringify(fault);
    if (changed?.key !== key) changed = { key, files: exportFiles(fault) };
    return changed.files;
  };

  function authorised(header: string | string[] | undefined): boolean {
    if (!expected) return true;
    if (typeof header !== 'string') return false;
    const given = Buffer.from(header);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  function handle(req: IncomingMessage, url: URL, _body: Buffer, fault: Fault | null): StandInResponse {
    const text = (status: number, message: string, headers: Record<string, string> = {}): StandInResponse => ({
      status,
      headers: { 'content-type': 'text/plain; charset=utf-8', ...headers },
      body: Buffer.from(`${message}\n`),
    });
    if (dialect.auth && !authorised(req.headers[dialect.auth.header.toLowerCase()])) {
      return text(401, 'Accesso negato: chiave mancante o non valida', { 'www-authenticate': dialect.auth.prefix.trim() || 'ApiKey' });
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return text(405, 'Metodo non consentito', { allow: 'GET, HEAD' });
    const file = filesFor(fault).get(url.pathname);
    if (!file) return text(404, `File non trovato: ${url.pathname}`);

    const validators = { etag: file.etag, 'last-modified': file.lastModified };
    if (notModified(req, file)) return { status: 304, headers: validators, body: Buffer.alloc(0) };
    return {
      status: 200,
      headers: { 'content-type': dialect.contentType, 'cache-control': 'no-cache', ...validators },
      body: file.body,
    };
  }

  const server = await createStandInServer({
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    handler: handle,
    fault: options.fault ?? null,
    seed: options.seed ?? 0,
    // A cut export is a file of its own (with its own ETag), cut where a CSV row is.
    handles: ['truncate'],
  });
  return Object.assign(server, { url: server.origin + dialect.basePath }) as CsvStandIn;
}

