/**
 * A city system that is a database: one read-only VIEW per entity, in
 * PostgreSQL (`pg`) or MariaDB/MySQL (`mysql2`), read with bound parameters
 * only. Names in SQL text (views, columns) come from the validated config,
 * are checked again against a strict identifier pattern and quoted for the
 * dialect; every value (an id, a code, a date bound, LIMIT and OFFSET) is a
 * parameter: `$1` for PostgreSQL, `?` for MySQL (server-side prepared
 * statements, so values never travel inside SQL text).
 *
 * - `page`: `SELECT COUNT(*)` and then the slice, `ORDER BY` the localId
 *   column, both with the same WHERE: the conditions `pushable` accepts
 *   (ids and codes in lists, date ranges on DATE columns).
 * - `lookup`: `<key> = ANY($1)` (PostgreSQL) or `<key> IN (?, ...)` (MySQL),
 *   `maxBatchSize` ids a statement.
 * - DATE columns arrive as text in the source's `dateFormat`, like the text
 *   dates of other sources, so the shared mapping reads both the same way.
 *
 * Each statement goes through the source's resilience policy (cockatiel,
 * built once per source by http.ts's createSourcePolicy): retries on a connection
 * refused or lost, a timeout or a server going down; a circuit breaker; a
 * bulkhead as wide as the connection pool (`maxConcurrent`). Each attempt is
 * bounded by the driver: `connectTimeoutMs` to connect, `timeoutMs` per
 * statement (PostgreSQL's statement_timeout, the server cancelling it; the
 * MySQL client's query timeout, which drops the connection).
 *
 * Errors name the city and never carry SQL text with values, nor a server
 * message (it may quote a value: `invalid input syntax for type integer:
 * "…"`): an SQL error is named by its SQLSTATE or MySQL code only.
 *
 * Pools are made at the first statement. PostgreSQL's lets the process exit
 * while its connections are idle (`allowExitOnIdle`); MySQL's idle sockets
 * are unreferenced, and the pool is closed after IDLE_MS without a
 * statement. `close()` ends the pool at once (the port has no close yet).
 */
import mysql from 'mysql2/promise';
import pg from 'pg';
import { CityError, asCityError } from '../../schema/errors.ts';
import type { EntityName } from '../../schema/records.ts';
import type { ResolvedSource } from '../config.ts';
import type { ConnectorDeps, ConnectorStatus, LookupKey, RawPage, RawRow, SourceConnector, Where } from '../port.ts';
import { filterablePaths } from '../source-base.ts';
import { createFilterTranslator, formatDate } from './filters.ts';
import { abortable, createSourcePolicy, failure, mapConcurrently, withHealth, type Verdict } from './http.ts';
import { SQL_IDENTIFIER, SQL_VIEW_NAME, columnsOfSpec, parseConnectionString, type SqlDialect, type SqlEndpoint } from './sql-config.ts';

export type SqlSource = ResolvedSource & { kind: 'sql' };

/** One statement: SQL text made only of config names and placeholders, and the values bound to them. */
export interface SqlStatement {
  readonly sql: string;
  readonly params: readonly unknown[];
}

export interface SqlResult {
  rows: Array<Record<string, unknown>>;
  /** Columns of the result whose SQL type is DATE (their values are `YYYY-MM-DD` text). */
  dateColumns: ReadonlySet<string>;
}

/** What the connector asks of a database: one statement at a time, through a pool. */
export interface SqlClient {
  readonly dialect: SqlDialect;
  query(statement: SqlStatement): Promise<SqlResult>;
  /** Ends the pool; a later statement makes a new one. */
  close(): Promise<void>;
}

export interface SqlConnectorOptions {
  /** Wraps the database client, e.g. to record each statement sent (tests). */
  wrapClient?: (client: SqlClient) => SqlClient;
}

export interface SqlConnector extends SourceConnector {
  /** Ends the connection pool (the port has no close: the process may also just exit, idle pools do not hold it). */
  close(): Promise<void>;
}

/** An idle MySQL pool is closed after this long without a statement, in milliseconds (PostgreSQL's idle connections close after as long). */
const IDLE_MS = 10_000;
/** The PostgreSQL client gives up this long after the server's statement_timeout should have cancelled a statement, in milliseconds. */
const QUERY_TIMEOUT_GRACE_MS = 1_000;
/** Most look-up statements in flight at once for one call (the pool is the source's to share). */
const MAX_LOOKUP_STATEMENTS = 4;

