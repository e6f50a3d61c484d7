/**
 * A city that publishes CSV exports over HTTP, one file per entity. Each file
 * is read whole into a snapshot, parsed once per change of the file (checked
 * with a conditional GET at most once per `revalidateMs`), and queries are
 * answered from the snapshot. A new file that cannot be used (an HTML error
 * page, a half-written export, one in another encoding than the config says,
 * one without a mapped column) never replaces a good snapshot: the last good
 * one is served and the source reports STALE, saying why. One bad row (a
 * stray `;`, a missing cell, text garbled by a wrong conversion) does not make
 * the file unusable: it is passed on marked with `rowDefect`, and the shared
 * mapper rejects and counts it.
 */
import { CsvError, type InfoRecord } from 'csv-parse';
import { parse } from 'csv-parse/sync';
import { isUtf8 as isUtf8Buffer } from 'node:buffer';
import iconv from 'iconv-lite';
import { CityError } from '../../schema/errors.ts';
import type { EntityName } from '../../schema/records.ts';
import type { ResolvedSource } from '../config.ts';
import { rowDefect, type ConnectorDeps, type ConnectorStatus, type RawRow, type SourceConnector } from '../port.ts';
import { configKeyOf, fieldKeysReading, specColumns } from '../source-base.ts';
import { abortable, createHttpClient, mediaType, withHealth, type UpstreamResponse } from './http.ts';

export type CsvSource = ResolvedSource & { kind: 'csv' };

interface Snapshot {
  /** Frozen, and the same objects for as long as the file does not change (callers cache per row). */
  rows: readonly RawRow[];
  /** Names this snapshot among all the connector parsed (`RawPage.version`): a new export gets a new one. */
  version: string;
  etag: string | null;
  lastModified: string | null;
  /** Milliseconds since the epoch. */
  fetchedAt: number;
}

interface EntityState {
  snapshot: Snapshot | null;
  /** When the file was last asked for, in milliseconds since the epoch. */
  checkedAt: number;
  /** The last attempt failed and a previous snapshot is being served. */
  stale: boolean;
  /** The last attempt failed and there is nothing to serve. */
  down: boolean;
  /** Why the last attempt failed, while the entity is stale or down. */
  failure: CityError | null;
  inflight: Promise<Snapshot> | null;
}

