/**
 * Figures that reconcile, end to end: the programme report's rows and totals,
 * the lists walked page by page through the gateway, each city's data
 * quality and the sandbox's own truth (worked out from its population and
 * the records it broke, without any adapter) all count the same records.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCityConfigs } from '../adapters/config.ts';
import { defaultCitiesDir } from '../adapters/fleet.ts';
import type { CityTruth } from '../sandbox/truth.ts';
import { editions } from '../schema/editions.ts';
import { startStack, type Stack } from '../scripts/stack.ts';
import { gql, type GraphQLResponse } from './helpers.ts';

let stack: Stack;
let analyst: string;

const ask = (query: string, variables?: Record<string, unknown>) => gql(stack.gatewayUrl, query, variables, { authorization: `Bearer ${analyst}` });

beforeAll(async () => {
  // The registry sweeps a city's records again at every status question, so that a source
  // turned DEGRADED by its rejected records shows at once (by default a sweep is reused a minute).
  stack = await startStack({ port: 0, env: { LGNET_QUALITY_TTL_MS: '0' } });
  analyst = await stack.token('analyst');
});
afterAll(async () => {
  await stack?.close();
});

const registered = loadCityConfigs(defaultCitiesDir);
const truthOf = (city: string): CityTruth => stack.sandbox.truth.get(city)!;
/** Cities of an edition that the sandbox runs a system for. */
const connected = (edition: string) => registered.filter((c) => c.editions.includes(edition as never) && stack.sandbox.truth.has(c.code)).map((c) => c.code);

interface Period {
  from: string;
  to: string;
}

/** A city's report figures, worked out from the sandbox's truth with the definitions the schema gives. */
function truthFigures(city: string, p: Period) {
  const t = truthOf(city);
  const intakes = t.accepted.beneficiaries.filter((b) => b.intake.date >= p.from && b.intake.date <= p.to);
  const persons = (list: typeof intakes) => new Set(list.map((b) => b.fiscalCode)).size;
  return {
    beneficiaries: persons(intakes),
    takenInCharge: persons(intakes.filter((b) => b.intake.channel !== 'REFERRAL')),
    housingSupported: new Set(t.accepted.placements.filter((x) => x.from <= p.to && (x.to === null || x.to >= p.from)).map((x) => x.beneficiaryId)).size,
    civicProjectsSigned: t.accepted.civicProjects.filter((x) => x.signedOn !== null && x.signedOn >= p.from && x.signedOn <= p.to).length,
    fiscalCodes: intakes.map((b) => b.fiscalCode),
  };
}

const FIGURES = 'beneficiaries takenInCharge takenInChargeByChannel { channel count } housingSupported civicProjectsSigned';
const COVERAGE = 'coverage { citiesAsked citiesAnswered rejected missing { city { code } code reason } degraded { city { code } reason } }';
const REPORT = /* GraphQL */ `
  query Report($edition: Edition!, $from: Date, $to: Date) {
    report(edition: $edition, from: $from, to: $to) {
      edition from to
      cities { key city { code } ${FIGURES} targets { indicator value target progress } ${COVERAGE} }
      totals { ${FIGURES} uniquePersons targets { indicator value target comparison progress } ${COVERAGE} }
    }
  }
`;

const indicators = ['beneficiaries', 'takenInCharge', 'housingSupported', 'civicProjectsSigned'] as const;

function expectNoErrors(r: GraphQLResponse) {
  expect(r.errors, JSON.stringify(r.errors?.slice(0, 3))).toBeUndefined();
}

