/**
 * Bad input from a city's system, end to end: the sandbox sends it (an HTML
 * page for JSON, a file cut mid-row, XML that does not parse, a SOAP fault, a
 * renamed column, an unknown code, a record sent twice, an export in the
 * wrong encoding, a formula where a number belongs), and the graph answers
 * with a coded error or a counted rejection naming the city (and, where that
 * helps, the file and the key of its config to change), while every other
 * city's data still arrives.
 *
 * Cities are chosen by the kind of their system, from the registry, never by
 * code: the roster changes. One stack for the file; its city files are copies
 * in which exports and spreadsheets are checked for a new version at every
 * read (`revalidateMs: 0`), so that a fault set by a test is met at once.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadCityConfigs, type CityConfig } from '../adapters/config.ts';
import { defaultCitiesDir } from '../adapters/fleet.ts';
import type { RejectReason } from '../schema/code-lists.ts';
import type { EntityName } from '../schema/records.ts';
import { startStack, type Stack } from '../scripts/stack.ts';
import { gql, type GraphQLResponse } from './helpers.ts';

type Source = CityConfig['sources'][number];

let dir: string;
let stack: Stack;
let analyst: string;
const registry = loadCityConfigs(defaultCitiesDir);

const ask = (query: string, variables?: Record<string, unknown>, token = analyst) => gql(stack.gatewayUrl, query, variables, { authorization: `Bearer ${token}` });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lgnet-bad-input-'));
  for (const file of readdirSync(defaultCitiesDir).filter((f) => f.endsWith('.json'))) {
    const config = JSON.parse(readFileSync(join(defaultCitiesDir, file), 'utf8')) as { sources: Array<{ kind: string; revalidateMs?: number }> };
    for (const s of config.sources) if (s.kind === 'csv' || s.kind === 'spreadsheet') s.revalidateMs = 0;
    writeFileSync(join(dir, file), JSON.stringify(config, null, 2));
  }
  // The sweep behind a source's status and its data quality is done afresh at every question.
  stack = await startStack({ port: 0, citiesDir: dir, env: { LGNET_QUALITY_TTL_MS: '0' } });
  analyst = await stack.token('analyst');
}, 90_000);
afterEach(async () => {
  await stack.sandbox.setFaults('');
});
afterAll(async () => {
  await stack?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------
// Choosing cities

/** The cities the sandbox serves whose people come from a source of `kind` (that passes `also`), in code order, with that source. */
function citiesOfKind(kind: Source['kind'], also: (s: Source) => boolean = () => true): Array<{ code: string; source: Source }> {
  return registry.flatMap((c) => {
    const source = c.sources.find((s) => s.kind === kind && s.domains.includes('people') && s.entities.beneficiaries !== undefined && also(s));
    return source && stack.sandbox.truth.has(c.code) ? [{ code: c.code, source }] : [];
  });
}

/** The `n`th city of a kind (cycling when there are fewer), so that tests of one kind spread over its cities. */
function cityOfKind(kind: Source['kind'], n: number, also?: (s: Source) => boolean): { code: string; source: Source } {
  const all = citiesOfKind(kind, also);
  if (all.length === 0) throw new Error(`no city of the registry has a ${kind} source for its people`);
  return all[n % all.length]!;
}

/** The file a snapshot source's people are in (an export, a workbook). */
const exportPath = (s: Source) => (s.entities.beneficiaries as { path: string }).path;
const isUtf8 = (s: Source) => s.kind === 'csv' && /^utf-?8$/i.test(s.encoding);
const fieldsOf = (s: Source, entity: EntityName) => s.entities[entity]!.fields as Record<string, string>;

/** A required field of a person the source reads from one field of its own (no template, no attribute), and that field. */
function renamable(s: Source): { field: string; name: string } {
  const fields = fieldsOf(s, 'beneficiaries');
  const field = ['birthDate', 'familyName', 'givenName', 'intakeDate'].find((f) => !/[{}@]/.test(fields[f]!))!;
  return { field, name: fields[field]! };
}

// ---------------------------------------------------------------------------
// Asking the graph

const served = () => [...stack.sandbox.truth.keys()].sort();
const truthOf = (city: string) => stack.sandbox.truth.get(city)!;
const accepted = (cities: readonly string[], entity: EntityName = 'beneficiaries') => cities.reduce((n, c) => n + truthOf(c).quality[entity].accepted, 0);