export function createCsvConnector(city: string, source: CsvSource, deps: ConnectorDeps): SourceConnector {
  if (!iconv.encodingExists(source.encoding)) {
    throw new Error(`city ${city} source "${source.id}": unknown encoding "${source.encoding}"`);
  }
  const http = createHttpClient(city, source, deps);
  const states = new Map<EntityName, EntityState>();
  /** Snapshots parsed so far, to name each (a 304 keeps the current one, and its name). */
  let parsed = 0;

  function entityConfig(entity: EntityName) {
    const config = source.entities[entity];
    if (!config) throw new CityError('CITY_NOT_CONFIGURED', city, `source "${source.id}" does not serve ${entity}`);
    return config;
  }

  /** The snapshot to answer from: the current one, or one fetched now (shared by concurrent callers). */
  function load(entity: EntityName, signal?: AbortSignal): Promise<Snapshot> {
    const config = entityConfig(entity);
    let state = states.get(entity);
    if (!state) {
      state = { snapshot: null, checkedAt: 0, stale: false, down: false, failure: null, inflight: null };
      states.set(entity, state);
    }
    if (state.snapshot && deps.now() - state.checkedAt < source.revalidateMs) return Promise.resolve(state.snapshot);
    const s = state;
    // Not tied to one caller's signal: others may be waiting on the same fetch.
    s.inflight ??= refresh(entity, config.path, s).finally(() => {
      s.inflight = null;
    });
    return abortable(s.inflight, signal);
  }

  async function refresh(entity: EntityName, path: string, state: EntityState): Promise<Snapshot> {
    const previous = state.snapshot;
    const headers: Record<string, string> = { accept: 'text/csv, text/plain;q=0.9' };
    if (previous?.etag) headers['if-none-match'] = previous.etag;
    if (previous?.lastModified) headers['if-modified-since'] = previous.lastModified;
    try {
      const res = await http.get(path, { headers });
      let snapshot: Snapshot;
      if (res.status === 304) {
        if (!previous) throw new CityError('CITY_BAD_RESPONSE', city, 'status 304 to an unconditional request');
        snapshot = previous;
      } else {
        const rows = parseExport(res, city, source, entity);
        snapshot = { rows, version: String(++parsed), etag: res.headers.etag ?? null, lastModified: res.headers['last-modified'] ?? null, fetchedAt: deps.now() };
      }
      Object.assign(state, { snapshot, checkedAt: deps.now(), stale: false, down: false, failure: null });
      return snapshot;
    } catch (error) {
      // A fault of the graph's own says nothing about the export: it goes up as it is, to be reported as such.
      if (!(error instanceof CityError)) throw error;
      if (!previous) {
        Object.assign(state, { down: true, failure: error });
        throw error;
      }
      // Serve the last good export; ask again after revalidateMs, not on every call.
      deps.logger.warn('CSV export unusable, serving the previous snapshot', {
        city, source: source.id, entity, code: error.code, detail: error.detail,
      });
      Object.assign(state, { checkedAt: deps.now(), stale: true, down: false, failure: error });
      return previous;
    }
  }

  return {
    kind: 'csv',

    // An export is read whole: conditions are applied by the caller, from the snapshot (no `pushable`).
    async page(entity, { offset, limit }, signal) {
      const { rows, version } = await load(entity, signal);
      return { rows: rows.slice(offset, offset + limit), total: rows.length, version };
    },

    async lookup(entity, key, values, signal) {
      const field = (entityConfig(entity).fields as Record<string, string | undefined>)[key];
      if (field === undefined) throw new CityError('CITY_NOT_CONFIGURED', city, `${entity} has no source field for ${key}`);
      const { rows } = await load(entity, signal);
      const wanted = new Set(values);
      return rows.filter((row) => wanted.has(row[field] as string));
    },

    /**
     * The worst of the entities read so far, as the HTTP client's health
     * corrects it, with why (the first such entity's error); asOf is the
     * oldest export being served.
     */
    status() {
      const all = [...states.entries()];
      const asOfs = all.flatMap(([, s]) => (s.snapshot ? [snapshotTime(s.snapshot)] : []));
      const asOf = asOfs.length > 0 ? new Date(Math.min(...asOfs)) : null;
      const down = all.find(([, s]) => s.down);
      const stale = all.find(([, s]) => s.stale);
      const why = ([entity, s]: [EntityName, EntityState]) => (s.failure ? { reason: `${entity}: ${s.failure.code}: ${s.failure.detail}` } : {});
      const own: ConnectorStatus = down
        ? { status: 'DOWN', asOf, ...why(down) }
        : stale
          ? { status: 'STALE', asOf, ...why(stale) }
          : asOfs.length > 0
            ? { status: 'UP', asOf }
            : { status: 'UNKNOWN', asOf: null };
      return withHealth(own, http.health());
    },
  };
}

/** When the export was made: its Last-Modified if the server says, else when it was fetched. */
function snapshotTime(s: Snapshot): number {
  const modified = s.lastModified === null ? NaN : Date.parse(s.lastModified);
  return Number.isNaN(modified) ? s.fetchedAt : modified;
}

/**
 * A CSV export's rows as frozen objects keyed by the header, in file order.
 *
 * A row whose cell count differs from the header's (a stray delimiter, a
 * missing cell) is kept, its cells mapped to header names as far as they go
 * (extra cells are left out), and carries `rowDefect`, e.g. "line 17: 9 cells
 * where the header has 8" (the line the row ends on; never cell content): the
 * mapper rejects it as MALFORMED_ROW and the rest of the file is served. So
 * does a row whose text was garbled before it reached the file: UTF-8 read
 * as windows-1252 somewhere ("Ã©" for "é"), or characters already lost in a
 * conversion (U+FFFD).
 *
 * Throws CITY_BAD_RESPONSE (with the line, never the content) on a file that
 * is evidently truncated or unreadable: markup instead of CSV, an
 * unterminated quoted cell, no header row or one lacking a mapped column
 * (naming the column and the config key that names it), a last row with
 * fewer cells than the header (a file cut mid-row; a last row with more
 * cells is a bad row like any other), or bytes in another encoding than the
 * config's `encoding` (naming the file and the key): bytes that are not
 * UTF-8 in a file said to be UTF-8, or, in a file said to be in a one-byte
 * encoding (windows-1252), bytes that are UTF-8's multi-byte letters. A body
 * that does not match its Content-Length is refused by the HTTP client
 * before it gets here.
 */
