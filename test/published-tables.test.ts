/**
 * The tables published to the dashboard role beside the programme report:
 * intakes per month and movers between cities (with the report, one table
 * per edition's whole period) and housing occupancy per city. Real tokens,
 * over HTTP, against the sandbox's own truth: what is shown is exact, no
 * count from 1 to 4 is shown, and nothing withheld can be worked out from
 * everything the dashboard is shown, taken together.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboardOperationsDir } from '../gateway/allow-list.ts';
import type { Edition } from '../schema/code-lists.ts';
import { editions } from '../schema/editions.ts';
import { startStack, type Stack } from '../scripts/stack.ts';
import { solve, type Relation } from './disclosure.ts';
import { housingTruth as housingOf, peopleTruth as peopleOf } from './published-truth.ts';
import { gql, type GraphQLResponse } from './helpers.ts';

let stack: Stack;
const token = { analyst: '', dashboard: '' };
/** The smallest count shown as is (the subgraphs' default). */
const THRESHOLD = 5;
/** A city of every edition, whose system (SOAP) has no last snapshot to fall back on when it is down. */
const SASSARI = '090064';

const operation = (name: string) => readFileSync(join(dashboardOperationsDir, `${name}.graphql`), 'utf8');
const ask = (who: keyof typeof token, query: string, variables?: Record<string, unknown>) => gql(stack.gatewayUrl, query, variables, { authorization: `Bearer ${token[who]}` });
const codes = (r: GraphQLResponse) => (r.errors ?? []).map((e) => e.extensions?.code);
const small = (v: number | null | undefined) => typeof v === 'number' && v >= 1 && v < THRESHOLD;

beforeAll(async () => {
  stack = await startStack({ port: 0 });
  token.analyst = await stack.token('analyst');
  token.dashboard = await stack.token('dashboard');
});
afterAll(async () => {
  await stack?.close();
});

const peopleTruth = (edition: Edition, skip: readonly string[] = []) => peopleOf(stack, edition, skip);
const housingTruth = () => housingOf(stack);

type MonthRow = { month: string; beneficiaries: number | null; takenInCharge: number | null };
type PairRow = { from: { code: string }; to: { code: string }; persons: number | null };
const pairKey = (p: PairRow) => `${p.from.code}>${p.to.code}`;