/** PostgreSQL type oids read as text: DATE, TIMESTAMP, TIMESTAMPTZ (never a JS Date: its time zone shifts days). */
const PG_DATE = 1082;
const pgTextTypes = new Set([PG_DATE, 1114, 1184]);
/** MySQL column types of a DATE. */
const mysqlDateTypes = new Set([10, 14]);

/** A config name quoted for the dialect; throws on anything but a plain identifier (the config is checked at load, this is the last guard). */
export function quoteName(dialect: SqlDialect, name: string, pattern: RegExp = SQL_IDENTIFIER): string {
  if (!pattern.test(name)) throw new Error(`not a plain SQL name: ${JSON.stringify(name.slice(0, 70))}`);
  const q = dialect === 'postgres' ? '"' : '`';
  return name.split('.').map((part) => q + part + q).join('.');
}

/** One condition of a WHERE, on a column, with its values. */
type Condition =
  | { kind: 'in'; column: string; values: readonly string[]; normalise: boolean }
  | { kind: 'range'; column: string; from?: string; to?: string };

/** Builds SQL text and its parameters together, so that a value can only ever be a placeholder. */
class Statement {
  readonly params: unknown[] = [];
  readonly dialect: SqlDialect;
  constructor(dialect: SqlDialect) {
    this.dialect = dialect;
  }
  bind(value: unknown): string {
    this.params.push(value);
    return this.dialect === 'postgres' ? `$${this.params.length}` : '?';
  }
  name(name: string): string {
    return quoteName(this.dialect, name);
  }
  /** `column` in `values`: one array parameter for PostgreSQL, one placeholder a value for MySQL. */
  inList(expr: string, values: readonly string[]): string {
    return this.dialect === 'postgres' ? `${expr} = ANY(${this.bind(values)})` : `${expr} IN (${values.map((v) => this.bind(v)).join(', ')})`;
  }
  /** `WHERE ...` for the conditions, or nothing. */
  where(conditions: readonly Condition[]): string {
    const parts = conditions.map((c) => {
      const column = this.name(c.column);
      if (c.kind === 'in') {
        if (!c.normalise) return this.inList(column, c.values);
        // Codes match as the mapping matches them: whatever the case and the surrounding spaces.
        const text = this.dialect === 'postgres' ? `CAST(${column} AS TEXT)` : `CAST(${column} AS CHAR)`;
        return this.inList(`LOWER(TRIM(${text}))`, c.values);
      }
      const bounds: string[] = [];
      if (c.from !== undefined) bounds.push(`${column} >= ${this.bind(c.from)}`);
      if (c.to !== undefined) bounds.push(`${column} <= ${this.bind(c.to)}`);
      return bounds.join(' AND ');
    });
    return parts.length === 0 ? '' : ` WHERE ${parts.join(' AND ')}`;
  }
  done(sql: string): SqlStatement {
    return { sql, params: this.params };
  }
}

interface EntityPlan {
  view: string;
  /** The columns selected, each once, in the order of the canonical fields. */
  columns: string[];
  /** Canonical field -> its column, for fields that name one column. */
  columnOf: Record<string, string | undefined>;
  /** Columns the config says are DATE columns, and the field each serves. */
  declaredDates: Map<string, string>;
}

