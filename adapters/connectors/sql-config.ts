/**
 * The config of a sql source (see docs/CITIES.md): a PostgreSQL or
 * MariaDB/MySQL database that exposes one read-only VIEW per entity.
 *
 * Every name that reaches SQL text (views, columns) comes from here and must
 * be a plain identifier (letters, digits, underscore; a view may be qualified
 * by its schema or database, `servizi.v_assistiti`): the connector quotes it
 * for the dialect and checks it again. Values never reach SQL text: they are
 * always bound parameters.
 */
import { z } from 'zod';
import { entityNames, type EntityName } from '../../schema/records.ts';
import { EnvRef, MappingBase, fieldMap, filterablePaths } from '../source-base.ts';

/** A plain SQL identifier: quoted by the connector, so case is kept as written (PostgreSQL folds unquoted names to lower case: write them as stored). */
export const SQL_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
/** A view, optionally qualified by its schema (PostgreSQL) or database (MySQL). */
export const SQL_VIEW_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?$/;
/** The column names a field spec reads: the spec itself, or each `{column}` of a template. */
export function columnsOfSpec(spec: string): string[] {
  if (!spec.includes('{')) return [spec];
  return [...spec.matchAll(/\{([^{}]+)\}/g)].map((m) => m[1]!.trim());
}

/** The canonical fields of an entity that hold dates. */
export function dateFieldsOf(entity: EntityName): string[] {
  return Object.values(filterablePaths[entity]).filter((f) => f.kind === 'date').map((f) => f.field);
}

/**
 * How a date column stores its dates: `date`, an SQL DATE (the connector
 * hands it on in the source's `dateFormat`, and can filter on it by range),
 * or `text` in the source's `dateFormat` (never filtered in SQL: text does
 * not sort as dates do).
 */
export const SqlDateStorage = z.enum(['date', 'text']);

const SqlEntity = <E extends EntityName>(entity: E) => {
  const paths = Object.keys(filterablePaths[entity]);
  const dateFields = dateFieldsOf(entity);
  return z
    .object({
      /** The read-only view of the entity, e.g. "v_assistiti" or "servizi.v_assistiti". */
      view: z.string().regex(SQL_VIEW_NAME, 'a view name: letters, digits and "_", optionally "schema.view"'),
      /** Canonical field -> the view's column (or a template of columns, `{giorno}/{mese}/{anno}`, for a date split in columns). */
      fields: fieldMap(entity).superRefine((map, ctx) => {
        for (const [field, spec] of Object.entries(map)) {
          for (const column of columnsOfSpec(spec)) {
            if (!SQL_IDENTIFIER.test(column)) {
              ctx.addIssue({ code: 'custom', path: [field], message: `${entity}.${field}: "${column}" is not a plain column name (letters, digits and "_", at most 63)` });
            }
          }
        }
      }),
      /** Canonical date field -> how its column stores dates (see SqlDateStorage); default `text`. */
      dates: z
        .record(z.string(), SqlDateStorage)
        .default({})
        .superRefine((map, ctx) => {
          for (const field of Object.keys(map)) {
            if (!dateFields.includes(field)) {
              ctx.addIssue({ code: 'custom', path: [field], message: `${entity}: "${field}" is not a date field; date fields: ${dateFields.join(', ') || 'none'}` });
            }
          }
        }),
      /**
       * The canonical paths the connector may filter on in SQL (see
       * `filterablePaths`); default every one it can: ids and codes always,
       * date ranges on `date` columns only. Every condition is still applied
       * to the rows that arrive.
       */
      filters: z
        .array(z.string())
        .optional()
        .superRefine((list, ctx) => {
          for (const path of list ?? []) {
            if (!paths.includes(path)) ctx.addIssue({ code: 'custom', message: `unknown filter "${path}" for ${entity}; filterable: ${paths.join(', ')}` });
          }
        }),
    })
    .strict()
    .superRefine((e, ctx) => {
      const fields = e.fields as Record<string, string>;
      for (const [field, storage] of Object.entries(e.dates)) {
        if (storage === 'date' && fields[field]?.includes('{')) {
          ctx.addIssue({ code: 'custom', path: ['dates', field], message: `${entity}.${field}: a template of columns is text, not a DATE column` });
        }
      }
      for (const path of e.filters ?? []) {
        const f = filterablePaths[entity][path];
        if (f?.kind === 'date' && e.dates[f.field] !== 'date') {
          ctx.addIssue({ code: 'custom', path: ['filters'], message: `${entity}: "${path}" is filtered by range only on a DATE column: set dates.${f.field} to "date"` });
        }
        if (f && fields[f.field]?.includes('{')) {
          ctx.addIssue({ code: 'custom', path: ['filters'], message: `${entity}: "${path}" reads a template of columns, which SQL cannot filter on` });
        }
      }
    });
};