describe('the programme report', () => {
  it.each(editions.map((e) => [e.edition]))('of %s counts in each city and in total what the sandbox holds, and the totals add up', async (edition) => {
    const info = editions.find((e) => e.edition === edition)!;
    const r = await ask(REPORT, { edition });
    expectNoErrors(r);
    const report = r.data!.report;
    expect(report).toMatchObject({ edition, from: info.from, to: info.to });
    const cities = connected(edition);
    expect(report.cities.map((c: { city: { code: string } }) => c.city.code)).toEqual(cities);
    const fiscalCodes = new Set<string>();
    for (const row of report.cities) {
      const want = truthFigures(row.city.code, info);
      for (const i of indicators) expect(row[i], `${row.city.code} ${i}`).toBe(want[i]);
      want.fiscalCodes.forEach((f) => fiscalCodes.add(f));
      expect(row.coverage).toMatchObject({ citiesAsked: 1, citiesAnswered: 1, missing: [], degraded: [] });
      const byChannel = Object.fromEntries(row.takenInChargeByChannel.map((c: { channel: string; count: number }) => [c.channel, c.count]));
      expect(byChannel.MOBILE_UNIT + byChannel.ONE_STOP_SHOP).toBeGreaterThanOrEqual(row.takenInCharge);
    }
    for (const i of indicators) {
      expect(report.totals[i], i).toBe(report.cities.reduce((n: number, c: Record<string, number>) => n + c[i]!, 0));
    }
    // A person taken in charge in two cities of the edition counts once.
    expect(report.totals.uniquePersons).toBe(fiscalCodes.size);
    expect(report.totals.uniquePersons).toBeLessThanOrEqual(report.totals.beneficiaries);
    expect(report.totals.coverage).toMatchObject({ citiesAsked: cities.length, citiesAnswered: cities.length, missing: [] });
    // The network's targets, beside the figures; none is invented where the programme sets none.
    for (const t of report.totals.targets) {
      const target = info.targets.find((x) => x.indicator === t.indicator);
      // The network counts people once.
      expect(t.value).toBe(t.indicator === 'beneficiaries' ? report.totals.uniquePersons : report.totals[t.indicator]);
      expect(t.target).toBe(target?.value ?? null);
      expect(t.progress).toBe(target ? t.value / target.value : null);
    }
  });

  it("sets a city's own target beside its figure where its configuration gives one, and no progress elsewhere", async () => {
    const withTarget = registered.find((c) => Object.keys(c.targets).length > 0)!;
    const [edition, targets] = Object.entries(withTarget.targets)[0]!;
    const r = await ask(REPORT, { edition });
    expectNoErrors(r);
    for (const row of r.data!.report.cities) {
      const own = row.city.code === withTarget.code ? (targets as Record<string, number>) : {};
      for (const t of row.targets) {
        expect(t.target, `${row.city.code} ${t.indicator}`).toBe(own[t.indicator] ?? null);
        expect(t.progress).toBe(own[t.indicator] ? row[t.indicator] / own[t.indicator]! : null);
      }
    }
  });

  it('is published to the dashboard role whole, with small counts withheld in every column so that none can be worked back out', async () => {
    const dashboard = await stack.token('dashboard');
    const text = readFileSync(new URL('../gateway/operations/dashboard/dashboard-report.graphql', import.meta.url), 'utf8');
    let withheld = 0;
    for (const { edition } of editions) {
      const [published, exact] = await Promise.all([
        gql(stack.gatewayUrl, text, { edition }, { authorization: `Bearer ${dashboard}` }),
        ask(REPORT, { edition }),
      ]);
      expectNoErrors(exact);
      expect((published.errors ?? []).every((e) => e.extensions?.code === 'SMALL_COUNT_SUPPRESSED'), JSON.stringify(published.errors)).toBe(true);
      const rows = published.data!.report.cities as Array<Record<string, any>>;
      const exactRows = new Map<string, Record<string, any>>(exact.data!.report.cities.map((c: Record<string, any>) => [c.city.code, c]));
      for (const i of indicators) {
        const nulls = rows.filter((r) => r[i] === null);
        for (const r of rows) {
          const value = exactRows.get(r.city.code)![i];
          if (value >= 1 && value < 5) expect(r[i], `${edition} ${r.city.code} ${i}`).toBeNull();
          if (r[i] !== null) expect(r[i]).toBe(value);
        }
        // One withheld cell beside a published total would be the total less the others.
        if (published.data!.report.totals[i] !== null) expect(nulls.length).not.toBe(1);
        withheld += nulls.length;
        const target = rows.find((r) => r[i] === null)?.targets.find((t: { indicator: string }) => t.indicator === i);
        if (target) expect(target).toMatchObject({ value: null, progress: null });
      }
    }
    expect(withheld).toBeGreaterThan(0);
    // Nor by row: those taken in charge only by referral are the row's beneficiaries less its takenInCharge.
    for (const { edition } of editions) {
      const published = await gql(stack.gatewayUrl, text, { edition }, { authorization: `Bearer ${dashboard}` });
      const { cities: rows, totals } = published.data!.report;
      for (const r of [...rows, totals]) {
        if (r.beneficiaries !== null && r.takenInCharge !== null) expect([0, ...Array.from({ length: 95 }, (_, i) => i + 5)]).toContain(Math.min(r.beneficiaries - r.takenInCharge, 99));
      }
      if (totals.beneficiaries !== null && totals.uniquePersons !== null) expect(totals.beneficiaries - totals.uniquePersons === 0 || totals.beneficiaries - totals.uniquePersons >= 5).toBe(true);
    }
    // A key sent straight to a subgraph is held to the same rules: the edition's whole period only.
    const lgnet3 = editions.find((e) => e.edition === 'LGNET3')!;
    const entities = (key: string) =>
      gql(stack.subgraphUrls.people, 'query($r: [_Any!]!) { _entities(representations: $r) { ... on CityReport { beneficiaries } } }', { r: [{ __typename: 'CityReport', key }] }, { authorization: `Bearer ${dashboard}` });
    expect((await entities(`LGNET3|058091|${lgnet3.from}|${lgnet3.to}`)).data!._entities[0]).toMatchObject({ beneficiaries: expect.any(Number) });
    expect((await entities(`LGNET3|058091|${lgnet3.from}|2024-06-30`)).data!._entities[0]).toBeNull();
    // Another period could be subtracted from the published one: not for the dashboard.
    const other = await gql(stack.gatewayUrl, '{ report(edition: LGNET3, from: "2024-01-01") { totals { beneficiaries } } }', undefined, { authorization: `Bearer ${dashboard}` });
    expect(other.errors?.[0]?.extensions?.code).toBe('OPERATION_NOT_ALLOWED');
  });

  it('costs each city a few requests, however many records it holds, and a city that filters sends only the period asked', async () => {
    stack.sandbox.resetRequestCounts();
    const r = await ask(REPORT, { edition: 'LGNET_EA' });
    expectNoErrors(r);
    const cities = connected('LGNET_EA');
    // Per city: its people in the period, its placements and civic projects, and its persons
    // (whose records count only if valid), each read whole in pages of up to a thousand or more.
    for (const city of cities) expect(stack.sandbox.requestCount(city), city).toBeLessThanOrEqual(12);
    expect(stack.sandbox.requestCount()).toBeLessThanOrEqual(12 * cities.length);
    expect(stack.sandbox.bytesSent()).toBeGreaterThan(0);

    // Roma's system filters by intake date: asked for one year, it sends that year only.
    const roma = '058091';
    const bytesFor = async (variables: Record<string, unknown>) => {
      stack.sandbox.resetRequestCounts();
      const f = await ask('query($from: Date, $to: Date) { beneficiaryFigures(cities: ["058091"], from: $from, to: $to, by: []) { total } }', variables);
      expectNoErrors(f);
      return { total: f.data!.beneficiaryFigures.total as number, bytes: stack.sandbox.bytesSent(roma) };
    };
    const year = await bytesFor({ from: '2021-01-01', to: '2021-12-31' });
    const all = await bytesFor({});
    expect(year.total).toBe(truthOf(roma).accepted.beneficiaries.filter((b) => b.intake.date.startsWith('2021')).length);
    expect(all.total).toBe(truthOf(roma).quality.beneficiaries.accepted);
    expect(year.bytes).toBeLessThan(all.bytes / 2);
  });

  it('over a period of its own counts the same records as the lists walked over that period', async () => {
    const period = { from: '2024-03-01', to: '2024-08-31' };
    const months = { from: '2024-03', to: '2024-08' };
    const r = await ask(REPORT, { edition: 'LGNET3', ...period });
    expectNoErrors(r);
    const rows = new Map<string, Record<string, any>>(r.data!.report.cities.map((c: Record<string, any>) => [c.city.code, c]));
    for (const city of ['082053', '090064', '072006']) {
      const want = truthFigures(city, period);
      const row = rows.get(city)!;
      for (const i of indicators) expect(row[i], `${city} ${i}`).toBe(want[i]);
      const people = await walk('beneficiaries', 'nodes { personKey }', { cities: [city], intakeMonths: months });
      expect(new Set(people.map((n) => n.personKey)).size).toBe(row.beneficiaries);
      const projects = await walk('civicProjects', 'nodes { id }', { cities: [city], signedMonths: months });
      expect(projects.length).toBe(row.civicProjectsSigned);
      // A placement runs in the period when it starts by its last month and does not end before its first.
      const placements = await walk('placements', 'nodes { fromMonth toMonth beneficiary { id } }', { cities: [city] });
      const running = placements.filter((p) => p.fromMonth <= months.to && (p.toMonth === null || p.toMonth >= months.from));
      expect(new Set(running.map((p) => p.beneficiary.id)).size).toBe(row.housingSupported);
    }
  });
});

