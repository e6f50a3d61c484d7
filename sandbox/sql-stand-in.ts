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
 * Faults (see faults.ts) are applied by a TCP relay in front of pglite-socket,
 * where a database client meets them:
 *
 * - `down`: the connection is refused (the relay stops listening, and ends
 *   the sessions open, as a server shutting down does: FATAL 57P01).
 * - `slow:<ms>`: everything the server sends is held back that long.
 * - `garbage`: bytes that are not the PostgreSQL protocol instead of the
 *   server's answer, then the connection is closed.
 * - `html`: a web server's answer (400 and an HTML page), then closed.
 * - `half`: half of the server's next answer, then the connection is cut.
 * - `auth`: the startup is refused with FATAL 28P01 (password authentication
 *   failed); the sessions open are ended first, as after a password change.
 * - `flaky:<p>`: a new connection is reset at once with probability p (from
 *   a PRNG seeded per stand-in); the sessions open are ended first, so every
 *   statement that follows needs a new connection.
 * - `rename:<column>`: a schema change: the column is renamed to
 *   `<column>_v2` in every view that has it (ALTER VIEW ... RENAME COLUMN),
 *   and renamed back when the fault is lifted.
 *
 * Connections: pglite-socket 0.2.17 runs one backend, and passes it the
 * messages of every connection through one queue, one message at a time:
 * two clients' extended-protocol cycles (Parse, Bind, Execute, Sync) would
 * interleave and spoil each other. So the relay gives the backend to one
 * client at a time: it cuts what each client sends into whole messages, and
 * sends a client's messages on (each client over a connection of its own to
 * pglite-socket) only while that client has the backend. A client gets it
 * when it has a message to send, first come first served, and keeps it
 * until the backend answers its cycle (a Sync, a simple query) with a
 * ReadyForQuery outside a transaction: a client inside a transaction keeps
 * the backend, its session, until it commits or rolls back. A client that
 * leaves in the middle (it disconnects, sends Terminate, or a fault ends it)
 * leaves the backend as it found it: the relay sends the Sync or the
 * ROLLBACK the client owed, and waits for the answer before the next turn.
 * A startup needs no turn (PGlite answers it aside), but waits while a
 * transaction is open. A rename (below) takes a turn too. Clients are
 * served `maxConnections` at once (default 100, as PostgreSQL); one more is
 * refused at its startup with FATAL 53300, as PostgreSQL refuses it. The
 * backend is shared all the same: what a session sets outside a transaction
 * (SET, named prepared statements, temporary tables) the others see; and
 * COPY FROM STDIN is not served (PGlite loses the protocol on it).
 *
 * Starting PGlite runs initdb, several seconds; the data directory it makes
 * is kept (once per process) and each later stand-in starts its own database
 * from it, in about a second.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { parseDate } from '../adapters/mapping.ts';
import type { RawRow } from '../adapters/port.ts';
import type { DateFormat } from '../adapters/config.ts';
import { SQL_IDENTIFIER, SQL_VIEW_NAME, columnsOfSpec } from '../adapters/connectors/sql-config.ts';
import type { EntityName } from '../schema/records.ts';
import { createPrng, hashString, listenOn, type Fault, type StandIn } from './faults.ts';

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
  /** Client connections served at once (see above); default 100. */
  maxConnections?: number;
  fault?: Fault | null;
  /** Seed of the fault PRNG (flaky, garbage); default drawn from the source's id. */
  seed?: number;
}

export interface NulledDate {
  entity: EntityName;
  /** The row's localId, as given. */
  localId: string | null;
  column: string;
}

export interface SqlStandIn extends StandIn {
  /** `postgres://host:port`. */
  readonly origin: string;
  /** The connection string of the source: `postgres://postgres@host:port/postgres` (any user and password are let in). */
  readonly url: string;
  /** Dates that a DATE column could not hold, stored as NULL. */
  readonly nulledDates: readonly NulledDate[];
  /**
   * Statements received since the start or the last reset: each simple
   * query or extended-protocol Execute that reached the stand-in, answered
   * or met by a fault (a refused or reset connection sends none).
   */
  requestCount(): number;
  /** Bytes sent to clients, protocol framing and fault answers included. */
  bytesSent(): number;
  /** Client connections served now (not those refused), and the most at once since the start. */
  connections(): { now: number; most: number };
}