/** The password of the database user (the user is in baseUrl), from the environment. No header: SQL has none. */
export const SqlAuth = z.object({ key: EnvRef }).strict();

export const SqlSource = z
  .object({
    kind: z.literal('sql'),
    /** The database's wire protocol: `postgres` (PostgreSQL) or `mysql` (MariaDB, MySQL). */
    dialect: z.enum(['postgres', 'mysql']),
    /**
     * `baseUrl` is the connection string: `postgres://user@host:5432/database`
     * or `mysql://user@host:3306/database` (usually from the environment).
     * `timeoutMs` bounds each statement (PostgreSQL's statement_timeout; the
     * MySQL client's query timeout), `connectTimeoutMs` each connection, and
     * `maxConcurrent` is the size of the connection pool.
     */
    ...MappingBase,
    auth: SqlAuth.optional(),
    /** Most ids in one look-up statement; larger look-ups are split. */
    maxBatchSize: z.number().int().positive().max(10_000).default(500),
    entities: z
      .object(Object.fromEntries(entityNames.map((e) => [e, SqlEntity(e).optional()])) as {
        [E in EntityName]: z.ZodOptional<ReturnType<typeof SqlEntity<E>>>;
      })
      .strict(),
  })
  .strict()
  .superRefine((source, ctx) => {
    if (typeof source.baseUrl !== 'string') return;
    const problem = connectionStringProblem(source.dialect, source.baseUrl);
    if (problem) ctx.addIssue({ code: 'custom', path: ['baseUrl'], message: problem });
  });
export type SqlSourceConfig = z.infer<typeof SqlSource>;
export type SqlDialect = SqlSourceConfig['dialect'];

const protocols: Record<SqlDialect, readonly string[]> = { postgres: ['postgres:', 'postgresql:'], mysql: ['mysql:', 'mariadb:'] };

/** Where and as whom to connect, read from a connection string. */
export interface SqlEndpoint {
  host: string;
  port: number;
  user: string;
  /** From the connection string; the `auth` password, when given, takes its place. */
  password: string | undefined;
  database: string;
}

/** Why a connection string cannot be used for the dialect (never quoting a password), or null. */
export function connectionStringProblem(dialect: SqlDialect, text: string): string | null {
  try {
    parseConnectionString(dialect, text);
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

/** Reads `scheme://user[:password]@host[:port]/database`; throws an Error that names what is wrong (never the password). */
export function parseConnectionString(dialect: SqlDialect, text: string): SqlEndpoint {
  const example = dialect === 'postgres' ? 'postgres://user@host:5432/database' : 'mysql://user@host:3306/database';
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`not a connection string like ${example}`);
  }
  if (!protocols[dialect].includes(url.protocol)) throw new Error(`a ${dialect} connection string starts with ${protocols[dialect].join('// or ')}//, like ${example}`);
  if (url.hostname === '') throw new Error(`no host in the connection string, like ${example}`);
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (database === '' || database.includes('/')) throw new Error(`no database (one path segment) in the connection string, like ${example}`);
  if (url.username === '') throw new Error(`no user in the connection string, like ${example}`);
  if (url.search !== '' || url.hash !== '') throw new Error('options after "?" or "#" in the connection string are not supported');
  const port = url.port === '' ? (dialect === 'postgres' ? 5432 : 3306) : Number(url.port);
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port,
    user: decodeURIComponent(url.username),
    password: url.password === '' ? undefined : decodeURIComponent(url.password),
    database,
  };
}