describe('intakes per month and movers, beside the programme report', () => {
  it.each(editions.map((e) => [e.edition]))('of %s are exact for analysts: every month of the period, adding up to the report, and every move', async (edition) => {
    const r = await ask('analyst', operation('dashboard-trends'), { edition });
    expect(r.errors).toBeUndefined();
    const truth = peopleTruth(edition);
    const totals = r.data!.report.totals;
    const months = totals.intakesByMonth as MonthRow[];
    expect(months.map((m) => m.month)).toEqual(truth.months);
    for (const m of months) expect([m.month, m.beneficiaries, m.takenInCharge]).toEqual([m.month, truth.byMonth.get(m.month)!.b, truth.byMonth.get(m.month)!.t]);
    expect([totals.beneficiaries, totals.takenInCharge]).toEqual([truth.total.b, truth.total.t]);
    expect(months.reduce((n, m) => n + m.beneficiaries!, 0)).toBe(totals.beneficiaries);
    expect(totals.movers.persons).toBe(truth.movers);
    const top = [...truth.pairs].sort(([a, x], [b, y]) => y - x || a.localeCompare(b)).slice(0, 20);
    expect((totals.movers.pairs as PairRow[]).map((p) => [pairKey(p), p.persons])).toEqual(top);
  });

  it('are published to the dashboard role with the report as one table: exact where shown, no count from 1 to 4, nothing withheld that all of it together gives away', async () => {
    let withheld = 0;
    for (const { edition } of editions) {
      const [report, trends] = await Promise.all([
        ask('dashboard', operation('dashboard-report'), { edition }),
        ask('dashboard', operation('dashboard-trends'), { edition }),
      ]);
      for (const r of [report, trends]) expect(codes(r).every((c) => c === 'SMALL_COUNT_SUPPRESSED'), JSON.stringify(r.errors)).toBe(true);
      const truth = peopleTruth(edition);
      const rows = report.data!.report.cities as Array<{ city: { code: string }; beneficiaries: number | null; takenInCharge: number | null }>;
      const totals = trends.data!.report.totals;
      const months = totals.intakesByMonth as MonthRow[];
      expect(months.map((m) => m.month)).toEqual(truth.months);
      // The same totals in both answers: the report's and the months' are one table.
      expect([report.data!.report.totals.beneficiaries, report.data!.report.totals.takenInCharge]).toEqual([totals.beneficiaries, totals.takenInCharge]);

      // What a reader holds: every published cell, with those taken in charge only by referral (R) as unknowns.
      const values: Record<string, number | null> = {};
      const exact: Record<string, number> = {};
      const relations: Relation[] = [];
      const row = (key: string, b: number | null, t: number | null, want: { b: number; t: number }) => {
        Object.assign(values, { [`B:${key}`]: b, [`T:${key}`]: t, [`R:${key}`]: null });
        Object.assign(exact, { [`B:${key}`]: want.b, [`T:${key}`]: want.t, [`R:${key}`]: want.b - want.t });
        relations.push({ total: `B:${key}`, parts: [`T:${key}`, `R:${key}`] });
      };
      for (const r of rows) row(r.city.code, r.beneficiaries, r.takenInCharge, truth.cities.get(r.city.code)!);
      for (const m of months) row(m.month, m.beneficiaries, m.takenInCharge, truth.byMonth.get(m.month)!);
      row('total', totals.beneficiaries, totals.takenInCharge, truth.total);
      for (const col of ['B', 'T', 'R']) {
        relations.push({ total: `${col}:total`, parts: rows.map((r) => `${col}:${r.city.code}`) });
        relations.push({ total: `${col}:total`, parts: months.map((m) => `${col}:${m.month}`) });
      }
      for (const [cell, v] of Object.entries(values)) {
        if (v !== null) expect(v, `${edition} ${cell}`).toBe(exact[cell]);
        if (small(exact[cell]) && !cell.startsWith('R:')) expect(v, `${edition} ${cell}`).toBeNull();
        if (v === null && !cell.startsWith('R:')) withheld++;
      }
      for (const [cell, v] of Object.entries(solve(values, relations))) {
        // Only those by referral can be worked out (a row less its takenInCharge), and never a small one.
        expect(cell.startsWith('R:'), `${edition}: ${cell} = ${v} can be worked out`).toBe(true);
        expect(small(v), `${edition}: ${cell} = ${v} can be worked out`).toBe(false);
        expect(v).toBe(exact[cell]);
      }

      const movers = totals.movers as { persons: number | null; pairs: PairRow[] };
      expect(movers.persons).toBe(small(truth.movers) ? null : truth.movers);
      for (const p of movers.pairs) expect(p.persons, pairKey(p)).toBe(truth.pairs.get(pairKey(p)));
      for (const p of movers.pairs) expect(p.persons! >= THRESHOLD, pairKey(p)).toBe(true);
      // The pairs left out (and the moves in all less the pairs shown) are none, or at least two.
      const left = [...truth.pairs.keys()].filter((k) => !movers.pairs.some((p) => pairKey(p) === k));
      expect(left.length).not.toBe(1);
      if (truth.pairs.size) expect(codes(trends)).toContain('SMALL_COUNT_SUPPRESSED');
    }
    // LGNetEA's first months hold a handful of intakes: some cells must have been withheld.
    expect(withheld).toBeGreaterThan(0);
  });
});