export function parseExport(res: UpstreamResponse, city: string, source: CsvSource, entity: EntityName): RawRow[] {
  const config = source.entities[entity]!;
  const file = `the export ${config.path}`;
  const bad = (detail: string) => new CityError('CITY_BAD_RESPONSE', city, `${file}: ${detail}`);
  const type = mediaType(res.headers['content-type']);
  if (type === 'text/html' || type === 'application/xhtml+xml') throw bad(`expected CSV, got ${type}`);
  // A UTF-8 BOM says the file is UTF-8 whatever the config says (decoding strips it).
  const bom = res.body[0] === 0xef && res.body[1] === 0xbb && res.body[2] === 0xbf;
  // Error pages are often sent as 200 with a CSV or generic content type (and in any encoding).
  if (/^\s*</.test(res.body.subarray(bom ? 3 : 0, 200).toString('latin1'))) throw bad(`expected CSV, got markup (${type ?? 'no content type'})`);
  const declaredUtf8 = isUtf8(source.encoding);
  if (bom || declaredUtf8) {
    const invalid = firstInvalidUtf8(res.body);
    if (invalid >= 0) {
      const said = bom ? 'starts with a UTF-8 byte order mark' : `is read as ${source.encoding}, as its config says`;
      throw bad(`${said}, but its bytes are not UTF-8 from line ${lineOfByte(res.body, invalid)} on (an export in windows-1252?): set ${configKeyOf(source, 'encoding')} to the encoding the city exports in`);
    }
  } else if (looksUtf8(res.body)) {
    throw bad(`is read as ${source.encoding}, as its config says, but its letters are UTF-8 (from line ${lineOfByte(res.body, firstMultiByte(res.body))} on, "é" would read "Ã©"): set ${configKeyOf(source, 'encoding')} to "utf-8"`);
  }
  const text = iconv.decode(res.body, bom || declaredUtf8 ? 'utf-8' : source.encoding);

  // Parsed as bytes so that the parser's offsets can be turned into line numbers here.
  const bytes = Buffer.from(text, 'utf-8');
  const lineAt = lineFinder(bytes);
  // Set by the parser; declared this way so TypeScript does not assume it stays null.
  let header = null as string[] | null;
  let records: Array<{ record: Record<string, string>; info: InfoRecord }>;
  try {
    records = parse(bytes, {
      delimiter: source.delimiter,
      columns: (h: string[]) => (header = h),
      bom: true,
      trim: true,
      skip_empty_lines: true,
      // Spreadsheet exports end with rows of bare delimiters.
      skip_records_with_empty_values: true,
      // A quote inside an unquoted cell (Via "Roma") is text; an unterminated quoted cell is still an error.
      relax_quotes: true,
      // A row with too many or too few cells is returned (and marked below), not thrown.
      relax_column_count: true,
      // Each record with its cell count (`index`) and where it ends (`bytes`).
      info: true,
    }) as Array<{ record: Record<string, string>; info: InfoRecord }>;
  } catch (e) {
    // No cause attached: csv-parse errors carry the offending record.
    if (e instanceof CsvError) {
      const end = typeof e['bytes'] === 'number' ? e['bytes'] : NaN;
      const line = Number.isNaN(end) ? String(e['lines'] ?? '?') : String(lineAt(end));
      throw bad(`${describe(e.code)} at line ${line}`);
    }
    throw bad('not a readable CSV file');
  }
  if (header === null) throw bad('empty file: no header row');
  const width = header.length;
  const found = new Set<string>(header);
  const columns = [...new Set(Object.values(config.fields as Record<string, string>).flatMap(specColumns))];
  const missing = columns.filter((c) => !found.has(c));
  if (missing.length > 0 && missing.length === columns.length) {
    throw bad(`the first row has none of the mapped columns: a file without its header row, or cells not separated by ${JSON.stringify(source.delimiter)} (${configKeyOf(source, 'delimiter')})?`);
  }
  if (missing.length > 0) {
    const named = missing.map((c) => `"${c}"`).join(', ');
    throw bad(`the header row has no column ${named} (renamed or removed?): change ${fieldKeysReading(source, entity, missing)} to the column's name in the export`);
  }

  const last = records.at(-1);
  if (last && last.info.index < width) {
    throw bad(`the last row has ${last.info.index} cells where the header has ${width} (a truncated file?) at line ${lineAt(last.info.bytes)}`);
  }
  return records.map(({ record, info }): RawRow => {
    if (info.index !== width) {
      (record as Record<PropertyKey, unknown>)[rowDefect] = `line ${lineAt(info.bytes)}: ${info.index} cells where the header has ${width}`;
    } else {
      const garbled = garbledText(record);
      if (garbled !== null) (record as Record<PropertyKey, unknown>)[rowDefect] = `line ${lineAt(info.bytes)}: ${garbled}`;
    }
    return Object.freeze(record);
  });
}

