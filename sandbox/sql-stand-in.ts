/**
 * Stand-in for a city whose system is a database: an embedded PostgreSQL
 * (PGlite, PostgreSQL compiled to WebAssembly; no server installed) served
 * over the real PostgreSQL wire protocol by pglite-socket on loopback, so
 * the very connector a city's database is read with (`pg`) reads it.
 *
 * The source's config says what to build: per entity a table of the given
 * rows (in an internal schema, `stand_in`) and the VIEW the config names
 * over it, exposing every column the config maps. Columns are TEXT, but
 * those the config declares DATE (`dates: { field: "date" }`), which hold
 * the rows' dates read in the source's `dateFormat`. An impossible date (a
 * record the sandbox broke on purpose) cannot be stored in a DATE column: it
 * is stored as NULL and listed in `nulledDates`, so the sandbox can expect
 * the rejection that follows (a missing date) instead.
 *
 * Connections: pglite-socket 0.2.17 runs one backend, so queries from every
 * connection go through one queue, one protocol message at a time. It takes
 * at most `maxConnections` connections at once (its default is 1) and
 * refuses any more by writing a line that is not PostgreSQL and closing:
 * `pg` then fails with a lost connection. Give the connector a pool of one
 * (`maxConcurrent: 1`); the stand-in accepts two by default, so that a pool
 * reconnecting after its idle connection closed never races the stand-in's
 * handling of that close. (Several connections do work, each query's
 * messages usually reaching the queue together; a query split across TCP
 * reads could interleave with another's, so do not rely on it.)
 */
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { parseDate } from '../adapters/mapping.ts';
import type { RawRow } from '../adapters/port.ts';
import type { DateFormat } from '../adapters/config.ts';
import { SQL_IDENTIFIER, SQL_VIEW_NAME, columnsOfSpec } from '../adapters/connectors/sql-config.ts';
import type { EntityName } from '../schema/records.ts';

/** What the stand-in reads of a sql source's config (a parsed `SqlSourceConfig` will do). */
export interface SqlStandInSource {
  id: string;
  dialect: 'postgres' | 'mysql';
  dateFormat: DateFormat;
  /** How a list (vulnerabilities) given as an array is written in its text column; default ",". */
  listSeparator?: string;
  entities: Partial<Record<EntityName, { view: string; fields: Record<string, string>; dates?: Record<string, 'date' | 'text'> } | undefined>>;
}

export interface SqlStandInOptions {
  source: SqlStandInSource;
  /** Rows per entity, in the source's own column names. */
  rows: ReadonlyMap<EntityName, readonly RawRow[]>;
  host?: string;
  /** 0 = an ephemeral port. */
  port?: number;
  /** Connections served at once (see above); default 2. */
  maxConnections?: number;
}

export interface NulledDate {
  entity: EntityName;
  /** The row's localId, as given. */
  localId: string | null;
  column: string;
}

export interface SqlStandIn {
  readonly host: string;
  readonly port: number;
  /** The connection string of the source: `postgres://postgres@host:port/postgres` (any user and password are let in). */
  readonly url: string;
  /** Dates that a DATE column could not hold, stored as NULL. */
  readonly nulledDates: readonly NulledDate[];
  /** Statements run since the start or the last reset (each simple query or extended-protocol Execute). */
  requestCount(): number;
  resetRequestCount(): void;
  /** Connections open now, and the most open at once since the start. */
  connections(): { now: number; most: number };
  close(): Promise<void>;
}

/** Rows inserted per INSERT statement while the tables are filled. */
const INSERT_BATCH = 200;
/** Where the tables behind the views live. */
const DATA_SCHEMA = 'stand_in';

const quote = (name: string, pattern: RegExp = SQL_IDENTIFIER): string => {
  if (!pattern.test(name)) throw new Error(`not a plain SQL name: ${JSON.stringify(name)}`);
  return name.split('.').map((part) => `"${part}"`).join('.');
};