export function createSqlConnector(city: string, source: SqlSource, deps: ConnectorDeps, options: SqlConnectorOptions = {}): SqlConnector {
  const dialect = source.dialect;
  const log = { city, source: source.id };
  const bad = (detail: string) => new CityError('CITY_BAD_RESPONSE', city, detail);

  // Everything that makes SQL text is checked once, here: a name that is not an identifier never reaches a statement.
  let problem: string | null = null;
  let endpoint: SqlEndpoint | null = null;
  const plans = new Map<EntityName, EntityPlan>();
  try {
    endpoint = parseConnectionString(dialect, source.baseUrl);
    for (const [entity, e] of Object.entries(source.entities) as Array<[EntityName, NonNullable<SqlSource['entities'][EntityName]>]>) {
      if (!e) continue;
      plans.set(entity, planOf(entity, e));
    }
  } catch (e) {
    problem = `source "${source.id}": ${(e as Error).message}`;
    deps.logger.error('sql source cannot be used', { ...log, problem });
  }

  function planOf(entity: EntityName, e: NonNullable<SqlSource['entities'][EntityName]>): EntityPlan {
    quoteName(dialect, e.view, SQL_VIEW_NAME);
    const fields = e.fields as Record<string, string>;
    const columns: string[] = [];
    const columnOf: Record<string, string | undefined> = {};
    for (const [field, spec] of Object.entries(fields)) {
      for (const column of columnsOfSpec(spec)) {
        quoteName(dialect, column);
        if (!columns.includes(column)) columns.push(column);
      }
      if (!spec.includes('{')) columnOf[field] = spec;
    }
    if (columnOf.localId === undefined) throw new Error(`${entity}: localId must name one column`);
    const declaredDates = new Map<string, string>();
    for (const [field, storage] of Object.entries((e.dates ?? {}) as Record<string, string>)) {
      const column = columnOf[field];
      if (storage === 'date' && column !== undefined) declaredDates.set(column, field);
    }
    return { view: e.view, columns, columnOf, declaredDates };
  }

  // The conditions each entity can take in SQL, written by filters.ts as REST query parameters (one per
  // path, two per date range) and read back here as conditions: the same codes, bounds and omissions as REST.
  const paramMeaning = new Map<string, { column: string; part: 'list' | 'from' | 'to'; normalise: boolean }>();
  const translatorEntities: Record<string, { filters: Record<string, string | { from: string; to: string }> }> = {};
  for (const [entity, plan] of plans) {
    const e = source.entities[entity]!;
    const allowed = e.filters ?? Object.keys(filterablePaths[entity]);
    const filters: Record<string, string | { from: string; to: string }> = {};
    for (const [path, f] of Object.entries(filterablePaths[entity])) {
      const column = plan.columnOf[f.field];
      if (!allowed.includes(path) || column === undefined) continue;
      if (f.kind === 'date') {
        if (!plan.declaredDates.has(column)) continue;
        const from = `${entity}\u0000${path}\u0000from`;
        const to = `${entity}\u0000${path}\u0000to`;
        paramMeaning.set(from, { column, part: 'from', normalise: false });
        paramMeaning.set(to, { column, part: 'to', normalise: false });
        filters[path] = { from, to };
      } else {
        const param = `${entity}\u0000${path}`;
        paramMeaning.set(param, { column, part: 'list', normalise: f.kind === 'code' });
        filters[path] = param;
      }
    }
    translatorEntities[entity] = { filters };
  }
  // Bounds in ISO: a DATE column compares with ISO text whatever the source's own text dates look like.
  const translator = createFilterTranslator({
    entities: translatorEntities,
    vocabularies: source.vocabularies,
    citizenship: source.citizenship,
    dateFormat: 'yyyy-mm-dd',
  } as unknown as Parameters<typeof createFilterTranslator>[0]);

  /** The part of `where` said in SQL: what the translator can write, but lists longer than a look-up batch (a statement's placeholders are few). */
  function pushableOf(entity: EntityName, where: Where): Where {
    const pushed = translator.pushable(entity, where);
    return Object.fromEntries(Object.entries(pushed).filter(([, c]) => !Array.isArray(c) || c.length <= source.maxBatchSize));
  }

  function conditionsFor(entity: EntityName, where: Where | undefined): Condition[] {
    if (!where) return [];
    const byPath = new Map<string, Condition>();
    for (const [param, value] of Object.entries(translator.query(entity, pushableOf(entity, where)))) {
      const meaning = paramMeaning.get(param);
      if (!meaning) continue;
      if (meaning.part === 'list') {
        const values = (typeof value === 'object' ? [...value] : [String(value)]).map((v) => (meaning.normalise ? v.trim().toLowerCase() : v));
        byPath.set(param, { kind: 'in', column: meaning.column, values: [...new Set(values)], normalise: meaning.normalise });
      } else {
        const key = param.replace(/\u0000(from|to)$/, '');
        const range = (byPath.get(key) ?? { kind: 'range', column: meaning.column }) as Extract<Condition, { kind: 'range' }>;
        range[meaning.part] = String(value);
        byPath.set(key, range);
      }
    }
    return [...byPath.values()];
  }

  // ---------------------------------------------------------------------------
  // The database client, made at the first statement.

  let rawClient: SqlClient | null = null;
  const client = (): SqlClient => {
    if (rawClient) return rawClient;
    const made = dialect === 'postgres' ? createPgClient(endpoint!, source, deps, log) : createMysqlClient(endpoint!, source, deps, log);
    rawClient = options.wrapClient ? options.wrapClient(made) : made;
    return rawClient;
  };

  // ---------------------------------------------------------------------------
  // The policy, built once. No timeout of its own: the driver bounds each attempt
  // (connect timeout, statement timeout), and so frees its connection.
  const { execute, remember, rejection, health } = createSourcePolicy(city, source, deps);

  let state: 'UP' | 'DOWN' | 'UNKNOWN' = 'UNKNOWN';
  let lastGood: Date | null = null;

  /** One statement through the policy; `what` names it in errors (a view, never a value). */
  async function run(statement: SqlStatement, what: string, signal: AbortSignal | undefined): Promise<SqlResult> {
    signal?.throwIfAborted();
    let attempts = 0;
    const execution = execute(() => {
      attempts++;
      // The caller may have given up during the pause before this attempt: then nothing more is sent.
      if (signal?.aborted) return Promise.reject(signal.reason);
      return attempt(statement, what, signal);
    }, signal);
    try {
      const result = await abortable(execution, signal);
      state = 'UP';
      lastGood = new Date(deps.now());
      return result;
    } catch (e) {
      if (signal?.aborted) throw signal.reason;
      const error = rejection(e, 'statements');
      // A fault of the graph's own (not a CityError) says nothing about the city.
      if (error instanceof CityError) state = 'DOWN';
      throw error;
    } finally {
      if (attempts > 0 && !signal?.aborted) remember(attempts > 1);
    }
  }

  async function attempt(statement: SqlStatement, what: string, signal: AbortSignal | undefined): Promise<SqlResult> {
    const started = performance.now();
    const seen = (outcome: string) => deps.observe?.({ city, source: source.id, outcome, seconds: (performance.now() - started) / 1000 });
    try {
      const result = await client().query(statement);
      seen('ok');
      return result;
    } catch (e) {
      const error = classifySqlError(e, city, dialect, { what, connectTimeoutMs: source.connectTimeoutMs, timeoutMs: source.timeoutMs });
      seen(error instanceof CityError ? error.code : signal?.aborted ? 'ABORTED' : 'INTERNAL_ERROR');
      throw error;
    }
  }

  function planFor(entity: EntityName): EntityPlan {
    if (problem !== null) throw new CityError('CITY_NOT_CONFIGURED', city, problem);
    const plan = plans.get(entity);
    if (!plan) throw new CityError('CITY_NOT_CONFIGURED', city, `source "${source.id}" does not serve ${entity}`);
    return plan;
  }

  /** The rows of a result as the mapping reads them: DATE values in the source's date format. */
  function rowsOf(plan: EntityPlan, result: SqlResult): RawRow[] {
    for (const [column, field] of plan.declaredDates) {
      if (!result.dateColumns.has(column)) {
        throw bad(`column "${column}" of view "${plan.view}" is not a DATE column, as the config's dates.${field} says (a range on it would compare text)`);
      }
    }
    if (result.dateColumns.size === 0) return result.rows;
    const dates = [...result.dateColumns];
    return result.rows.map((row) => {
      const copy: Record<string, unknown> = { ...row };
      for (const column of dates) {
        const v = copy[column];
        if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v)) copy[column] = formatDate(v, source.dateFormat);
      }
      return copy;
    });
  }

  function selectList(s: Statement, plan: EntityPlan): string {
    return plan.columns.map((c) => s.name(c)).join(', ');
  }

  return {
    kind: 'sql',

    async page(entity, { offset, limit, where }, signal) {
      const plan = planFor(entity);
      if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError('offset must be a non-negative integer');
      if (!(limit >= 0)) throw new RangeError('limit must be non-negative');
      const conditions = conditionsFor(entity, where);
      const what = `view "${plan.view}"`;

      const count = new Statement(dialect);
      const countSql = `SELECT COUNT(*) AS ${count.name('total')} FROM ${quoteName(dialect, plan.view, SQL_VIEW_NAME)}${count.where(conditions)}`;
      const counted = await run(count.done(countSql), what, signal);
      const total = Number(counted.rows[0]?.total);
      if (!Number.isSafeInteger(total) || total < 0) throw bad(`COUNT(*) on ${what} did not answer a count`);

      const want = Math.min(limit, total - offset);
      if (!(want > 0)) return { rows: [], total } satisfies RawPage;
      const s = new Statement(dialect);
      const filter = s.where(conditions);
      // MySQL is sent LIMIT and OFFSET as text: some servers refuse the DOUBLE that mysql2 makes of a JS number there.
      const n = (v: number) => (dialect === 'postgres' ? v : String(v));
      const sql = `SELECT ${selectList(s, plan)} FROM ${quoteName(dialect, plan.view, SQL_VIEW_NAME)}${filter} ORDER BY ${s.name(plan.columnOf.localId!)} LIMIT ${s.bind(n(want))} OFFSET ${s.bind(n(offset))}`;
      const result = await run(s.done(sql), what, signal);
      return { rows: rowsOf(plan, result), total } satisfies RawPage;
    },

    pushable(entity, where) {
      if (problem !== null || !plans.has(entity)) return {};
      return pushableOf(entity, where);
    },

    async lookup(entity, key: LookupKey, values, signal) {
      const plan = planFor(entity);
      const column = plan.columnOf[key];
      if (column === undefined) throw new CityError('CITY_NOT_CONFIGURED', city, `${entity} has no column for ${key}`);
      const wanted = [...new Set(values)];
      if (wanted.length === 0) return [];
      const batches: string[][] = [];
      for (let i = 0; i < wanted.length; i += source.maxBatchSize) batches.push(wanted.slice(i, i + source.maxBatchSize));
      const what = `view "${plan.view}"`;
      const results = await mapConcurrently(batches, Math.min(MAX_LOOKUP_STATEMENTS, source.maxConcurrent), async (batch) => {
        const s = new Statement(dialect);
        const sql = `SELECT ${selectList(s, plan)} FROM ${quoteName(dialect, plan.view, SQL_VIEW_NAME)} WHERE ${s.inList(s.name(column), batch)}`;
        return rowsOf(plan, await run(s.done(sql), what, signal));
      });
      return results.flat();
    },

    status(): ConnectorStatus {
      if (problem !== null) return { status: 'NOT_CONFIGURED', asOf: null, reason: problem };
      return withHealth({ status: state, asOf: lastGood }, health());
    },

    async close() {
      const c = rawClient;
      rawClient = null;
      await c?.close();
    },
  };
}