const isUtf8 = (encoding: string) => /^utf-?8$/i.test(encoding.trim());

/**
 * UTF-8's two-byte letters as a one-byte encoding shows them: "Ã" or "Â"
 * followed by a character of the upper half of windows-1252 ("Ã©" for "é",
 * "Ã¨" for "è", "Ã " for "à"). Italian text does not put these together.
 */
const MOJIBAKE = /[ÃÂ][\u00A0-\u00BF\u0152\u0153\u0160\u0161\u0178\u017D\u017E\u0192\u02C6\u02DC\u2013\u2014\u2018-\u201E\u2020-\u2022\u2026\u2030\u2039\u203A\u20AC\u2122]/;

/** Why a row's text cannot be trusted, naming no content; null when it can. */
function garbledText(record: Record<string, string>): string | null {
  for (const value of Object.values(record)) {
    if (MOJIBAKE.test(value)) return 'text garbled by a wrong conversion before the export (UTF-8 read as windows-1252: "Ã©" for "é")';
    if (value.includes('\uFFFD')) return 'characters lost in a conversion before the export (U+FFFD in place of letters)';
  }
  return null;
}

/** Offset of the first byte that does not belong to well-formed UTF-8 (a BOM aside); -1 when every byte does. */
function firstInvalidUtf8(bytes: Buffer): number {
  if (isUtf8Buffer(bytes)) return -1;
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    const n = b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : 0;
    if (n === 0 || i + n >= bytes.length) return i;
    for (let k = 1; k <= n; k++) if ((bytes[i + k]! & 0xc0) !== 0x80) return i;
    // Overlong forms, surrogates and code points past U+10FFFF are not UTF-8 either.
    const next = bytes[i + 1]!;
    if ((b === 0xe0 && next < 0xa0) || (b === 0xed && next > 0x9f) || (b === 0xf0 && next < 0x90) || (b === 0xf4 && next > 0x8f)) return i;
    i += n + 1;
  }
  return bytes.length;
}

/** Offset of the first byte of a multi-byte UTF-8 sequence; -1 when there is none. */
function firstMultiByte(bytes: Buffer): number {
  for (let i = 0; i < bytes.length; i++) if (bytes[i]! >= 0xc2) return i;
  return -1;
}

/**
 * Whether bytes said to be in a one-byte encoding are in fact UTF-8: they
 * hold multi-byte sequences and nothing else outside ASCII. A windows-1252
 * letter is one byte that is not followed by the continuation bytes UTF-8
 * needs, so a real windows-1252 export with accents is never valid UTF-8.
 */
function looksUtf8(bytes: Buffer): boolean {
  return firstMultiByte(bytes) >= 0 && firstInvalidUtf8(bytes) < 0;
}

/** The line (from 1) a byte offset is on. */
function lineOfByte(bytes: Buffer, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < bytes.length; i++) if (bytes[i] === 0x0a) line++;
  return line;
}

/**
 * The line (from 1) on which a record ends, from the parser's offset just past
 * it (its line break included). Counted here rather than taken from the
 * parser, which counts a CRLF inside a quoted cell as two lines.
 */
function lineFinder(bytes: Buffer): (end: number) => number {
  // Offset of the byte that ends each line: LF, or a CR not followed by LF.
  const breaks: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b === 0x0a || (b === 0x0d && bytes[i + 1] !== 0x0a)) breaks.push(i);
  }
  return (end) => {
    // The record's last byte that is not its own line break.
    let lastByte = Math.min(end, bytes.length) - 1;
    while (lastByte > 0 && (bytes[lastByte] === 0x0a || bytes[lastByte] === 0x0d)) lastByte--;
    // Line breaks before it.
    let lo = 0;
    let hi = breaks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (breaks[mid]! < lastByte) lo = mid + 1;
      else hi = mid;
    }
    return lo + 1;
  };
}

function describe(code: string): string {
  switch (code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return 'an unterminated quoted cell (a truncated file?)';
    default:
      return `malformed CSV (${code})`;
  }
}