/** Rows inserted per INSERT statement while the tables are filled. */
const INSERT_BATCH = 200;
/** Where the tables behind the views live. */
const DATA_SCHEMA = 'stand_in';
/** PostgreSQL truncates longer names to this many bytes. */
const MAX_NAME_BYTES = 63;

const quote = (name: string, pattern: RegExp = SQL_IDENTIFIER): string => {
  if (!pattern.test(name)) throw new Error(`not a plain SQL name: ${JSON.stringify(name)}`);
  return name.split('.').map((part) => `"${part}"`).join('.');
};

// ---------------------------------------------------------------------------
// The database

/** The data directory of a new database, made once per process (initdb is the slow part of a start). */
let pristine: Promise<Blob> | null = null;

async function newDatabase(): Promise<PGlite> {
  if (pristine !== null) return PGlite.create({ loadDataDir: await pristine });
  const made = PGlite.create();
  const dumped = made.then((db) => db.dumpDataDir('none'));
  pristine = dumped;
  // A start that failed is tried afresh by the next stand-in.
  dumped.catch(() => {
    if (pristine === dumped) pristine = null;
  });
  const db = await made;
  try {
    await dumped;
  } catch (e) {
    await db.close();
    throw e;
  }
  return db;
}

// ---------------------------------------------------------------------------
// The wire protocol, as far as the relay reads and writes it

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
const PROTOCOL_3 = 196608;
const QUERY = 0x51; // 'Q'
const EXECUTE = 0x45; // 'E'
const SYNC = 0x53; // 'S'
const FUNCTION_CALL = 0x46; // 'F'
const TERMINATE = 0x58; // 'X'
const READY_FOR_QUERY = 0x5a; // 'Z'
/** The transaction status of a ReadyForQuery outside a transaction. */
const IDLE = 0x49; // 'I'
/** Extended-protocol messages that open a cycle, closed by the next Sync: Parse, Bind, Describe, Execute, Close, Flush. */
const EXTENDED = new Set([0x50, 0x42, 0x44, 0x45, 0x43, 0x48]);

interface ClientMessage {
  /** The type byte; null for the untyped messages that open a connection (startup, SSL or GSS request, cancel). */
  type: number | null;
  bytes: Buffer;
}
type TypedMessage = ClientMessage & { type: number };

/**
 * Cuts what a client sends into whole protocol messages. A connection opens
 * with untyped messages (an SSL or GSS request, then the startup message);
 * after the startup every message has a type byte. Bytes that cannot be
 * framed (a length shorter than its own header) make `invalid` true: nothing
 * more is read.
 */
class ClientMessages {
  private pending: Buffer = Buffer.alloc(0);
  typed = false;
  invalid = false;

  take(chunk: Buffer): ClientMessage[] {
    if (this.invalid) return [];
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const messages: ClientMessage[] = [];
    for (;;) {
      const head = this.typed ? 5 : 8;
      if (this.pending.length < head) break;
      const length = this.typed ? 1 + this.pending.readUInt32BE(1) : this.pending.readUInt32BE(0);
      if (length < head) {
        this.invalid = true;
        this.pending = Buffer.alloc(0);
        break;
      }
      if (this.pending.length < length) break;
      const bytes = this.pending.subarray(0, length);
      this.pending = this.pending.subarray(length);
      if (this.typed) {
        messages.push({ type: bytes[0]!, bytes });
      } else {
        messages.push({ type: null, bytes });
        const code = bytes.readUInt32BE(4);
        if (code !== SSL_REQUEST && code !== GSSENC_REQUEST) this.typed = true;
      }
    }
    return messages;
  }
}

/**
 * Follows what the server sends, message by message, without holding it:
 * to see each ReadyForQuery, and the transaction status it gives. Every
 * message has a type byte and a length, but the one-byte answer to an SSL
 * request.
 */