// ---------------------------------------------------------------------------
// Errors

/** Names of the SQLSTATEs met most, for the operator reading an error (never the server's message). */
const sqlStateNames: Record<string, string> = {
  '08000': 'connection_exception', '08003': 'connection_does_not_exist', '08006': 'connection_failure',
  '08001': 'sqlclient_unable_to_establish_sqlconnection', '08004': 'sqlserver_rejected_establishment_of_sqlconnection',
  '0A000': 'feature_not_supported', '22007': 'invalid_datetime_format', '22008': 'datetime_field_overflow',
  '22P02': 'invalid_text_representation', '25006': 'read_only_sql_transaction', '28000': 'invalid_authorization_specification',
  '28P01': 'invalid_password', '3D000': 'invalid_catalog_name', '3F000': 'invalid_schema_name', '40001': 'serialization_failure',
  '40P01': 'deadlock_detected', '42501': 'insufficient_privilege', '42601': 'syntax_error', '42703': 'undefined_column',
  '42804': 'datatype_mismatch', '42883': 'undefined_function', '42P01': 'undefined_table', '53000': 'insufficient_resources',
  '53100': 'disk_full', '53200': 'out_of_memory', '53300': 'too_many_connections', '54000': 'program_limit_exceeded',
  '57014': 'query_canceled', '57P01': 'admin_shutdown', '57P02': 'crash_shutdown', '57P03': 'cannot_connect_now', 'XX000': 'internal_error',
};

