/**
 * Export end to end: the stack as `npm start` runs it, `npm run query` run
 * as a child process against the gateway over HTTP, and the gateway's
 * POST /export asked for the same files.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../scripts/stack.ts';
import { gql } from './helpers.ts';

const root = fileURLToPath(new URL('../', import.meta.url));
let stack: Stack;
let analyst: string;
let dir: string;
/** A city of the sandbox, with records. */
let city: string;

beforeAll(async () => {
  stack = await startStack({ port: 0 });
  analyst = await stack.token('analyst');
  dir = mkdtempSync(join(tmpdir(), 'lgnet-export-'));
  city = [...stack.sandbox.population.keys()].sort()[0]!;
});
afterAll(async () => {
  await stack?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** `npm run query -- <args>`, as its own process. */
function query(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const child = spawn(process.execPath, ['--experimental-strip-types', 'scripts/query.ts', ...args], { cwd: root, env: { ...process.env, ...env } });
  const out: Buffer[] = [];
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr }));
  });
}

/** A query written to a file of its own, as an analyst keeps them. */
function queryFile(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

const over = () => ['--url', stack.gatewayUrl, '--token', analyst];

const csvRows = (text: string) => parse(text, { delimiter: ';', bom: true, comment: '#', comment_no_infix: true, columns: true }) as Array<Record<string, string>>;
const comments = (text: string) => text.replace('\uFEFF', '').split('\r\n').filter((l) => l.startsWith('#'));

const WALK = /* GraphQL */ `
  query Walk($cities: [ID!], $first: Int, $after: String) {
    beneficiaries(filter: { cities: $cities }, first: $first, after: $after) {
      totalCount
      nodes { id personKey city { code } sex birthYear intake { month channel } }
      pageInfo { hasNextPage endCursor }
      coverage { citiesAsked citiesAnswered rejected missing { city { code } code reason } stale { city { code } asOf } degraded { city { code } reason } }
    }
  }
`;

const REPORT = /* GraphQL */ `
  {
    report(edition: LGNET3) {
      from to
      totals { beneficiaries coverage { citiesAsked citiesAnswered rejected missing { city { code } code reason } } }
      cities { city { code name population { residents year } } beneficiaries takenInCharge housingSupported civicProjectsSigned targets { indicator target progress } }
    }
  }
`;

describe('npm run query', () => {
  it('walks every page of beneficiaries into a CSV of exactly totalCount rows, each id once', async () => {
    const out = join(dir, 'beneficiaries.csv');
    const variables = { cities: [...stack.sandbox.population.keys()].sort().slice(0, 6), first: 200 };
    const run = await query([queryFile('walk.graphql', WALK), '--variables', JSON.stringify(variables), '--format', 'csv', '--out', out, ...over()]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/rows of beneficiaries\.nodes \(\d+ pages\)/);
    const text = readFileSync(out, 'utf8');
    const asked = await gql(stack.gatewayUrl, 'query($cities: [ID!]) { beneficiaries(filter: { cities: $cities }, first: 0) { totalCount } }', { cities: variables.cities }, { authorization: `Bearer ${analyst}` });
    const total = asked.data!.beneficiaries.totalCount as number;
    expect(total).toBeGreaterThan(3 * variables.first);
    expect(comments(text)).toContain(`# beneficiaries.totalCount: ${total}`);
    const rows = csvRows(text);
    expect(rows).toHaveLength(total);
    expect(new Set(rows.map((r) => r.id)).size).toBe(total);
    expect(Object.keys(rows[0]!)).toEqual(['id', 'personKey', 'city.code', 'sex', 'birthYear', 'intake.month', 'intake.channel']);
  });

  it('writes a report to XLSX with its figures as numbers and a Coverage sheet', async () => {
    const out = join(dir, 'report.xlsx');
    const run = await query([queryFile('report.graphql', REPORT), '--out', out, ...over()]);
    expect(run.code, run.stderr).toBe(0);
    const book = new ExcelJS.Workbook();
    await book.xlsx.readFile(out);
    const data = book.getWorksheet('Data')!;
    const header = (data.getRow(1).values as unknown[]).slice(1);
    const column = (name: string) => header.indexOf(name) + 1;
    const edition = await gql(stack.gatewayUrl, '{ report(edition: LGNET3) { cities { city { code } } } }', undefined, { authorization: `Bearer ${analyst}` });
    const codes = (edition.data!.report.cities as Array<{ city: { code: string } }>).map((c) => c.city.code);
    expect(data.getColumn(column('city.code')).values.slice(2)).toEqual(codes);
    for (let r = 2; r <= data.actualRowCount; r++) {
      const row = data.getRow(r);
      expect(row.getCell(column('city.code')).type).toBe(ExcelJS.ValueType.String);
      if (row.getCell(column('beneficiaries')).value === null) continue;
      expect(row.getCell(column('beneficiaries')).type).toBe(ExcelJS.ValueType.Number);
      expect(row.getCell(column('city.population.residents')).type).toBe(ExcelJS.ValueType.Number);
    }
    const coverage = book.getWorksheet('Coverage')!;
    const rows = coverage.getSheetValues().filter(Boolean).map((r) => (r as unknown[]).slice(1));
    expect(rows.find((r) => r[0] === 'Cities asked')?.[1]).toBeTypeOf('number');
    expect(rows.find((r) => r[0] === 'Asked at')?.[1]).toBeInstanceOf(Date);
    expect(rows.find((r) => r[0] === 'report.from')?.[1]).toBeInstanceOf(Date);
  });

  it('exits 2 on a paged list without an $after variable, and 1 naming the code of an error of the graph', async () => {
    const noAfter = await query([queryFile('no-after.graphql', '{ beneficiaries(first: 5) { nodes { id } pageInfo { hasNextPage endCursor } } }'), ...over()]);
    expect(noAfter.code).toBe(2);
    expect(noAfter.stderr).toMatch(/after argument is not a variable/);
    const forbidden = await query([queryFile('names.graphql', `{ beneficiaries(filter: { cities: ["${city}"] }, first: 5) { nodes { id familyName } } }`), ...over()]);
    expect(forbidden.code).toBe(1);
    expect(forbidden.stderr).toMatch(/FORBIDDEN_FIELD/);
  });
});

describe('POST /export', () => {
  const exportUrl = () => new URL('/export', stack.gatewayUrl);
  const post = (format: string, body: unknown, token: string | null = analyst) =>
    fetch(`${exportUrl()}?format=${format}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
  const errorOf = async (res: Response) => ((await res.json()) as { errors: Array<{ message: string; extensions: { code: string } }> }).errors[0]!;
  /** The file without the time it was asked at, the one line two exports of the same answer differ by. */
  const timeless = (text: string) => text.split('\r\n').filter((l) => !l.startsWith('# asked at:')).join('\r\n');

  it('answers the file npm run query writes for the same query, as an attachment', async () => {
    const variables = { cities: [city], first: 100 };
    const run = await query([queryFile('city.graphql', WALK), '--variables', JSON.stringify(variables), ...over()]);
    expect(run.code, run.stderr).toBe(0);
    const res = await post('csv', { query: WALK, variables });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv; charset=utf-8/);
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="lgnet-beneficiaries-\d{8}T\d{6}Z\.csv"$/);
    const file = Buffer.from(await res.arrayBuffer()).toString('utf8');
    expect(csvRows(file).length).toBeGreaterThan(100);
    expect(timeless(file)).toBe(timeless(run.stdout.toString('utf8')));
  });

  it('answers XLSX with its content type, dates as date cells and numbers as numbers', async () => {
    const res = await post('xlsx', { query: '{ editions { edition from to targets { indicator value } } }' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(await res.arrayBuffer());
    expect(book.worksheets.map((s) => s.name)).toEqual(['Data', 'Coverage']);
    const data = book.getWorksheet('Data')!;
    expect((data.getRow(1).values as unknown[]).slice(1, 5)).toEqual(['edition', 'from', 'to', 'targets[0].indicator']);
    const row = data.getRow(2);
    expect(row.getCell(2).type).toBe(ExcelJS.ValueType.Date);
    expect(row.getCell(3).type).toBe(ExcelJS.ValueType.Date);
    expect(row.getCell(5).type).toBe(ExcelJS.ValueType.Number);
  });

  it('refuses a format it does not write with 400, and a request without a token with 401, each with a JSON error', async () => {
    const badFormat = await post('pdf', { query: REPORT });
    expect(badFormat.status).toBe(400);
    expect((await errorOf(badFormat)).extensions.code).toBe('BAD_REQUEST');
    const noToken = await post('csv', { query: REPORT }, null);
    expect(noToken.status).toBe(401);
    expect((await errorOf(noToken)).extensions.code).toBe('UNAUTHENTICATED');
    const notWalkable = await post('csv', { query: '{ beneficiaries(first: 5) { nodes { id } pageInfo { hasNextPage endCursor } } }' });
    expect(notWalkable.status).toBe(400);
  });
});

describe('a city that is down', () => {
  it('is named in the coverage of the file', async () => {
    await stack.sandbox.setFaults(`${city}=down`);
    try {
      const figures = queryFile('figures.graphql', '{ beneficiaryFigures(by: [CHANNEL]) { groups { keys count citiesMissing { code } } coverage { citiesAsked citiesAnswered missing { city { code } code reason } } } }');
      const run = await query([figures, '--format', 'csv', ...over()]);
      expect(run.code, run.stderr).toBe(0);
      const text = run.stdout.toString('utf8');
      expect(comments(text).find((l) => l.startsWith(`# missing: ${city} `))).toMatch(/CITY_UNAVAILABLE|CITY_TIMEOUT/);
      expect(csvRows(text).every((r) => r['citiesMissing.code']!.split('; ').includes(city))).toBe(true);
    } finally {
      await stack.sandbox.setFaults('');
    }
  });
});