class ServerMessages {
  /** One-byte answers owed (to SSL requests sent on), read before the next message. */
  owedBytes = 0;
  /** The transaction status of the last ReadyForQuery: 'I' idle, 'T' in a transaction, 'E' in a failed one. */
  status = IDLE;
  private readonly head = Buffer.alloc(5);
  private headLength = 0;
  private type = 0;
  /** Bytes of the current message's body still to come. */
  private left = 0;
  private statusRead = false;

  /** Reads a chunk; returns how many ReadyForQuery it ended. */
  take(chunk: Buffer): number {
    let readies = 0;
    for (let i = 0; i < chunk.length; ) {
      if (this.left > 0) {
        if (this.type === READY_FOR_QUERY && !this.statusRead) {
          this.status = chunk[i]!;
          this.statusRead = true;
        }
        const n = Math.min(this.left, chunk.length - i);
        this.left -= n;
        i += n;
        if (this.left === 0 && this.type === READY_FOR_QUERY) readies++;
        continue;
      }
      if (this.headLength === 0 && this.owedBytes > 0) {
        this.owedBytes--;
        i++;
        continue;
      }
      this.head[this.headLength++] = chunk[i++]!;
      if (this.headLength < 5) continue;
      this.headLength = 0;
      this.type = this.head[0]!;
      this.left = Math.max(0, this.head.readUInt32BE(1) - 4);
      this.statusRead = false;
    }
    return readies;
  }
}

/** A frontend message: its type, its length, its body. */
function frontendMessage(type: string, body: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'ascii');
  head.writeUInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

/** Ends an extended-protocol cycle a client left open. */
const SYNC_MESSAGE = frontendMessage('S');
/** Ends a transaction a client left open. */
const ROLLBACK_MESSAGE = frontendMessage('Q', Buffer.from('ROLLBACK\0', 'utf8'));
/** The answer to a GSS encryption request of a server without it: go on unencrypted. */
const NO_ENCRYPTION = Buffer.from('N', 'ascii');

/** The parameters of a startup message (`user`, `database`, ...), or null if it is not one. */
function startupParameters(bytes: Buffer): Record<string, string> | null {
  if (bytes.length < 8 || bytes.readUInt32BE(4) !== PROTOCOL_3) return null;
  const parts = bytes.subarray(8).toString('utf8').split('\0');
  const params: Record<string, string> = {};
  for (let i = 0; i + 1 < parts.length && parts[i] !== ''; i += 2) params[parts[i]!] = parts[i + 1]!;
  return params;
}