const mysqlAuthCodes = new Set(['ER_ACCESS_DENIED_ERROR', 'ER_ACCESS_DENIED_NO_PASSWORD_ERROR', 'ER_DBACCESS_DENIED_ERROR', 'ER_HOST_NOT_PRIVILEGED', 'ER_NOT_SUPPORTED_AUTH_MODE']);
const mysqlPrivilegeCodes = new Set(['ER_TABLEACCESS_DENIED_ERROR', 'ER_COLUMNACCESS_DENIED_ERROR', 'ER_SPECIFIC_ACCESS_DENIED_ERROR', 'ER_PROCACCESS_DENIED_ERROR']);
const mysqlUnavailableCodes = new Set([
  'ER_CON_COUNT_ERROR', 'ER_TOO_MANY_USER_CONNECTIONS', 'ER_SERVER_SHUTDOWN', 'ER_NORMAL_SHUTDOWN', 'ER_SHUTDOWN_COMPLETE',
  'ER_CONNECTION_KILLED', 'ER_QUERY_INTERRUPTED', 'ER_HOST_IS_BLOCKED', 'ER_OUT_OF_RESOURCES', 'ER_NET_READ_INTERRUPTED',
  'ER_NET_READ_ERROR', 'ER_NET_WRITE_INTERRUPTED', 'ER_NET_ERROR_ON_WRITE', 'PROTOCOL_CONNECTION_LOST', 'CR_SERVER_GONE_ERROR', 'CR_SERVER_LOST',
]);
const mysqlTimeoutCodes = new Set(['PROTOCOL_SEQUENCE_TIMEOUT', 'ER_STATEMENT_TIMEOUT', 'ER_QUERY_TIMEOUT', 'ER_LOCK_WAIT_TIMEOUT']);