interface Coverage {
  citiesAsked: number;
  citiesAnswered: number;
  missing: Array<{ city: { code: string }; code: string; reason: string }>;
  degraded: Array<{ city: { code: string }; reason: string }>;
  stale: Array<{ city: { code: string } }>;
  rejected: number;
}
const COVERAGE = 'coverage { citiesAsked citiesAnswered missing { city { code } code reason } degraded { city { code } reason } stale { city { code } } rejected }';

/** Every served city's beneficiaries, one page: the total and what the answer covers. */
async function national(): Promise<{ r: GraphQLResponse; totalCount: number; coverage: Coverage }> {
  const r = await ask(`query ($cities: [ID!]) { beneficiaries(filter: { cities: $cities }, first: 1) { totalCount ${COVERAGE} } }`, { cities: served() });
  return { r, totalCount: r.data!.beneficiaries.totalCount, coverage: r.data!.beneficiaries.coverage };
}

interface Quality {
  entity: EntityName;
  received: number;
  accepted: number;
  rejected: number;
  reasons: Array<{ code: RejectReason; count: number }>;
  mappingProblems: string[];
}
interface CityState {
  source: { status: string; statusReason: string | null };
  dataQuality: Quality[];
}

/** A city's people source as the registry sees it now, and its data quality. */
async function cityState(code: string): Promise<CityState> {
  const r = await ask('query ($code: ID!) { city(code: $code) { source { status statusReason } dataQuality { entity received accepted rejected reasons { code count } mappingProblems } } }', { code });
  expect(r.errors).toBeUndefined();
  return r.data!.city as CityState;
}

/** Reads a snapshot city once, in both subgraphs this file asks, so that a broken new file finds a good one to fall back on. */
async function readOnce(code: string): Promise<void> {
  const r = await ask('query ($code: ID!) { beneficiaries(filter: { cities: [$code] }, first: 0) { totalCount } }', { code });
  expect(r.errors).toBeUndefined();
  expect((await cityState(code)).source.status).toMatch(/^(UP|DEGRADED)$/);
}

/** The city missing from an answer that holds every other one. */
function expectOnlyMissing(coverage: Coverage, city: string, code: string): Coverage['missing'][number] {
  expect(coverage.citiesAsked).toBe(served().length);
  expect(coverage.citiesAnswered).toBe(served().length - 1);
  expect(coverage.missing.map((m) => [m.city.code, m.code])).toEqual([[city, code]]);
  return coverage.missing[0]!;
}

/** An answer that every city answered, one of them from its last good file. */
function expectServedStale(coverage: Coverage, city: string): void {
  expect(coverage.citiesAnswered).toBe(coverage.citiesAsked);
  expect(coverage.missing).toEqual([]);
  expect(coverage.stale.map((s) => s.city.code)).toEqual([city]);
}

const errorsOf = (r: GraphQLResponse) => (r.errors ?? []).map((e) => [e.extensions?.code, e.extensions?.city]);

// ---------------------------------------------------------------------------

describe('an answer that cannot be read', () => {
  it('of an HTML page where JSON belongs is CITY_BAD_RESPONSE naming the city, and every other city answers', async () => {
    const { code } = cityOfKind('rest', 0);
    await stack.sandbox.setFaults(`${code}=html`);

    const { r, totalCount, coverage } = await national();

    const missing = expectOnlyMissing(coverage, code, 'CITY_BAD_RESPONSE');
    expect(missing.reason).toContain('(expected JSON, got text/html)');
    expect(errorsOf(r)).toContainEqual(['CITY_BAD_RESPONSE', code]);
    expect(totalCount).toBe(accepted(served().filter((c) => c !== code)));
  });

  it('of a CSV export that stops halfway through a row keeps the last good export, saying why, naming the file', async () => {
    const { code, source } = cityOfKind('csv', 0);
    await readOnce(code);
    await stack.sandbox.setFaults(`${code}=truncate`);

    const { totalCount, coverage } = await national();
    const state = await cityState(code);

    expectServedStale(coverage, code);
    expect(totalCount).toBe(accepted(served()));
    expect(state.source.status).toBe('STALE');
    expect(state.source.statusReason).toMatch(
      new RegExp(`^beneficiaries: CITY_BAD_RESPONSE: the export ${exportPath(source).replace(/[./]/g, '\\$&')}: the last row has \\d+ cells where the header has \\d+ \\(a truncated file\\?\\) at line \\d+`),
    );
  });

  it('of XML that does not parse, from a SOAP service, is CITY_BAD_RESPONSE naming the city, and every other city answers', async () => {
    const { code } = cityOfKind('soap', 0);
    await stack.sandbox.setFaults(`${code}=truncate`);

    const { r, totalCount, coverage } = await national();

    const missing = expectOnlyMissing(coverage, code, 'CITY_BAD_RESPONSE');
    expect(missing.reason).toContain('expected a SOAP envelope, got a body that does not parse as XML');
    expect(errorsOf(r)).toContainEqual(['CITY_BAD_RESPONSE', code]);
    expect(totalCount).toBe(accepted(served().filter((c) => c !== code)));
  });
});