describe('housing occupancy', () => {
  const OCCUPANCY = '{ housingOccupancy { cities { city { code } places occupied } coverage { citiesAsked citiesAnswered missing { city { code } } } } }';

  it("is every city's places and occupied places, as its valid housing resources say, for analysts", async () => {
    const r = await ask('analyst', OCCUPANCY);
    expect(r.errors).toBeUndefined();
    const truth = housingTruth();
    const rows = r.data!.housingOccupancy.cities as Array<{ city: { code: string }; places: number; occupied: number }>;
    expect(rows.map((c) => c.city.code).sort()).toEqual([...truth.keys()].sort());
    for (const c of rows) expect({ places: c.places, occupied: c.occupied }, c.city.code).toEqual(truth.get(c.city.code));
    expect(r.data!.housingOccupancy.coverage).toMatchObject({ citiesAnswered: rows.length, missing: [] });
  });

  it('is published to the dashboard role with occupied counts from 1 to 4 withheld, and the places shown, since places are not people', async () => {
    const r = await ask('dashboard', operation('dashboard-housing'));
    expect(codes(r)).toEqual(['SMALL_COUNT_SUPPRESSED']);
    expect(r.errors![0]!.extensions!.field).toBe('CityOccupancy.occupied');
    const truth = housingTruth();
    const rows = r.data!.housingOccupancy.cities as Array<{ city: { code: string }; places: number | null; occupied: number | null }>;
    let withheld = 0;
    for (const c of rows) {
      const want = truth.get(c.city.code)!;
      if (c.places !== null) expect(c.places, c.city.code).toBe(want.places);
      if (c.occupied !== null) expect(c.occupied, c.city.code).toBe(want.occupied);
      if (small(want.occupied)) {
        expect(c.occupied, c.city.code).toBeNull();
        withheld++;
        // The free places, the other part of the places, are never published: the places can stay.
        if (want.places > want.occupied) expect(c.places, c.city.code).toBe(want.places);
      } else {
        expect(c.occupied, c.city.code).toBe(want.occupied);
      }
    }
    expect(withheld).toBeGreaterThan(0);
    // The rejected records of every city in one sum, beside each city's published data quality, are not for the dashboard.
    const rejected = (who: keyof typeof token) => gql(stack.subgraphUrls.housing, '{ housingOccupancy { coverage { rejected } } }', undefined, { authorization: `Bearer ${token[who]}` });
    const [asDashboard, asAnalyst] = await Promise.all([rejected('dashboard'), rejected('analyst')]);
    expect(asDashboard.data!.housingOccupancy.coverage.rejected).toBeNull();
    expect(asDashboard.errors?.map((e) => [e.extensions?.code, e.extensions?.field])).toEqual([['SMALL_COUNT_SUPPRESSED', 'Coverage.rejected']]);
    expect(asAnalyst.data!.housingOccupancy.coverage.rejected).toBe([...stack.sandbox.truth.values()].reduce((n, t) => n + t.quality.housingResources.rejected, 0));
  });
});