interface ClassifyContext {
  /** What was read ("view \"v_assistiti\""): config names only. */
  what: string;
  connectTimeoutMs: number;
  timeoutMs: number;
}

/**
 * An error while a MySQL connection is made that neither the network nor the server coded:
 * its parser failed on the server's greeting (something that is not MySQL
 * answers on the port). Coded as a protocol error, so that it is the city's
 * bad answer and not the graph's own fault.
 */
function unreadableGreeting(e: unknown): unknown {
  const code = (e as { code?: unknown })?.code;
  // A network error (ECONNREFUSED...) or the server's own (ER_...) keeps its code; Node's own ERR_* (a buffer read out of range) means the bytes were not MySQL.
  if (typeof code === 'string' && !code.startsWith('ERR_')) return e;
  return Object.assign(new Error(`the server's greeting could not be read (${e instanceof Error ? e.name : typeof e})`), { code: 'PROTOCOL_BAD_GREETING' });
}

/**
 * A driver's error as a CityError with its verdict for the policy; an error
 * of the graph's own (a TypeError, a closed pool) is returned as it is, for
 * the adapter to report as INTERNAL_ERROR and log. Never quotes the server's
 * message or the SQL: they may carry values.
 */
export function classifySqlError(e: unknown, city: string, dialect: SqlDialect, ctx: ClassifyContext): unknown {
  if (e instanceof CityError) return e;
  const unavailable = (detail: string) => failure(new CityError('CITY_UNAVAILABLE', city, detail), { retry: true, down: true });
  const timedOut = (detail: string) => failure(new CityError('CITY_TIMEOUT', city, detail), { retry: true, down: true });
  const sourceError = (name: string, verdict: Verdict = { retry: false, down: false }) =>
    failure(new CityError('CITY_SOURCE_ERROR', city, `${name} reading ${ctx.what}`), verdict);
  const refused = (name: string, down: boolean) => failure(new CityError('CITY_AUTH_FAILED', city, `${name} reading ${ctx.what}`), { retry: false, down });
  const err = (e ?? {}) as { code?: unknown; message?: unknown; sqlState?: unknown; errno?: unknown };

  if (dialect === 'postgres') {
    if (e instanceof pg.DatabaseError && typeof e.code === 'string') {
      const state = e.code;
      const name = `SQLSTATE ${state}${sqlStateNames[state] ? ` (${sqlStateNames[state]})` : ''}`;
      if (state === '28P01' || state === '28000') return refused(name, true);
      if (state === '42501') return refused(name, false);
      if (state === '57014') return timedOut(`${name}: no answer within ${ctx.timeoutMs} ms`);
      if (state.startsWith('08') || state === '57P01' || state === '57P02' || state === '57P03' || state.startsWith('53')) return unavailable(name);
      if (state === '40001' || state === '40P01') return sourceError(name, { retry: true, down: false });
      return sourceError(name);
    }
    // pg's own errors carry no code: their messages are the driver's, never the city's data.
    const message = typeof err.message === 'string' ? err.message : '';
    if (err.code === undefined) {
      if (message === 'Connection terminated due to connection timeout' || message === 'timeout exceeded when trying to connect') {
        return timedOut(`no connection within ${ctx.connectTimeoutMs} ms`);
      }
      if (message === 'Query read timeout') return timedOut(`no answer within ${ctx.timeoutMs} ms`);
      if (message.startsWith('Connection terminated') || message.includes('is not queryable')) return unavailable('connection lost');
    }
    // A message of a kind the protocol does not have: whatever answers on the port is not PostgreSQL (or not well).
    if (e instanceof pg.DatabaseError || message.startsWith('received invalid response')) {
      return failure(new CityError('CITY_BAD_RESPONSE', city, 'malformed answer from the server (not the PostgreSQL protocol)'), { retry: false, down: true });
    }
  } else {
    const code = typeof err.code === 'string' ? err.code : undefined;
    const sqlState = typeof err.sqlState === 'string' ? err.sqlState : undefined;
    const errno = typeof err.errno === 'number' && err.errno > 0 ? err.errno : undefined;
    if (code !== undefined && mysqlTimeoutCodes.has(code)) {
      return timedOut(code === 'PROTOCOL_SEQUENCE_TIMEOUT' ? `no answer within ${ctx.timeoutMs} ms` : `${code}: no answer in time`);
    }
    if (code !== undefined && mysqlUnavailableCodes.has(code)) return unavailable(code === 'PROTOCOL_CONNECTION_LOST' ? 'connection lost' : code);
    if (code?.startsWith('ER_') || sqlState !== undefined) {
      const name = `${code ?? 'MySQL error'}${errno !== undefined ? ` (${errno}${sqlState ? `, SQLSTATE ${sqlState}` : ''})` : ''}`;
      if (code !== undefined && mysqlAuthCodes.has(code)) return refused(name, true);
      if (code !== undefined && mysqlPrivilegeCodes.has(code)) return refused(name, false);
      return sourceError(name);
    }
    if (code?.startsWith('PROTOCOL_')) return failure(new CityError('CITY_BAD_RESPONSE', city, `malformed answer from the server (${code})`), { retry: false, down: true });
  }

  // A network error (refused, reset, unreachable, a connect ETIMEDOUT, TLS): the shared classifier knows them.
  const error = asCityError(e, city);
  if (error.code === 'INTERNAL_ERROR') return e;
  return failure(error, { retry: error.code === 'CITY_UNAVAILABLE' || error.code === 'CITY_TIMEOUT', down: true });
}