describe("a SOAP service's own fault", () => {
  it('is CITY_SOURCE_ERROR naming the faultcode and its words, and every other city answers', async () => {
    const { code } = cityOfKind('soap', 1);
    await stack.sandbox.setFaults(`${code}=soapfault`);

    const { r, coverage } = await national();

    const missing = expectOnlyMissing(coverage, code, 'CITY_SOURCE_ERROR');
    expect(missing.reason).toMatch(/: SOAP fault soap:Server \("database non disponibile"\)$/);
    expect(errorsOf(r)).toContainEqual(['CITY_SOURCE_ERROR', code]);
  });

  it('saying authentication failed is CITY_AUTH_FAILED, and every other city answers', async () => {
    const { code } = cityOfKind('soap', 2);
    await stack.sandbox.setFaults(`${code}=soapfault:auth`);

    const { r, coverage } = await national();

    const missing = expectOnlyMissing(coverage, code, 'CITY_AUTH_FAILED');
    expect(missing.reason).toMatch(/: SOAP fault soap:Client\.Authentication \("credenziali non valide"\)$/);
    expect(errorsOf(r)).toContainEqual(['CITY_AUTH_FAILED', code]);
  });
});

describe('a renamed field', () => {
  it.each([['rest', 1] as const, ['soap', 0] as const])(
    'of a %s system rejects its records, counted, and the source status and data quality name the field and the key of the city file to change',
    async (kind, n) => {
      const { code, source } = cityOfKind(kind, n);
      const { field, name } = renamable(source);
      // A JSON API's key and a SOAP element are renamed by their own name, wherever they are.
      const renamed = kind === 'rest' ? name.split('.').at(-1)! : name;
      await stack.sandbox.setFaults(`${code}=rename:${renamed}`);

      const { coverage } = await national();
      const state = await cityState(code);

      const held = truthOf(code).quality.beneficiaries.received;
      const word = kind === 'soap' ? 'element' : 'field';
      const problem = `${word} "${name}" is in none of the ${held} beneficiaries records received (renamed or removed in the city's system?): change sources[id=${source.id}].entities.beneficiaries.fields.${field} in ${join(dir, `${code}-`)}`;
      // The city answers, all of its records rejected and counted.
      expect(coverage.citiesAnswered).toBe(coverage.citiesAsked);
      expect(coverage.degraded).toEqual([{ city: { code }, reason: expect.stringContaining(problem) }]);
      expect(coverage.rejected).toBe(held + served().filter((c) => c !== code).reduce((n, c) => n + truthOf(c).quality.beneficiaries.rejected, 0));
      expect(state.source).toEqual({ status: 'DEGRADED', statusReason: expect.stringMatching(new RegExp(`^${held} of ${held} beneficiaries rejected \\(MISSING_FIELD \\d+`)) });
      expect(state.source.statusReason).toContain(problem);
      const people = state.dataQuality.find((q) => q.entity === 'beneficiaries')!;
      expect(people).toMatchObject({ received: held, accepted: 0, rejected: held });
      // A record the sandbox broke may be rejected for its own defect first; every other one lacks the field.
      const missingField = people.reasons.find((r) => r.code === 'MISSING_FIELD')!.count;
      expect(missingField).toBeGreaterThanOrEqual(held - truthOf(code).quality.beneficiaries.rejected);
      expect(people.mappingProblems).toEqual([expect.stringContaining(problem)]);
    },
  );

  it.each([['csv', 1] as const, ['spreadsheet', 0] as const])(
    'of a %s file has the new file refused, the last good one served, and the status names the column and the key to change',
    async (kind, n) => {
      const { code, source } = cityOfKind(kind, n);
      const { field, name } = renamable(source);
      await readOnce(code);
      await stack.sandbox.setFaults(`${code}=rename:${name}`);

      const { totalCount, coverage } = await national();
      const state = await cityState(code);

      expectServedStale(coverage, code);
      expect(totalCount).toBe(accepted(served()));
      expect(state.source.status).toBe('STALE');
      expect(state.source.statusReason).toMatch(/^beneficiaries: CITY_BAD_RESPONSE: /);
      expect(state.source.statusReason).toContain(`no column "${name}" (renamed or removed?): change sources[id=${source.id}].entities.beneficiaries.fields.${field} in ${join(dir, `${code}-`)}`);
    },
  );
});