export async function createSqlStandIn(options: SqlStandInOptions): Promise<SqlStandIn> {
  const { source } = options;
  if (source.dialect !== 'postgres') throw new Error(`source "${source.id}": the SQL stand-in speaks PostgreSQL only, not ${source.dialect}`);
  const separator = source.listSeparator ?? ',';
  const db = await PGlite.create();
  const nulledDates: NulledDate[] = [];

  try {
    await db.exec(`CREATE SCHEMA ${quote(DATA_SCHEMA)}`);
    const schemas = new Set<string>();
    for (const [entity, e] of Object.entries(source.entities) as Array<[EntityName, NonNullable<SqlStandInSource['entities'][EntityName]>]>) {
      if (!e) continue;
      const rows = options.rows.get(entity) ?? [];
      const dateColumns = new Set(Object.entries(e.dates ?? {}).filter(([, s]) => s === 'date').map(([field]) => e.fields[field]!));
      const mapped: string[] = [];
      for (const spec of Object.values(e.fields)) for (const c of columnsOfSpec(spec)) if (!mapped.includes(c)) mapped.push(c);
      // Columns of the rows that the config does not map are kept in the table (a city's tables hold more), not in the view.
      const columns = [...mapped];
      for (const row of rows) for (const key of Object.keys(row)) if (!columns.includes(key)) columns.push(key);

      const table = `${quote(DATA_SCHEMA)}.${quote(entity)}`;
      await db.exec(`CREATE TABLE ${table} (${columns.map((c) => `${quote(c)} ${dateColumns.has(c) ? 'DATE' : 'TEXT'}`).join(', ')})`);
      const localIdColumn = e.fields.localId;
      const values = (row: RawRow): unknown[] =>
        columns.map((column) => {
          const v = row[column];
          if (v === null || v === undefined) return null;
          const text = Array.isArray(v) ? v.map(String).join(separator) : String(v);
          if (!dateColumns.has(column)) return text;
          if (text.trim() === '') return null;
          const iso = parseDate(text.trim(), source.dateFormat);
          if (iso === null) {
            const id = localIdColumn === undefined ? undefined : row[localIdColumn];
            nulledDates.push({ entity, localId: id === null || id === undefined ? null : String(id), column });
          }
          return iso;
        });
      for (let i = 0; i < rows.length; i += INSERT_BATCH) {
        const batch = rows.slice(i, i + INSERT_BATCH);
        const params: unknown[] = [];
        const tuples = batch.map((row) => `(${values(row).map((v) => (params.push(v), `$${params.length}`)).join(', ')})`);
        await db.query(`INSERT INTO ${table} (${columns.map((c) => quote(c)).join(', ')}) VALUES ${tuples.join(', ')}`, params);
      }

      const view = quote(e.view, SQL_VIEW_NAME);
      if (e.view.includes('.')) {
        const schema = e.view.split('.')[0]!;
        if (!schemas.has(schema)) await db.exec(`CREATE SCHEMA IF NOT EXISTS ${quote(schema)}`);
        schemas.add(schema);
      }
      await db.exec(`CREATE VIEW ${view} AS SELECT ${mapped.map((c) => quote(c)).join(', ')} FROM ${table}`);
    }
  } catch (e) {
    await db.close();
    throw e;
  }

  // Counted where pglite-socket hands each protocol message to the database: 'Q' is a simple query, 'E' an Execute.
  let statements = 0;
  const exec = db.execProtocolRawStream.bind(db);
  db.execProtocolRawStream = (message, opts) => {
    if (message[0] === 0x51 || message[0] === 0x45) statements++;
    return exec(message, opts);
  };

  const server = new PGLiteSocketServer({ db, host: options.host ?? '127.0.0.1', port: options.port ?? 0, maxConnections: options.maxConnections ?? 2 });
  let most = 0;
  server.addEventListener('connection', () => {
    most = Math.max(most, server.getStats().activeConnections);
  });
  await server.start();
  const address = server.getServerConn();
  const host = address.slice(0, address.lastIndexOf(':'));
  const port = Number(address.slice(address.lastIndexOf(':') + 1));

  return {
    host,
    port,
    url: `postgres://postgres@${host.includes(':') ? `[${host}]` : host}:${port}/postgres`,
    nulledDates,
    requestCount: () => statements,
    resetRequestCount: () => {
      statements = 0;
    },
    connections: () => ({ now: server.getStats().activeConnections, most }),
    async close() {
      await server.stop();
      await db.close();
    },
  };
}