// ---------------------------------------------------------------------------
// The two drivers

const textParser = (value: string) => value;
const pgTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    pgTextTypes.has(oid) && format !== 'binary' ? textParser : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
};

function passwordOf(endpoint: SqlEndpoint, source: SqlSource): string | undefined {
  return source.apiKey ?? endpoint.password;
}

function createPgClient(endpoint: SqlEndpoint, source: SqlSource, deps: ConnectorDeps, log: Record<string, string>): SqlClient {
  let pool: pg.Pool | null = null;
  const poolOf = (): pg.Pool => {
    if (pool) return pool;
    const made = new pg.Pool({
      host: endpoint.host,
      port: endpoint.port,
      user: endpoint.user,
      password: passwordOf(endpoint, source),
      database: endpoint.database,
      max: source.maxConcurrent,
      connectionTimeoutMillis: source.connectTimeoutMs,
      // The server cancels a statement that runs longer (SQLSTATE 57014); the client gives up a little after, should the server not answer at all.
      statement_timeout: source.timeoutMs,
      query_timeout: source.timeoutMs + QUERY_TIMEOUT_GRACE_MS,
      idleTimeoutMillis: IDLE_MS,
      allowExitOnIdle: true,
      application_name: 'lgnet-graph',
      // ISO dates whatever the server's DateStyle; and a session that cannot write, whatever the user may.
      options: '-c DateStyle=ISO -c default_transaction_read_only=on',
      types: pgTypes,
    });
    // An idle connection that drops is only removed from the pool; without a listener it would end the process.
    made.on('error', (e) => deps.logger.warn('an idle database connection was lost', { ...log, code: (e as { code?: string }).code ?? null }));
    pool = made;
    return made;
  };
  return {
    dialect: 'postgres',
    async query({ sql, params }) {
      const result = await poolOf().query({ text: sql, values: params as unknown[] });
      return { rows: result.rows, dateColumns: new Set(result.fields.filter((f) => f.dataTypeID === PG_DATE).map((f) => f.name)) };
    },
    async close() {
      const p = pool;
      pool = null;
      await p?.end();
    },
  };
}