/** An ErrorResponse: 'E', its length, the fields (severity, SQLSTATE, message), a terminating zero. */
function errorResponse(sqlState: string, message: string): Buffer {
  const field = (tag: string, value: string) => Buffer.concat([Buffer.from(tag, 'ascii'), Buffer.from(value, 'utf8'), Buffer.alloc(1)]);
  const body = Buffer.concat([field('S', 'FATAL'), field('V', 'FATAL'), field('C', sqlState), field('M', message), Buffer.alloc(1)]);
  const head = Buffer.alloc(5);
  head.write('E', 0, 'ascii');
  head.writeUInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

const TERMINATED = errorResponse('57P01', 'terminating connection due to administrator command');
const TOO_MANY_CLIENTS = errorResponse('53300', 'sorry, too many clients already');

/** What a web server says to bytes that are not HTTP. */
const HTML_ANSWER = (() => {
  const page =
    '<html>\r\n<head><title>400 Bad Request</title></head>\r\n<body>\r\n<center><h1>400 Bad Request</h1></center>\r\n' +
    '<hr><center>Servizio in manutenzione</center>\r\n</body>\r\n</html>\r\n';
  return Buffer.from(
    `HTTP/1.1 400 Bad Request\r\nContent-Type: text/html\r\nContent-Length: ${Buffer.byteLength(page)}\r\nConnection: close\r\n\r\n${page}`,
    'utf8',
  );
})();

/**
 * Bytes that are not the PostgreSQL protocol: a gzip magic number, then
 * noise. Read as a message, it claims more than 2 GB, so a client waits for
 * the rest until the connection closes.
 */
function garbage(random: () => number): Buffer {
  const bytes = Buffer.alloc(512);
  bytes[0] = 0x1f;
  bytes[1] = 0x8b;
  for (let i = 2; i < bytes.length; i++) bytes[i] = i % 7 === 0 ? 0 : Math.floor(random() * 256);
  return bytes;
}

// ---------------------------------------------------------------------------

export async function createSqlStandIn(options: SqlStandInOptions): Promise<SqlStandIn> {
  const { source } = options;
  if (source.dialect !== 'postgres') throw new Error(`source "${source.id}": the SQL stand-in speaks PostgreSQL only, not ${source.dialect}`);
  const separator = source.listSeparator ?? ',';
  const host = options.host ?? '127.0.0.1';
  const seed = options.seed ?? hashString(source.id);
  const maxConnections = options.maxConnections ?? 100;
  if (!Number.isInteger(maxConnections) || maxConnections < 1) throw new Error(`maxConnections must be a positive integer, not ${maxConnections}`);
  const db = await newDatabase();
  const nulledDates: NulledDate[] = [];
  /** The columns of each view, as created. */
  const viewColumns = new Map<string, readonly string[]>();

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
      viewColumns.set(view, mapped);
    }
  } catch (e) {
    await db.close();
    throw e;
  }

  /** `rename:<column>` as a schema change: every view with the column gets `<column>_v2` instead, or the name back. */
  async function renameColumn(column: string, direction: 'away' | 'back'): Promise<void> {
    const renamed = Buffer.from(`${column}_v2`).subarray(0, MAX_NAME_BYTES).toString();
    for (const [view, columns] of viewColumns) {
      if (!columns.includes(column)) continue;
      // The column is a plain identifier (it is one of the view's), so is `<column>_v2`: each is quoted as it is.
      const [from, to] = direction === 'away' ? [column, renamed] : [renamed, column];
      await db.exec(`ALTER VIEW ${view} RENAME COLUMN "${from}" TO "${to}"`);
    }
  }

  // The relay counts and refuses clients; pglite-socket must refuse none (its refusal is not PostgreSQL), and a
  // connection the relay has just closed may still count there for a moment: room for every client, twice over.
  const database = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 2 * maxConnections + 16 });
  try {
    await database.start();
  } catch (e) {
    await db.close();
    throw e;
  }
  const inner = database.getServerConn();
  const databasePort = Number(inner.slice(inner.lastIndexOf(':') + 1));

  // ---------------------------------------------------------------------------
  // The relay, where the faults are met.

  let fault: Fault | null = null;
  let random = createPrng(seed);
  let statements = 0;
  let bytes = 0;
  let most = 0;
  let closed = false;

  interface Session {
    client: Socket;
    database: Socket;
    /** The server's last bytes ended a ReadyForQuery: the session waits for a statement. */
    idle: boolean;
    /** What the server sent that a `slow` fault holds back, in order, with when each part may go. */
    held: Array<{ at: number; data: Buffer }>;
    timer: NodeJS.Timeout | null;
    /** The server closed: the client is closed once what is held has gone. */
    databaseEnded: boolean;
    /** A fault ended the session: nothing more is relayed either way. */
    done: boolean;
    /** Whole messages of the client (typed: after the startup) that wait for the backend to be its. */
    queued: TypedMessage[];
    /** The startup went on, its ReadyForQuery has not come back. */
    starting: boolean;
    /** ReadyForQuery the backend owes for what went on with the lock: one for each Sync, simple query and function call. */
    owed: number;
    /** Extended-protocol messages went on since the last Sync: the cycle is open. */
    open: boolean;
    answers: ServerMessages;
    /** The client is gone: the connection to pglite-socket closes once the backend is idle. */
    leaving: boolean;
    /** A ROLLBACK went on for the client that left inside a transaction. */
    rolledBack: boolean;
  }
  const sessions = new Set<Session>();
  const resets = new Set<Socket>();
  const refused = new Set<Socket>();

  // ---------------------------------------------------------------------------
  // One client at a time: the session (or the stand-in's own statement) that has the backend, and those waiting for it.

  const OWN = Symbol('the stand-in');
  let holder: Session | typeof OWN | null = null;
  const waiting: Array<Session | (() => void)> = [];

  function request(s: Session): void {
    if (holder === s || waiting.includes(s)) return;
    if (holder === null) grant(s);
    else waiting.push(s);
  }

  function grant(s: Session): void {
    holder = s;
    const queued = s.queued;
    s.queued = [];
    pass(s, queued);
    settle(s);
  }

  function releaseFrom(s: Session | typeof OWN): void {
    if (holder !== s) return;
    holder = null;
    while (holder === null && waiting.length > 0) {
      const next = waiting.shift()!;
      if (typeof next === 'function') next();
      else if (!next.leaving && !next.database.destroyed && next.queued.length > 0) grant(next);
    }
  }

  /** Runs `work` with the backend to itself, between the clients' cycles (a simple query ends the unnamed statement a cycle may be using). */
  async function exclusive(work: () => Promise<void>): Promise<void> {
    await new Promise<void>((resolve) => {
      const take = () => {
        holder = OWN;
        resolve();
      };
      if (holder === null) take();
      else waiting.push(take);
    });
    try {
      await work();
    } finally {
      releaseFrom(OWN);
    }
  }

  /** Sends a client's messages on to the backend, noting the answers they are owed. */
  function pass(s: Session, messages: readonly TypedMessage[]): void {
    if (messages.length === 0) return;
    for (const m of messages) {
      if (m.type === QUERY || m.type === FUNCTION_CALL) s.owed++;
      else if (m.type === SYNC) {
        s.owed++;
        s.open = false;
      } else if (EXTENDED.has(m.type)) s.open = true;
    }
    s.database.write(messages.length === 1 ? messages[0]!.bytes : Buffer.concat(messages.map((m) => m.bytes)));
  }

  /**
   * After the holder's messages went on or an answer came: the backend is
   * let go once it owes nothing, no cycle is open and no transaction either.
   * For a client that left, the relay first closes what it left open.
   */
  function settle(s: Session): void {
    if (holder !== s) return;
    if (!s.leaving) {
      if (s.owed === 0 && !s.open && s.answers.status === IDLE) releaseFrom(s);
      return;
    }
    if (s.database.destroyed) {
      releaseFrom(s);
      return;
    }
    if (s.owed > 0) return;
    if (s.open) {
      s.open = false;
      s.owed++;
      s.database.write(SYNC_MESSAGE);
      return;
    }
    if (s.answers.status !== IDLE && !s.rolledBack) {
      s.rolledBack = true;
      s.owed++;
      s.database.write(ROLLBACK_MESSAGE);
      return;
    }
    s.database.destroy();
    releaseFrom(s);
  }

  /** The client is gone, or a fault ended it: the connection to pglite-socket goes too, once the backend is idle. */
  function leave(s: Session): void {
    if (s.leaving) return;
    s.leaving = true;
    s.queued = [];
    const at = waiting.indexOf(s);
    if (at >= 0) waiting.splice(at, 1);
    if (holder === s) settle(s);
    else s.database.destroy();
  }

  // ---------------------------------------------------------------------------

  const send = (s: Session, data: Buffer, then?: () => void) => {
    bytes += data.length;
    s.client.write(data, then);
  };

  function end(s: Session, last?: Buffer): void {
    if (s.done) return;
    s.done = true;
    if (s.timer) clearTimeout(s.timer);
    s.timer = null;
    s.held = [];
    leave(s);
    if (last && s.client.writable) {
      bytes += last.length;
      s.client.end(last, () => s.client.destroy());
    } else {
      s.client.destroy();
    }
  }

  function release(s: Session): void {
    s.timer = null;
    const now = Date.now();
    while (s.held.length > 0 && s.held[0]!.at <= now) forward(s, s.held.shift()!.data);
    if (s.held.length > 0) s.timer = setTimeout(() => release(s), s.held[0]!.at - now);
    else if (s.databaseEnded) s.client.end();
  }

  function forward(s: Session, data: Buffer): void {
    if (s.done || s.client.destroyed) return;
    s.idle = data.length >= 6 && data[data.length - 6] === READY_FOR_QUERY && data.readUInt32BE(data.length - 5) === 5;
    send(s, data);
  }

  /** What the server sent, to the client, as the fault in force lets it. */
  function toClient(s: Session, data: Buffer): void {
    if (s.done || s.client.destroyed) return;
    const current = fault;
    if (current?.kind === 'half') {
      // Half of this answer, then the connection is cut.
      s.done = true;
      leave(s);
      const half = data.subarray(0, Math.floor(data.length / 2));
      if (half.length === 0) s.client.destroy();
      else send(s, half, () => s.client.destroy());
      return;
    }
    const delay = current?.kind === 'slow' ? current.delayMs : 0;
    if (delay === 0 && s.held.length === 0) {
      forward(s, data);
      return;
    }
    s.held.push({ at: Date.now() + delay, data });
    if (s.timer === null) s.timer = setTimeout(() => release(s), s.held[0]!.at - Date.now());
  }

  /** One client too many: refused at its startup, as PostgreSQL refuses it. */
  function refuse(client: Socket): void {
    refused.add(client);
    client.on('close', () => refused.delete(client));
    const messages = new ClientMessages();
    client.on('data', (chunk: Buffer) => {
      for (const m of messages.take(chunk)) {
        const code = m.type === null ? m.bytes.readUInt32BE(4) : null;
        if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
          bytes += NO_ENCRYPTION.length;
          client.write(NO_ENCRYPTION);
          continue;
        }
        const answer = code === PROTOCOL_3 ? TOO_MANY_CLIENTS : Buffer.alloc(0);
        bytes += answer.length;
        client.end(answer, () => client.destroy());
        return;
      }
      if (messages.invalid) client.destroy();
    });
  }

  const relay: Server = createServer((client) => {
    client.on('error', () => {});
    if (closed) {
      client.destroy();
      return;
    }
    if (fault?.kind === 'flaky' && random() < fault.probability) {
      resets.add(client);
      client.on('close', () => resets.delete(client));
      client.resetAndDestroy();
      return;
    }
    if (sessions.size >= maxConnections) {
      refuse(client);
      return;
    }
    const s: Session = {
      client,
      database: connect({ host: '127.0.0.1', port: databasePort }),
      idle: false,
      held: [],
      timer: null,
      databaseEnded: false,
      done: false,
      queued: [],
      starting: false,
      owed: 0,
      open: false,
      answers: new ServerMessages(),
      leaving: false,
      rolledBack: false,
    };
    sessions.add(s);
    most = Math.max(most, sessions.size);
    s.database.setNoDelay(true);
    client.setNoDelay(true);
    const messages = new ClientMessages();

    client.on('data', (chunk: Buffer) => {
      for (const m of messages.take(chunk)) {
        // Every statement that arrives counts, those after a fault ended the session too (they were sent).
        if (m.type === QUERY || m.type === EXECUTE) statements++;
        if (s.done || s.leaving || s.client.destroyed) continue;
        const current = fault;
        if (current?.kind === 'garbage') {
          end(s, garbage(random));
          continue;
        }
        if (current?.kind === 'html') {
          end(s, HTML_ANSWER);
          continue;
        }
        if (current?.kind === 'auth' && m.type === null) {
          const params = startupParameters(m.bytes);
          if (params !== null) {
            end(s, errorResponse('28P01', `password authentication failed for user "${params.user ?? ''}"`));
            continue;
          }
        }
        if (m.type === TERMINATE) {
          // The backend is shared: nothing to end there but what the client left open. A server closes the connection.
          leave(s);
          s.client.end();
          continue;
        }
        if (m.type === null) {
          const code = m.bytes.readUInt32BE(4);
          if (code === SSL_REQUEST) {
            // pglite-socket answers it at once, with one byte, without the backend.
            s.answers.owedBytes++;
            s.database.write(m.bytes);
            continue;
          }
          if (code === GSSENC_REQUEST) {
            send(s, NO_ENCRYPTION);
            continue;
          }
          if (code === CANCEL_REQUEST) {
            // A server reads a cancel request and closes; pglite-socket cancels nothing.
            end(s, Buffer.alloc(0));
            continue;
          }
          if (code !== PROTOCOL_3) {
            end(s, errorResponse('0A000', `unsupported frontend protocol ${code >>> 16}.${code & 0xffff}: server supports 3.0 to 3.0`));
            continue;
          }
          // The startup goes on at once: PGlite answers it without touching the statements of a cycle open, nor
          // its settings (it ignores the options), and pglite-socket holds it back while a transaction is open.
          s.idle = false;
          s.starting = true;
          s.database.write(m.bytes);
          continue;
        }
        s.idle = false;
        s.queued.push({ type: m.type, bytes: m.bytes });
      }
      if (messages.invalid && !s.done) end(s, messages.typed ? errorResponse('08P01', 'invalid message length') : undefined);
      if (s.done || s.leaving || s.queued.length === 0) return;
      if (holder === s) {
        const queued = s.queued;
        s.queued = [];
        pass(s, queued);
        settle(s);
      } else {
        request(s);
      }
    });

    s.database.on('data', (data: Buffer) => {
      let readies = s.answers.take(data);
      if (s.starting && readies > 0) {
        s.starting = false;
        readies--;
      }
      s.owed = Math.max(0, s.owed - readies);
      toClient(s, data);
      if (readies > 0) settle(s);
    });
    s.database.on('error', () => s.client.destroy());
    s.database.on('end', () => {
      s.databaseEnded = true;
      if (s.held.length === 0) s.client.end();
    });
    s.database.on('close', () => {
      const at = waiting.indexOf(s);
      if (at >= 0) waiting.splice(at, 1);
      releaseFrom(s);
    });
    client.on('close', () => {
      if (s.timer) clearTimeout(s.timer);
      s.timer = null;
      sessions.delete(s);
      leave(s);
    });
  });

  /** Ends every session: one waiting for a statement is told why (FATAL 57P01), as a server does; one mid-answer is cut. */
  function endSessions(): void {
    for (const s of sessions) end(s, s.idle && s.held.length === 0 ? TERMINATED : undefined);
  }

  const listen = (port: number) => listenOn(relay, port, host);

  const stopListening = () =>
    new Promise<void>((resolve) => {
      endSessions();
      for (const c of resets) c.destroy();
      for (const c of refused) c.destroy();
      if (!relay.listening) return resolve();
      relay.close(() => resolve());
    });

  let port: number;
  try {
    port = await listen(options.port ?? 0);
  } catch (e) {
    await database.stop();
    await db.close();
    throw e;
  }

  /** Puts a fault in force: the schema change of a rename, then what the relay does. */
  async function apply(next: Fault | null): Promise<void> {
    const previous = fault;
    const sameRename = previous?.kind === 'rename' && next?.kind === 'rename' && previous.field === next.field;
    if (previous?.kind === 'rename' && !sameRename) await exclusive(() => renameColumn(previous.field, 'back'));
    fault = next;
    random = createPrng(seed);
    if (next?.kind === 'rename' && !sameRename) await exclusive(() => renameColumn(next.field, 'away'));
    if (next?.kind === 'down') {
      await stopListening();
      return;
    }
    if (next?.kind === 'auth' || next?.kind === 'flaky') endSessions();
    if (!relay.listening) await listen(port);
  }

  // setFault calls are applied one after the other: a rename is undone before the next is made.
  let applying: Promise<void> = Promise.resolve();
  const setFault = (next: Fault | null): Promise<void> => {
    const run = applying.then(() => {
      if (closed) throw new Error('stand-in is closed');
      return apply(next);
    });
    applying = run.catch(() => {});
    return run;
  };

  if (options.fault) {
    try {
      await setFault(options.fault);
    } catch (e) {
      relay.close();
      await database.stop();
      await db.close();
      throw e;
    }
  }

  const origin = `postgres://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return {
    host,
    port,
    origin,
    url: `postgres://postgres@${host.includes(':') ? `[${host}]` : host}:${port}/postgres`,
    get fault() {
      return fault;
    },
    nulledDates,
    requestCount: () => statements,
    bytesSent: () => bytes,
    resetRequestCount: () => {
      statements = 0;
      bytes = 0;
    },
    connections: () => ({ now: sessions.size, most }),
    setFault,
    async close() {
      if (closed) return;
      closed = true;
      await applying;
      await stopListening();
      await database.stop();
      await db.close();
    },
  };
}