describe('an unknown code', () => {
  it("rejects the record, counted as UNKNOWN_CODE in the city's data quality, out of every list and total, while the city answers", async () => {
    const code = served().find((c) => (truthOf(c).quality.beneficiaries.reasons.UNKNOWN_CODE ?? 0) > 0)!;
    expect(code, 'a city the sandbox serves with a person rejected for an unknown code').toBeDefined();
    const truth = truthOf(code);
    const unknown = [...truth.rejected.beneficiaries].filter(([, reason]) => reason === 'UNKNOWN_CODE').map(([id]) => id);
    const operator = await stack.token('operator', { city: code });

    // Every page of the city's list, as its operator sees it (with the city's own record numbers).
    const listed: string[] = [];
    let after: string | null = null;
    let page: { totalCount: number; nodes: Array<{ localId: string }>; pageInfo: { hasNextPage: boolean; endCursor: string }; coverage: Coverage };
    do {
      const r: GraphQLResponse = await ask(
        `query ($code: ID!, $after: String) { beneficiaries(filter: { cities: [$code] }, first: 500, after: $after) { totalCount nodes { localId } pageInfo { hasNextPage endCursor } ${COVERAGE} } }`,
        { code, after },
        operator,
      );
      expect(r.errors).toBeUndefined();
      page = r.data!.beneficiaries;
      listed.push(...page.nodes.map((n) => n.localId));
      after = page.pageInfo.endCursor;
    } while (page.pageInfo.hasNextPage);
    const state = await cityState(code);
    const figures = await ask('query ($code: ID!) { beneficiaryFigures(cities: [$code], by: []) { groups { count } } }', { code });

    expect(page.coverage).toMatchObject({ citiesAnswered: 1, missing: [], rejected: truth.quality.beneficiaries.rejected });
    expect(page.totalCount).toBe(truth.quality.beneficiaries.accepted);
    expect(listed).toHaveLength(page.totalCount);
    for (const id of unknown) expect(listed).not.toContain(id);
    expect(figures.data!.beneficiaryFigures.groups).toEqual([{ count: truth.quality.beneficiaries.accepted }]);
    const people = state.dataQuality.find((q) => q.entity === 'beneficiaries')!;
    expect(people.reasons).toContainEqual({ code: 'UNKNOWN_CODE', count: unknown.length });
    expect(people).toMatchObject({ received: truth.quality.beneficiaries.received, accepted: truth.quality.beneficiaries.accepted, rejected: truth.quality.beneficiaries.rejected });
  });
});