/** What the connector touches of a mysql2 core connection: its socket (to let the process exit while it is idle), its events, its callback query. */
type CoreConnection = {
  stream?: { ref?: () => void; unref?: () => void };
  on?: (event: string, listener: (...args: unknown[]) => void) => void;
  query?: (sql: string, callback: (error: { code?: string } | null) => void) => void;
};

function createMysqlClient(endpoint: SqlEndpoint, source: SqlSource, deps: ConnectorDeps, log: Record<string, string>): SqlClient {
  let pool: mysql.Pool | null = null;
  let inFlight = 0;
  let idleTimer: NodeJS.Timeout | null = null;
  const poolOf = (): mysql.Pool => {
    if (idleTimer) {
      clearTimeout(idleTimer);
      idleTimer = null;
    }
    if (pool) return pool;
    const made = mysql.createPool({
      host: endpoint.host,
      port: endpoint.port,
      user: endpoint.user,
      password: passwordOf(endpoint, source),
      database: endpoint.database,
      connectionLimit: source.maxConcurrent,
      // Idle connections are kept until the whole pool is closed (below): no timer of mysql2's holds the process.
      maxIdle: source.maxConcurrent,
      connectTimeout: source.connectTimeoutMs,
      // DATE as `YYYY-MM-DD` text, never a JS Date (its time zone shifts days); large integers as text (ids).
      dateStrings: true,
      supportBigNumbers: true,
      bigNumberStrings: true,
      multipleStatements: false,
      namedPlaceholders: false,
    });
    made.on('connection', (connection) => {
      const c = connection as unknown as CoreConnection;
      // A connection lost while idle is removed by the pool; a second error event must not end the process.
      c.on?.('error', () => {});
      // A session that cannot write, whatever the user may: queued before the connection's first statement.
      c.query?.('SET SESSION TRANSACTION READ ONLY', (e) => {
        if (e) deps.logger.warn('could not make a database session read-only', { ...log, code: e.code ?? null });
      });
    });
    made.on('acquire', (connection) => (connection as unknown as CoreConnection).stream?.ref?.());
    made.on('release', (connection) => (connection as unknown as CoreConnection).stream?.unref?.());
    pool = made;
    return made;
  };
  function idle(): void {
    if (inFlight > 0 || !pool || idleTimer) return;
    const p = pool;
    idleTimer = setTimeout(() => {
      idleTimer = null;
      if (pool !== p || inFlight > 0) return;
      pool = null;
      p.end().catch((e: unknown) => deps.logger.warn('closing an idle database pool failed', { ...log, code: (e as { code?: string }).code ?? null }));
    }, IDLE_MS);
    idleTimer.unref();
  }
  return {
    dialect: 'mysql',
    async query({ sql, params }) {
      const p = poolOf();
      inFlight++;
      try {
        const connection = await p.getConnection().catch((e: unknown) => {
          throw unreadableGreeting(e);
        });
        let result;
        try {
          // execute: a server-side prepared statement, the values sent apart from the SQL text.
          result = await connection.execute({ sql, timeout: source.timeoutMs }, params as never[]);
        } finally {
          connection.release();
        }
        const [rows, fields] = result;
        const dateColumns = new Set((fields ?? []).filter((f) => mysqlDateTypes.has(f.columnType ?? f.type ?? -1)).map((f) => f.name));
        return { rows: rows as Array<Record<string, unknown>>, dateColumns };
      } finally {
        inFlight--;
        idle();
      }
    },
    async close() {
      if (idleTimer) clearTimeout(idleTimer);
      idleTimer = null;
      const p = pool;
      pool = null;
      await p?.end();
    },
  };
}
