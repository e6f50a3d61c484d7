/**
 * A typed client of the LGNet graph in a few lines: `fetch`, the operations'
 * own `.graphql` files, and the types `npm run codegen` generates from them
 * (./generated/graphql.ts). `npm test` type-checks this file, so it changes
 * with the schema. While `npm start` runs:
 *
 *   TOKEN=$(npm run --silent token -- analyst) node docs/examples/client.ts
 *   TOKEN=$(npm run --silent token -- dashboard) node docs/examples/client.ts --dashboard
 *
 * LGNET_GRAPHQL_URL points it at another gateway (default http://localhost:4000/graphql).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type {
  BeneficiaryFiguresQuery,
  BeneficiaryFiguresQueryVariables,
  DashboardReportQuery,
  DashboardReportQueryVariables,
} from './generated/graphql.ts';

/** An operation's text, bound to the types of its variables and of its answer's data. */
export interface Operation<Data, Variables> {
  readonly name: string;
  readonly text: string;
  /** Never set: it carries the two types from `operation()` to `ask()`. */
  readonly types?: { data: Data; variables: Variables };
}

/** Reads an operation from its file: the text is sent exactly as written, which is what the dashboard's allow-list hashes. */
export function operation<Data, Variables>(file: URL): Operation<Data, Variables> {
  const text = readFileSync(file, 'utf8');
  const name = text.match(/^\s*query\s+(\w+)/m)?.[1];
  if (!name) throw new Error(`${fileURLToPath(file)} holds no named query`);
  return { name, text };
}

/** One error of an answer. The graph's own codes are in `extensions.code`, e.g. `CITY_UNAVAILABLE` (with `extensions.city`), `FORBIDDEN_FIELD`, `SMALL_COUNT_SUPPRESSED`. */
export interface AnswerError {
  message: string;
  path?: ReadonlyArray<string | number>;
  extensions?: { code?: string; city?: string; [key: string]: unknown };
}

/**
 * An answer can hold data and errors at once: a city that could not be read
 * is named in the errors (and in `coverage`) while every other city's data
 * arrives, and a withheld field is null with an error saying why.
 */
export interface Answer<Data> {
  data: Data | null;
  errors: AnswerError[];
}

export interface Client {
  endpoint: string;
  /** A bearer token of the identity provider (in the sandbox: `npm run --silent token -- <role>`). */
  token: string;
  /** Send the operation by its SHA-256 only (Apollo's persisted-query extension), as the dashboard role may. */
  persisted?: boolean;
}

export async function ask<Data, Variables>(client: Client, op: Operation<Data, Variables>, variables: Variables): Promise<Answer<Data>> {
  const body = client.persisted
    ? { operationName: op.name, variables, extensions: { persistedQuery: { version: 1, sha256Hash: createHash('sha256').update(op.text).digest('hex') } } }
    : { operationName: op.name, query: op.text, variables };
  const res = await fetch(client.endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${client.token}` },
    body: JSON.stringify(body),
  });
  const json = (await res.json().catch(() => ({}))) as { data?: Data | null; errors?: AnswerError[] };
  if (json.data === undefined && json.errors === undefined) throw new Error(`${client.endpoint} answered ${res.status} without a GraphQL answer`);
  return { data: json.data ?? null, errors: json.errors ?? [] };
}

const beneficiaryFigures = operation<BeneficiaryFiguresQuery, BeneficiaryFiguresQueryVariables>(
  new URL('./operations/beneficiary-figures.graphql', import.meta.url),
);
const dashboardReport = operation<DashboardReportQuery, DashboardReportQueryVariables>(
  new URL('../../gateway/operations/dashboard/dashboard-report.graphql', import.meta.url),
);

/** An analyst's breakdown: intakes of 2024 by month and channel. */
async function intakesByMonthAndChannel(client: Client): Promise<void> {
  const { data, errors } = await ask(client, beneficiaryFigures, { from: '2024-01-01', to: '2024-12-31', by: ['MONTH', 'CHANNEL'] });
  for (const e of errors) console.error(`${e.extensions?.code ?? 'ERROR'}${e.extensions?.city ? ` (${e.extensions.city})` : ''}: ${e.message}`);
  const table = data?.beneficiaryFigures;
  if (!table) return;
  for (const g of table.groups) {
    // `count` is null only when withheld; a bucket some cities could not answer for names them.
    const unknown = g.citiesMissing.length ? `, not known for ${g.citiesMissing.map((c) => c.name).join(', ')}` : '';
    console.log(`${g.keys.join(' ')}: ${g.count ?? 'withheld'}${unknown}`);
  }
  console.log(`total ${table.total}, ${table.persons} persons; ${table.coverage.citiesAnswered} of ${table.coverage.citiesAsked} cities answered`);
}

/** The dashboard's programme report, sent by its hash. */
async function programmeReport(client: Client): Promise<void> {
  const { data, errors } = await ask({ ...client, persisted: true }, dashboardReport, { edition: 'LGNET3' });
  const withheld = errors.filter((e) => e.extensions?.code === 'SMALL_COUNT_SUPPRESSED').length;
  for (const e of errors) if (e.extensions?.code !== 'SMALL_COUNT_SUPPRESSED') console.error(`${e.extensions?.code ?? 'ERROR'}: ${e.message}`);
  const report = data?.report;
  if (!report) return;
  console.log(`${report.edition}, ${report.from} to ${report.to}`);
  for (const row of report.cities) console.log(`${row.city.name}: ${row.beneficiaries ?? 'withheld'} beneficiaries, ${row.housingSupported ?? 'withheld'} in housing`);
  const totals = report.totals;
  console.log(`in all: ${totals.beneficiaries ?? 'withheld'} beneficiaries, ${totals.uniquePersons ?? 'withheld'} persons; ${withheld} small counts withheld`);
  for (const t of totals.targets) {
    const progress = t.target === null ? '' : ` of ${t.target}${t.progress === null ? '' : ` (${Math.round(t.progress * 100)}%)`}`;
    console.log(`  ${t.description}: ${t.value ?? 'not counted'}${progress}`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const token = process.env.TOKEN;
  if (!token) {
    console.error('Set TOKEN, e.g. TOKEN=$(npm run --silent token -- analyst)');
    process.exit(2);
  }
  const client: Client = { endpoint: process.env.LGNET_GRAPHQL_URL ?? 'http://localhost:4000/graphql', token };
  await (process.argv.includes('--dashboard') ? programmeReport(client) : intakesByMonthAndChannel(client));
}