describe('a record sent twice', () => {
  it('is kept once: the copy is rejected as DUPLICATE_RECORD, a walk returns each record once, and totals and data quality add up with the truth', async () => {
    const { code } = cityOfKind('rest', 2);
    const truth = truthOf(code);
    await stack.sandbox.setFaults(`${code}=duplicate`);

    // The whole list, by pages smaller than the city, so that the copy (at the end) comes on another page than its record.
    const ids: string[] = [];
    let after: string | null = null;
    let page: { totalCount: number; nodes: Array<{ id: string }>; pageInfo: { hasNextPage: boolean; endCursor: string }; coverage: Coverage };
    do {
      const r: GraphQLResponse = await ask(
        `query ($code: ID!, $after: String) { beneficiaries(filter: { cities: [$code] }, first: 100, after: $after) { totalCount nodes { id } pageInfo { hasNextPage endCursor } ${COVERAGE} } }`,
        { code, after },
      );
      expect(r.errors).toBeUndefined();
      page = r.data!.beneficiaries;
      ids.push(...page.nodes.map((n) => n.id));
      after = page.pageInfo.endCursor;
    } while (page.pageInfo.hasNextPage);
    const state = await cityState(code);
    const { coverage } = await national();

    expect(ids).toHaveLength(truth.quality.beneficiaries.accepted);
    expect(new Set(ids).size).toBe(ids.length);
    expect(page.totalCount).toBe(truth.quality.beneficiaries.accepted);
    expect(page.coverage.rejected).toBe(truth.quality.beneficiaries.rejected + 1);
    for (const q of state.dataQuality) {
      const want = truth.quality[q.entity];
      if (want.received === 0) continue;
      expect(q, q.entity).toMatchObject({ received: want.received + 1, accepted: want.accepted, rejected: want.rejected + 1 });
      expect(q.received, q.entity).toBe(q.accepted + q.rejected);
      expect(q.reasons, q.entity).toContainEqual({ code: 'DUPLICATE_RECORD', count: 1 });
    }
    expect(coverage.citiesAnswered).toBe(coverage.citiesAsked);
  });
});

describe('an export in the wrong encoding', () => {
  it('is refused, naming the file and the encoding key, whichever way it is wrong, and the last good export is served', async () => {
    const cities = [cityOfKind('csv', 2, (s) => !isUtf8(s)), ...citiesOfKind('csv', isUtf8).slice(0, 1)];
    for (const { code } of cities) await readOnce(code);
    await stack.sandbox.setFaults(cities.map(({ code }) => `${code}=encoding`).join(','));

    const { totalCount, coverage } = await national();

    expect(coverage.citiesAnswered).toBe(coverage.citiesAsked);
    expect(coverage.stale.map((s) => s.city.code).sort()).toEqual(cities.map((c) => c.code).sort());
    expect(totalCount).toBe(accepted(served()));
    for (const { code, source } of cities) {
      const state = await cityState(code);
      expect(state.source.status, code).toBe('STALE');
      expect(state.source.statusReason, code).toMatch(new RegExp(`^beneficiaries: CITY_BAD_RESPONSE: the export ${exportPath(source).replace(/[./]/g, '\\$&')}: `));
      expect(state.source.statusReason, code).toContain(isUtf8(source) ? 'its bytes are not UTF-8' : 'its letters are UTF-8');
      expect(state.source.statusReason, code).toContain(`set sources[id=${source.id}].encoding in ${join(dir, `${code}-`)}`);
    }
  });
});

describe('a formula where a number belongs', () => {
  it('rejects the housing resources it is in as INVALID_VALUE, counted, and leaves them out of the list, while the city answers', async () => {
    const { code, source } = cityOfKind('spreadsheet', 1, (s) => s.entities.housingResources !== undefined);
    const truth = truthOf(code);
    // The fault puts its formulas in the places of the sheet's first two resources.
    const idField = fieldsOf(source, 'housingResources').localId!;
    const broken = stack.sandbox.rows(code, source.id, 'housingResources').slice(0, 2).map((r) => String(r[idField]));
    const reasons = new Map(truth.rejected.housingResources);
    for (const id of broken) reasons.set(id, 'INVALID_VALUE');
    const received = truth.quality.housingResources.received;
    await stack.sandbox.setFaults(`${code}=formula`);

    const list = await ask(`query ($code: ID!) { housingResources(filter: { cities: [$code] }) { totalCount ${COVERAGE} } }`, { code });
    const state = await cityState(code);

    expect(list.errors).toBeUndefined();
    expect(list.data!.housingResources.totalCount).toBe(received - reasons.size);
    expect(list.data!.housingResources.coverage).toMatchObject({ citiesAnswered: 1, missing: [], rejected: reasons.size });
    const housing = state.dataQuality.find((q) => q.entity === 'housingResources')!;
    expect(housing).toMatchObject({ received, accepted: received - reasons.size, rejected: reasons.size });
    expect(housing.reasons).toContainEqual({ code: 'INVALID_VALUE', count: [...reasons.values()].filter((r) => r === 'INVALID_VALUE').length });
    // Its people are as they were.
    expect(state.dataQuality.find((q) => q.entity === 'beneficiaries')).toMatchObject({ accepted: truth.quality.beneficiaries.accepted });
  });
});