describe('the dashboard role', () => {
  it('runs the new published operations by their hash', async () => {
    for (const [name, variables] of [['dashboard-trends', { edition: 'LGNET2' }], ['dashboard-housing', undefined]] as const) {
      const text = operation(name);
      const res = await fetch(stack.gatewayUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token.dashboard}` },
        body: JSON.stringify({ variables, extensions: { persistedQuery: { version: 1, sha256Hash: createHash('sha256').update(text).digest('hex') } } }),
      });
      expect(res.status, name).toBe(200);
      const byHash = (await res.json()) as GraphQLResponse;
      expect(byHash.data, name).toEqual((await ask('dashboard', text, variables)).data);
    }
  });

  it('still runs nothing else, and reads no figure but the published tables even straight at a subgraph', async () => {
    for (const query of [
      '{ housingOccupancy { cities { city { code } occupied } } }',
      '{ report(edition: LGNET3) { totals { intakesByMonth { month beneficiaries } } } }',
      '{ report(edition: LGNET3) { totals { movers(top: 100) { persons pairs { persons } } } } }',
      '{ beneficiaryFigures(by: [MONTH]) { groups { keys count } } }',
    ]) {
      const r = await ask('dashboard', query);
      expect(r.status, query).toBe(403);
      expect(codes(r), query).toEqual(['OPERATION_NOT_ALLOWED']);
    }
    const at = (subgraph: keyof Stack['subgraphUrls'], query: string) => gql(stack.subgraphUrls[subgraph], query, undefined, { authorization: `Bearer ${token.dashboard}` });
    for (const [subgraph, field, query] of [
      ['people', 'Query.beneficiaryFigures', '{ beneficiaryFigures(by: [MONTH]) { total } }'],
      ['people', 'Query.movers', '{ movers { persons } }'],
      ['housing', 'Query.placementFigures', '{ placementFigures(by: [CITY]) { total } }'],
      ['housing', 'Query.housingResources', '{ housingResources { totalCount } }'],
    ] as const) {
      const r = await at(subgraph, query);
      expect(r.errors?.map((e) => [e.extensions?.code, e.extensions?.field]), query).toEqual([['FORBIDDEN_FIELD', field]]);
    }
    // Months of another period could be subtracted from the published ones: not for the dashboard.
    const lgnet3 = editions.find((e) => e.edition === 'LGNET3')!;
    const entities = (key: string) => gql(stack.subgraphUrls.people, 'query($r: [_Any!]!) { _entities(representations: $r) { ... on ReportTotals { intakesByMonth { month beneficiaries } } } }', { r: [{ __typename: 'ReportTotals', key }] }, { authorization: `Bearer ${token.dashboard}` });
    expect((await entities(`LGNET3|${lgnet3.from}|${lgnet3.to}`)).data!._entities[0].intakesByMonth).toHaveLength(37);
    expect((await entities(`LGNET3|${lgnet3.from}|2024-06-30`)).data!._entities[0]).toBeNull();
  });

  it('is shown no month and no mover while a city of the edition is down, and the same occupancy for every other city', async () => {
    const before = await ask('dashboard', operation('dashboard-housing'));
    await stack.sandbox.setFaults(`${SASSARI}=down`);
    try {
      const trends = await ask('dashboard', operation('dashboard-trends'), { edition: 'LGNET3' });
      const totals = trends.data!.report.totals;
      expect(totals.peopleCoverage.missing.map((m: { city: { code: string } }) => m.city.code)).toEqual([SASSARI]);
      for (const m of totals.intakesByMonth as MonthRow[]) expect([m.beneficiaries, m.takenInCharge], m.month).toEqual([null, null]);
      expect(totals.movers).toEqual({ persons: null, pairs: [] });
      expect(trends.errors?.filter((e) => e.extensions?.code === 'SMALL_COUNT_SUPPRESSED').map((e) => e.extensions!.field).sort()).toEqual(['MonthIntakes.beneficiaries', 'MonthIntakes.takenInCharge', 'ReportMovers.persons']);
      // Analysts still get the months of the cities that answered, and are told which one is missing.
      const analyst = await ask('analyst', operation('dashboard-trends'), { edition: 'LGNET3' });
      const truth = peopleTruth('LGNET3', [SASSARI]);
      expect((analyst.data!.report.totals.intakesByMonth as MonthRow[]).map((m) => m.beneficiaries)).toEqual(truth.months.map((m) => truth.byMonth.get(m)!.b));

      const after = await ask('dashboard', operation('dashboard-housing'));
      expect(after.data!.housingOccupancy.coverage.missing.map((m: { city: { code: string } }) => m.city.code)).toEqual([SASSARI]);
      const rows = (r: GraphQLResponse) => (r.data!.housingOccupancy.cities as Array<{ city: { code: string } }>).filter((c) => c.city.code !== SASSARI);
      expect(rows(after)).toEqual(rows(before));
      expect(after.data!.housingOccupancy.cities.find((c: { city: { code: string } }) => c.city.code === SASSARI)).toMatchObject({ places: null, occupied: null });
    } finally {
      await stack.sandbox.setFaults('');
    }
  });
});