/** Every node of a list, page by page; checks that the total is what the walk returns. */
async function walk(list: string, selection: string, filter: Record<string, unknown>): Promise<Array<Record<string, any>>> {
  const filterType = { beneficiaries: 'BeneficiaryFilter', placements: 'PlacementFilter', enrollments: 'EnrollmentFilter', civicProjects: 'CivicProjectFilter' }[list];
  const nodes: Array<Record<string, any>> = [];
  let after: string | null = null;
  let total = -1;
  for (let page = 0; page < 200; page++) {
    const r: GraphQLResponse = await ask(`query($filter: ${filterType}, $after: String) { ${list}(filter: $filter, first: 500, after: $after) { totalCount ${selection} pageInfo { hasNextPage endCursor } coverage { missing { city { code } } } } }`, { filter, after });
    expectNoErrors(r);
    const conn = r.data![list];
    expect(conn.coverage.missing).toEqual([]);
    if (total < 0) total = conn.totalCount;
    expect(conn.totalCount).toBe(total);
    nodes.push(...conn.nodes);
    if (!conn.pageInfo.hasNextPage) break;
    after = conn.pageInfo.endCursor;
  }
  expect(nodes.length).toBe(total);
  return nodes;
}

describe('breakdowns', () => {
  const lgnet3 = editions.find((e) => e.edition === 'LGNET3')!;
  const FIGURES_OF = (field: string) => /* GraphQL */ `
    query($cities: [ID!], $from: Date, $to: Date, $by: [Dimension!]!) {
      ${field}(cities: $cities, from: $from, to: $to, by: $by) {
        by total persons groups { keys count persons citiesMissing { code } averageDays medianDays }
        coverage { citiesAsked citiesAnswered missing { city { code } } }
      }
    }
  `;

  it('count, city by city, the same people, placements and projects as the report of the same period', async () => {
    const period = { from: lgnet3.from, to: lgnet3.to };
    const [report, people, housing, projects] = await Promise.all([
      ask(REPORT, { edition: 'LGNET3' }),
      ask(FIGURES_OF('beneficiaryFigures'), { ...period, by: ['CITY'] }),
      ask(FIGURES_OF('placementFigures'), { ...period, by: ['CITY'] }),
      ask(FIGURES_OF('civicProjectFigures'), { ...period, by: ['CITY'] }),
    ]);
    for (const r of [report, people, projects]) expectNoErrors(r);
    // Lengths of a bucket of fewer than five placements are withheld, and said so.
    expect((housing.errors ?? []).map((e) => e.extensions?.field)).toEqual(housing.errors ? ['FigureGroup.averageDays'] : []);
    const rows = new Map<string, Record<string, number>>(report.data!.report.cities.map((c: Record<string, any>) => [c.city.code, c]));
    const bucket = (table: Record<string, any>, city: string) => table.groups.find((g: { keys: string[] }) => g.keys[0] === city);
    for (const [city, row] of rows) {
      expect(bucket(people.data!.beneficiaryFigures, city).persons, city).toBe(row.beneficiaries);
      expect(bucket(housing.data!.placementFigures, city).persons, city).toBe(row.housingSupported);
      expect(bucket(projects.data!.civicProjectFigures, city).count, city).toBe(row.civicProjectsSigned);
    }
    // Every registered city has its bucket, those outside the edition with a count of zero.
    expect(people.data!.beneficiaryFigures.groups.map((g: { keys: string[] }) => g.keys[0])).toEqual(registered.map((c) => c.code).sort());
    const outside = registered.find((c) => !c.editions.includes('LGNET3'))!;
    expect(bucket(people.data!.beneficiaryFigures, outside.code)).toMatchObject({ count: 0, persons: 0, citiesMissing: [] });
    expect(people.data!.beneficiaryFigures.persons).toBe(report.data!.report.totals.uniquePersons);
  });

  it('show every month of the period, and every channel, with zeros, adding up to the total', async () => {
    const period = { from: '2024-01-01', to: '2024-12-31' };
    const r = await ask(FIGURES_OF('beneficiaryFigures'), { ...period, by: ['MONTH', 'CHANNEL'] });
    expectNoErrors(r);
    const table = r.data!.beneficiaryFigures;
    expect(table.groups).toHaveLength(12 * 3);
    expect(table.groups.reduce((n: number, g: { count: number }) => n + g.count, 0)).toBe(table.total);
    const want = [...stack.sandbox.truth.values()].flatMap((t) => t.accepted.beneficiaries).filter((b) => b.intake.date >= period.from && b.intake.date <= period.to);
    expect(table.total).toBe(want.length);
    const march = want.filter((b) => b.intake.date.startsWith('2024-03') && b.intake.channel === 'MOBILE_UNIT').length;
    expect(table.groups.find((g: { keys: string[] }) => g.keys.join() === '2024-03,MOBILE_UNIT').count).toBe(march);
  });

  it("count enrolments of a service the city sent broken under UNKNOWN, and lose none", async () => {
    const r = await ask(FIGURES_OF('enrollmentFigures'), { by: ['SERVICE_CATEGORY'] });
    expectNoErrors(r);
    const table = r.data!.enrollmentFigures;
    const truths = [...stack.sandbox.truth.values()];
    expect(table.total).toBe(truths.reduce((n, t) => n + t.accepted.enrollments.length, 0));
    const unknown = truths.reduce((n, t) => n + t.accepted.enrollments.filter((e) => t.rejected.services.has(e.serviceId)).length, 0);
    expect(unknown).toBeGreaterThan(0);
    expect(table.groups.find((g: { keys: string[] }) => g.keys[0] === 'UNKNOWN').count).toBe(unknown);
    expect(table.groups.reduce((n: number, g: { count: number }) => n + g.count, 0)).toBe(table.total);
  });

  it('give placements their average and median length in days', async () => {
    const r = await ask(FIGURES_OF('placementFigures'), { cities: ['082053'], by: ['HOUSING_KIND'] });
    expectNoErrors(r);
    const t = truthOf('082053');
    const kinds = new Map(t.accepted.housingResources.map((x) => [x.localId, x.kind]));
    const ended = t.accepted.placements.filter((p) => p.to !== null && kinds.get(p.resourceId) === 'PROTECTED_SHELTER');
    const days = ended.map((p) => (Date.parse(p.to!) - Date.parse(p.from)) / 86_400_000).sort((a, b) => a - b);
    const group = r.data!.placementFigures.groups.find((g: { keys: string[] }) => g.keys[0] === 'PROTECTED_SHELTER');
    expect(days.length).toBeGreaterThan(1);
    expect(group.averageDays).toBeCloseTo(days.reduce((n, x) => n + x, 0) / days.length, 6);
    const mid = days.length >> 1;
    expect(group.medianDays).toBe(days.length % 2 ? days[mid] : (days[mid - 1]! + days[mid]!) / 2);
  });

  it('count whole months only, and never show a vulnerability count of fewer than five people', async () => {
    const r = await ask('{ beneficiaryFigures(cities: ["007003"], from: "2024-05-07", to: "2024-05-07", by: [VULNERABILITY, CITIZENSHIP]) { from to total groups { keys count persons } } report(edition: LGNET3, from: "2024-05-07", to: "2024-05-08") { from to } }');
    const table = r.data!.beneficiaryFigures;
    expect([table.from, table.to]).toEqual(['2024-05-01', '2024-05-31']);
    expect(r.data!.report).toMatchObject({ from: '2024-05-01', to: '2024-05-31' });
    for (const g of table.groups) {
      if (g.count !== null) expect(g.count === 0 || g.count >= 5, g.keys.join()).toBe(true);
    }
    expect(table.groups.some((g: { count: number | null }) => g.count === null)).toBe(true);
    expect(r.errors?.map((e) => e.extensions?.code)).toEqual(['SMALL_COUNT_SUPPRESSED']);
  });

  it('refuse a dimension that does not apply, naming it', async () => {
    const r = await ask(FIGURES_OF('civicProjectFigures'), { by: ['HOUSING_KIND'] });
    expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(r.errors?.[0]?.message).toMatch(/HOUSING_KIND/);
  });

  it('count the persons taken in charge in more than one city once each, with the pairs of cities they moved between', async () => {
    const r = await ask('{ movers(top: 3) { persons pairs { from { code } to { code } persons } coverage { citiesAnswered citiesAsked } } }');
    expectNoErrors(r);
    const stays = new Map<string, Array<{ city: string; date: string }>>();
    for (const [city, t] of stack.sandbox.truth) for (const b of t.accepted.beneficiaries) stays.set(b.fiscalCode, [...(stays.get(b.fiscalCode) ?? []), { city, date: b.intake.date }]);
    const moved = [...stays.values()].filter((s) => new Set(s.map((x) => x.city)).size > 1);
    expect(moved.length).toBeGreaterThan(0);
    expect(r.data!.movers.persons).toBe(moved.length);
    const pairs = new Map<string, number>();
    for (const s of moved) {
      s.sort((a, b) => a.date.localeCompare(b.date));
      for (let i = 1; i < s.length; i++) if (s[i]!.city !== s[i - 1]!.city) pairs.set(`${s[i - 1]!.city}>${s[i]!.city}`, (pairs.get(`${s[i - 1]!.city}>${s[i]!.city}`) ?? 0) + 1);
    }
    const top = r.data!.movers.pairs[0];
    expect(top.persons).toBe(Math.max(...pairs.values()));
    expect(pairs.get(`${top.from.code}>${top.to.code}`)).toBe(top.persons);
  });
});

