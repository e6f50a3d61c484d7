/**
 * `npm run query -- <file.graphql> --format csv|xlsx|json [...]`: runs a
 * query against the gateway over HTTP, walks every page of a paged list, and
 * writes the rows with their coverage as CSV, XLSX or JSON (the same file the
 * gateway's POST /export answers: gateway/export/).
 *
 * Exit codes: 0 written; 1 the graph refused or failed (each error named by
 * its code and city) or could not be reached; 2 usage.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parseArgs } from 'node:util';
import { collect, describeError, ExportRequestError, GraphQLFailure, UpstreamError, type Post, type Progress } from '../gateway/export/collect.ts';
import { formats, isExportFormat, render, type ExportFormat } from '../gateway/export/formats.ts';

const DEFAULT_URL = 'http://localhost:4000/graphql';

const usage = `Usage: npm run query -- <file.graphql> [--format csv|xlsx|json] [--out FILE] [--variables JSON] [--token T] [--url U] [--rows PATH] [--operation NAME]

Runs the query against the gateway and writes its rows with the answer's coverage:
  npm run query -- beneficiaries.graphql --format xlsx --out beneficiaries.xlsx

  --format     csv (default, or as --out's extension says), xlsx or json
  --out        the file to write; default standard output (not for xlsx on a terminal)
  --variables  the query's variables as a JSON object, or @file.json
  --token      the bearer token; default $LGNET_TOKEN
  --url        the gateway's GraphQL endpoint; default ${DEFAULT_URL}
  --rows       the list to take as rows when the answer has several, e.g. report.cities
  --operation  the operation to run, when the file holds several

A paged list (it asks for pageInfo { hasNextPage endCursor }) is walked to its end through
its $after variable. Writing to standard output, run npm run --silent query, or npm's own
lines come first.`;

function fail(code: 1 | 2, message: string, withUsage = code === 2): never {
  process.stderr.write(`query: ${message}\n${withUsage ? `\n${usage}\n` : ''}`);
  process.exit(code);
}

let parsed;
try {
  parsed = parseArgs({
    args: process.argv.slice(2),
    allowPositionals: true,
    strict: true,
    options: {
      format: { type: 'string' },
      out: { type: 'string' },
      variables: { type: 'string' },
      token: { type: 'string' },
      url: { type: 'string' },
      rows: { type: 'string' },
      operation: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
} catch (e) {
  fail(2, (e as Error).message);
}
const { values, positionals } = parsed;
if (values.help) {
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}
if (positionals.length !== 1) fail(2, positionals.length === 0 ? 'Give the file holding the query.' : 'Give one query file only.');

const file = positionals[0]!;
let query: string;
try {
  query = readFileSync(file, 'utf8');
} catch (e) {
  fail(2, `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
}

let variables: Record<string, unknown> = {};
if (values.variables !== undefined) {
  let text = values.variables;
  if (text.startsWith('@')) {
    try {
      text = readFileSync(text.slice(1), 'utf8');
    } catch (e) {
      fail(2, `cannot read the variables file ${text.slice(1)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    fail(2, `--variables is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(2, '--variables must be a JSON object, e.g. {"first": 500}');
  variables = v as Record<string, unknown>;
}

const fromOut = values.out === undefined ? undefined : extname(values.out).slice(1).toLowerCase();
const format: ExportFormat = (() => {
  if (values.format !== undefined) {
    if (!isExportFormat(values.format)) fail(2, `--format must be one of ${Object.keys(formats).join(', ')}, not "${values.format}"`);
    return values.format;
  }
  return isExportFormat(fromOut) ? fromOut : 'csv';
})();
if (format === 'xlsx' && values.out === undefined && process.stdout.isTTY) fail(2, 'An XLSX file is not for a terminal: give --out FILE.xlsx');

const token = values.token ?? process.env.LGNET_TOKEN;
if (!token) fail(2, 'No token: give --token, or set LGNET_TOKEN (in the sandbox: export LGNET_TOKEN=$(npm run --silent token -- analyst))');

const url = values.url ?? DEFAULT_URL;
try {
  const u = new URL(url);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http');
} catch {
  fail(2, `--url must be an http(s) URL, not "${url}"`);
}

const post: Post = async (body) => {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    });
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code;
    throw new UpstreamError(`cannot reach ${url}${cause ? ` (${cause})` : ''}: is the gateway running (npm start)?`);
  }
  const text = await response.text();
  try {
    return { status: response.status, body: JSON.parse(text) };
  } catch {
    throw new UpstreamError(`${url} answered status ${response.status}, not GraphQL`);
  }
};

/** The walk so far, on one line of the terminal: only there, never into a file or a pipe. */
let drawn = false;
const progress = process.stderr.isTTY
  ? (p: Progress) => {
      drawn = true;
      const width = 30;
      const share = p.totalCount ? Math.min(1, p.rows / p.totalCount) : 0;
      const bar = p.totalCount ? `[${'#'.repeat(Math.round(share * width)).padEnd(width, '.')}] ` : '';
      process.stderr.write(`\r${bar}${p.rows}${p.totalCount !== null ? ` of ${p.totalCount}` : ''} rows, ${p.pages} ${p.pages === 1 ? 'page' : 'pages'}`);
    }
  : undefined;

try {
  const result = await collect(
    { query, variables, ...(values.operation ? { operationName: values.operation } : {}), ...(values.rows !== undefined ? { rows: values.rows } : {}) },
    { post, ...(progress ? { onProgress: progress } : {}) },
  );
  if (drawn) process.stderr.write('\n');
  const bytes = await render(format, result);
  if (values.out !== undefined) writeFileSync(values.out, bytes);
  else process.stdout.write(bytes);
  const c = result.coverage;
  const summary = [
    `${result.table.rows.length} rows of ${result.rowsFrom || 'the answer'} (${result.pages} ${result.pages === 1 ? 'answer' : 'pages'}) as ${format}${values.out !== undefined ? ` to ${values.out}` : ''}`,
    ...(result.otherLists.length ? [`other lists in the answer (--rows to take one): ${result.otherLists.join(', ')}`] : []),
    ...(c.citiesAsked !== null ? [`cities answered ${c.citiesAnswered ?? '?'} of ${c.citiesAsked}`] : []),
    ...c.missing.map((m) => `missing ${m.city} ${m.code}`),
    ...c.stale.map((s) => `stale ${s.city} as of ${s.asOf ?? 'unknown'}`),
    ...c.degraded.map((d) => `degraded ${d.city}`),
  ];
  process.stderr.write(`${summary.join('\n')}\n`);
} catch (e) {
  if (drawn) process.stderr.write('\n');
  // The query, not the command, is at fault: the usage would not help.
  if (e instanceof ExportRequestError) fail(2, e.message, false);
  if (e instanceof GraphQLFailure) fail(1, `the graph answered with ${e.errors.length === 1 ? 'an error' : 'errors'}:\n${e.errors.map((x) => `  ${describeError(x)}`).join('\n')}`);
  if (e instanceof UpstreamError) fail(1, e.message);
  throw e;
}