describe('docs/QUERIES.md', () => {
  const page = readFileSync(new URL('../docs/QUERIES.md', import.meta.url), 'utf8');
  const queries = [...page.matchAll(/^## (.+)\n[\s\S]*?```graphql\n([\s\S]*?)```/gm)].map((m) => [m[1]!, m[2]!] as const);

  it('holds a query for each common question', () => {
    expect(queries.length).toBeGreaterThanOrEqual(12);
  });

  it.each(queries)('answers "%s" as written, with data and no error', async (_title, query) => {
    const r = await ask(query);
    expectNoErrors(r);
    expect(Object.values(r.data!).every((v) => v !== null)).toBe(true);
  });
});

describe('the AMIF common indicators', () => {
  it('count participants in language courses once across cities, by gender and age bracket, and list what the data cannot support', async () => {
    const period = { from: '2024-01-01', to: '2024-12-31' };
    const r = await ask('query($from: Date!, $to: Date!) { euIndicators(from: $from, to: $to) { indicators { id wording value notSupportedBecause byGenderAndAge { sex ageBracket count } } coverage { citiesAnswered citiesAsked } } }', period);
    expectNoErrors(r);
    const byId = new Map<string, Record<string, any>>(r.data!.euIndicators.indicators.map((i: Record<string, any>) => [i.id, i]));
    const language = byId.get('O.2.3.1')!;
    expect(language.wording).toBe('the number of participants in a language course');
    const learners = new Set<string>();
    for (const t of stack.sandbox.truth.values()) {
      const courses = new Set(t.accepted.services.filter((x) => x.category === 'LANGUAGE_COURSE').map((x) => x.localId));
      const persons = new Map(t.accepted.beneficiaries.map((b) => [b.localId, b.fiscalCode]));
      for (const e of t.accepted.enrollments) {
        if (courses.has(e.serviceId) && e.from <= period.to && (e.to === null || e.to >= period.from)) learners.add(persons.get(e.beneficiaryId)!);
      }
    }
    expect(learners.size).toBeGreaterThan(0);
    expect(language.value).toBe(learners.size);
    expect(language.byGenderAndAge.reduce((n: number, c: { count: number }) => n + c.count, 0)).toBe(language.value);
    expect(byId.get('O.2.3')!.value).toBeGreaterThanOrEqual(language.value);
    // What the records cannot tell is said, not estimated.
    const satisfaction = byId.get('R.2.9')!;
    expect(satisfaction).toMatchObject({ value: null, byGenderAndAge: null });
    expect(satisfaction.notSupportedBecause).toMatch(/\w/);
  });
});

describe('totals that mean one thing', () => {
  it("equal, for every city and kind of record, what a walk returns, what the city's data quality accepts, and the truth", async () => {
    const q = await ask('{ cities { code dataQuality { entity received accepted rejected } } }');
    expectNoErrors(q);
    const quality = new Map<string, Array<Record<string, any>>>(q.data!.cities.map((c: Record<string, any>) => [c.code, c.dataQuality]));
    const lists = { beneficiaries: 'beneficiaries', placements: 'placements', enrollments: 'enrollments', civicProjects: 'civicProjects' } as const;
    const fields = Object.entries(lists).map(([entity, list]) => `${entity}: ${list}(filter: { cities: [$city] }, first: 0) { totalCount coverage { rejected } }`).join(' ');
    for (const city of stack.sandbox.truth.keys()) {
      const r = await ask(`query($city: ID!) { ${fields} }`, { city });
      expectNoErrors(r);
      for (const entity of Object.keys(lists) as Array<keyof typeof lists>) {
        const want = truthOf(city).quality[entity];
        const dq = quality.get(city)!.find((x) => x.entity === entity)!;
        expect(dq, `${city} ${entity}`).toMatchObject({ received: want.received, accepted: want.accepted, rejected: want.rejected });
        expect(r.data![entity].totalCount, `${city} ${entity}`).toBe(want.accepted);
        expect(r.data![entity].coverage.rejected, `${city} ${entity}`).toBe(want.rejected);
      }
    }
  });

  it('name a city whose system renamed a field as DEGRADED, with the main reasons, instead of calling the answer complete', async () => {
    const city = registered.find((c) => c.sources.some((s) => s.kind === 'rest' && s.domains.includes('people')) && stack.sandbox.truth.has(c.code))!;
    const source = city.sources.find((s) => s.kind === 'rest' && s.domains.includes('people'))!;
    const field = (source.entities.beneficiaries!.fields as Record<string, string>).fiscalCode!;
    await stack.sandbox.setFaults(`${city.code}/${source.id}=rename:${field}`);
    try {
      const r = await ask(`query($city: ID!) {
        beneficiaries(filter: { cities: [$city, "090064"] }, first: 10) { totalCount coverage { citiesAnswered missing { city { code } } degraded { city { code } reason } rejected } }
        city(code: $city) { source { status statusReason } }
        report(edition: LGNET3) { totals { coverage { degraded { city { code } reason } } } }
      }`, { city: city.code });
      // A question the city's own system filters says so too.
      const filtered = await ask('query($city: ID!) { beneficiaryFigures(cities: [$city], from: "2024-01-01", to: "2024-12-31", by: []) { total coverage { degraded { city { code } } } } }', { city: city.code });
      expectNoErrors(filtered);
      expect(filtered.data!.beneficiaryFigures.total).toBe(0);
      expect(filtered.data!.beneficiaryFigures.coverage.degraded).toEqual([{ city: { code: city.code } }]);
      expectNoErrors(r);
      const list = r.data!.beneficiaries;
      const held = stack.sandbox.population.get(city.code)!.beneficiaries.length;
      expect(list.totalCount).toBe(truthOf('090064').quality.beneficiaries.accepted);
      expect(list.coverage.rejected).toBe(held + truthOf('090064').quality.beneficiaries.rejected);
      expect(list.coverage.missing).toEqual([]);
      expect(list.coverage.degraded).toEqual([{ city: { code: city.code }, reason: expect.stringMatching(new RegExp(`${held} of ${held} beneficiaries rejected \\(MISSING_FIELD ${held}\\)`)) }]);
      expect(r.data!.city.source).toMatchObject({ status: 'DEGRADED', statusReason: expect.stringContaining('MISSING_FIELD') });
      expect(r.data!.report.totals.coverage.degraded.map((d: { city: { code: string } }) => d.city.code)).toContain(city.code);
    } finally {
      await stack.sandbox.setFaults('');
    }
  });

  it('leave a city that is down out of the totals, and name it in the coverage of the report', async () => {
    const down = '072006';
    await stack.sandbox.setFaults(`${down}=down`);
    try {
      const info = editions.find((e) => e.edition === 'LGNET3')!;
      const r = await ask(REPORT, { edition: 'LGNET3' });
      const report = r.data!.report;
      const row = report.cities.find((c: { city: { code: string } }) => c.city.code === down);
      for (const i of indicators) expect(row[i]).toBeNull();
      expect(row.coverage.missing.map((m: { city: { code: string } }) => m.city.code)).toEqual([down]);
      expect(r.errors?.every((e) => e.extensions?.city === down && e.extensions?.code === 'CITY_UNAVAILABLE')).toBe(true);
      const others = connected('LGNET3').filter((c) => c !== down);
      for (const i of indicators) expect(report.totals[i], i).toBe(others.reduce((n, c) => n + truthFigures(c, info)[i], 0));
      expect(report.totals.coverage).toMatchObject({ citiesAsked: others.length + 1, citiesAnswered: others.length });
      expect(report.totals.coverage.missing.map((m: { city: { code: string } }) => m.city.code)).toEqual([down]);
      // "None in March" and "March not known for this city" are different answers.
      const months = await ask('{ beneficiaryFigures(from: "2024-03-01", to: "2024-03-31", by: [MONTH, CITY]) { groups { keys count citiesMissing { code } } } }');
      for (const g of months.data!.beneficiaryFigures.groups) {
        expect(g.citiesMissing, g.keys.join()).toEqual(g.keys[1] === down ? [{ code: down }] : []);
        if (g.keys[1] === down) expect(g.count).toBe(0);
      }
      const byMonth = await ask('{ beneficiaryFigures(from: "2024-03-01", to: "2024-03-31", by: [MONTH]) { groups { keys count citiesMissing { code } } } }');
      expect(byMonth.data!.beneficiaryFigures.groups).toEqual([{ keys: ['2024-03'], count: expect.any(Number), citiesMissing: [{ code: down }] }]);
    } finally {
      await stack.sandbox.setFaults('');
    }
  });
});
