/**
 * End to end: the sandbox's city systems, the four subgraph processes and the
 * gateway process, started as `npm start` starts them, asked over HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCityConfigs } from '../adapters/config.ts';
import { defaultCitiesDir } from '../adapters/fleet.ts';
import { createIdCodec, type IdCodec, type IdKind } from '../access/opaque-id.ts';
import { startStack, type Stack } from '../scripts/stack.ts';
import { gql, type GraphQLResponse } from './helpers.ts';

let stack: Stack;
let url: string;
let analyst: string;
let ids: IdCodec;

/** Asks the gateway as an analyst, unless another token is given. */
const ask = (query: string, variables?: Record<string, unknown>, token = analyst) => gql(url, query, variables, { authorization: `Bearer ${token}` });
/** The graph's opaque id of a sandbox record. */
const idOf = (kind: IdKind, city: string, localId: string) => ids.encode(kind, city, localId);

/**
 * The registry may hold cities whose systems are not connected yet (no sandbox
 * stand-in either): national questions must name each of them as
 * CITY_NOT_CONFIGURED, and nothing else may go wrong.
 */
const registered = loadCityConfigs(defaultCitiesDir);
const unconnected = () => registered.filter((c) => !stack.sandbox.population.has(c.code)).map((c) => c.code);
const expectedErrors = () => unconnected().map((code) => [code, 'CITY_NOT_CONFIGURED']).sort();
const errorsOf = (r: GraphQLResponse) => [...new Set((r.errors ?? []).map((e) => `${e.extensions?.city}|${e.extensions?.code}`))].map((k) => k.split('|')).sort();

beforeAll(async () => {
  stack = await startStack({ port: 0 });
  url = stack.gatewayUrl;
  analyst = await stack.token('analyst');
  ids = createIdCodec(stack.env.LGNET_GRAPH_SECRET!);
});
afterAll(async () => {
  await stack?.close();
});

const PAGE = /* GraphQL */ `
  query Page($filter: BeneficiaryFilter, $first: Int, $after: String) {
    beneficiaries(filter: $filter, first: $first, after: $after) {
      totalCount
      nodes { id personKey city { code } sex birthYear citizenship intake { month channel status } }
      pageInfo { hasNextPage endCursor }
      coverage { citiesAsked citiesAnswered missing { city { code } code reason } }
    }
  }
`;

async function allPages(filter: Record<string, unknown> = {}, first = 500) {
  const ids: string[] = [];
  let after: string | null = null;
  let pages = 0;
  let totalCount = 0;
  for (;;) {
    const r: GraphQLResponse = await ask(PAGE, { filter, first, after });
    expect(r.errors).toBeUndefined();
    const conn: Record<string, any> = r.data!.beneficiaries;
    totalCount = conn.totalCount;
    expect(conn.nodes.length).toBeLessThanOrEqual(first);
    ids.push(...conn.nodes.map((n: { id: string }) => n.id));
    pages++;
    if (!conn.pageInfo.hasNextPage) break;
    after = conn.pageInfo.endCursor;
  }
  return { ids, pages, totalCount };
}

function brokenCount(city: string, entity: string): number {
  return (stack.sandbox.broken.get(city) ?? []).filter((b) => b.entity === entity).length;
}

/**
 * The errors of an answer that are not about a reference to a record the
 * city sent broken (an enrolment's service, a placement's resource): those
 * must be RECORD_REJECTED, on a `service` or `resource` field left null, and
 * name a city that did send such a broken record.
 */
function otherThanBrokenReferences(r: GraphQLResponse): GraphQLResponse['errors'] {
  const others = (r.errors ?? []).filter((e) => {
    const last = e.path?.at(-1);
    if (e.extensions?.code !== 'RECORD_REJECTED' || (last !== 'service' && last !== 'resource')) return true;
    const entity = last === 'service' ? 'services' : 'housingResources';
    const city = String(e.extensions.city);
    expect(stack.sandbox.truth.get(city)!.rejected[entity].size, `${city} sent no broken ${entity}`).toBeGreaterThan(0);
    let field: unknown = r.data;
    for (const step of e.path!) field = (field as Record<string | number, unknown>)[step];
    expect(field).toBeNull();
    return false;
  });
  return others.length ? others : undefined;
}

describe('the gateway', () => {
  it('answers /health with 200 once every subgraph is ready', async () => {
    const res = await fetch(stack.healthUrl);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      status: 'ok',
      subgraphs: { registry: 'ok', people: 'ok', services: 'ok', housing: 'ok' },
    });
  });

  it('refuses a malformed query with a coded error', async () => {
    const r = await ask('{ beneficiaries(first: 5) { nodes { id } ');
    expect(r.status).toBe(400);
    expect(r.errors?.[0]?.extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
  });
});

describe('the published contract', () => {
  it('answers a query using every name dashboards are written against, to the city operators who may read them all', async () => {
    const sassari = await stack.token('operator', { city: '090064' });
    const r = await ask(/* GraphQL */ `
      {
        cities { code name editions source { kind status asOf } dataQuality { entity received accepted rejected reasons { code count } } }
        beneficiaries(filter: { cities: ["090064"] }, first: 3, after: null) {
          totalCount
          nodes {
            id personKey city { code } sex birthYear citizenship intake { date channel }
            givenName familyName fiscalCode
            placements { resource { kind } from to }
            enrollments { service { category } }
            civicProjects { status }
          }
          pageInfo { hasNextPage endCursor }
          coverage { citiesAsked citiesAnswered missing { city { code } code reason } }
        }
        housingResources(filter: { cities: ["090064"] }) { totalCount nodes { id kind } }
        services(filter: { cities: ["090064"] }) { totalCount nodes { id category } }
      }
    `, undefined, sassari);
    expect(errorsOf({ ...r, errors: otherThanBrokenReferences(r) })).toEqual(expectedErrors());
    expect(r.data!.cities).toHaveLength(registered.length);
    expect(r.data!.beneficiaries.nodes).toHaveLength(3);
    expect(r.data!.housingResources.totalCount).toBeGreaterThan(0);
    expect(r.data!.services.totalCount).toBeGreaterThan(0);
  });
});

describe('the schema through the gateway', () => {
  it('can be read by tools, with the descriptions analysts rely on', async () => {
    const r = await ask('{ __type(name: "Beneficiary") { description fields { name description } } }');
    expect(r.errors).toBeUndefined();
    const type = r.data!.__type;
    expect(type.description).toMatch(/taken in charge/);
    const described = Object.fromEntries(type.fields.map((f: { name: string; description: string | null }) => [f.name, f.description]));
    expect(described.personKey).toMatch(/Pseudonym/);
    expect(described.fiscalCode).toMatch(/only the city's own operators/);
    expect(described.placements).toMatch(/housing placements/);
  });
});

describe('cities', () => {
  it('lists every municipality of the registry with its ISTAT code, editions and sources', async () => {
    const r = await ask('{ cities { code name region editions operatingBody source { kind status } sources { id kind domains } } }');
    expect(r.errors).toBeUndefined();
    const cities = r.data!.cities as Array<Record<string, any>>;
    expect(cities.map((c) => c.code)).toEqual(registered.map((c) => c.code).sort());
    expect(cities.find((c) => c.code === '090064')).toMatchObject({ name: 'Sassari', region: 'Sardegna', editions: ['LGNET_EA', 'LGNET2', 'LGNET3'] });
    expect(cities.find((c) => c.code === '082053')?.name).toBe('Palermo');
    expect(cities.find((c) => c.code === '021008')).toMatchObject({ name: 'Bolzano', editions: ['LGNET_EA', 'LGNET2'] });
    for (const c of cities.filter((x) => !unconnected().includes(x.code))) {
      expect(c.sources.length, c.code).toBeGreaterThan(0);
      // The kind of system the city's file names for it.
      expect(registered.find((r) => r.code === c.code)!.sources.map((s) => s.kind.toUpperCase()), c.code).toContain(c.source.kind);
    }
    const lgnet3 = await ask('{ cities(edition: LGNET3) { code } }');
    expect(lgnet3.data!.cities).toHaveLength(registered.filter((c) => c.editions.includes('LGNET3')).length);
  });
});

describe('beneficiaries', () => {
  it('pages across every city visiting each valid record exactly once', async () => {
    const { ids, pages, totalCount } = await allPages({ cities: [...stack.sandbox.population.keys()] });
    expect(new Set(ids).size).toBe(ids.length);
    let held = 0;
    let broken = 0;
    for (const [city, pop] of stack.sandbox.population) {
      held += pop.beneficiaries.length;
      broken += brokenCount(city, 'beneficiaries');
    }
    expect(broken).toBeGreaterThan(0);
    // The total is what the walk returns: rejected records are in no page and in no total.
    expect(totalCount).toBe(held - broken);
    expect(ids.length).toBe(totalCount);
    expect(pages).toBeGreaterThanOrEqual(Math.ceil((held - broken) / 500));
    expect(held).toBeGreaterThanOrEqual(9000);
  });

  it('show analysts pseudonyms, birth years and intake months', async () => {
    const r = await ask(PAGE, { filter: { cities: ['082053'] }, first: 20 });
    expect(r.errors).toBeUndefined();
    const nodes = r.data!.beneficiaries.nodes as Array<Record<string, any>>;
    expect(nodes).toHaveLength(20);
    for (const n of nodes) {
      expect(n.personKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(n.birthYear).toBeGreaterThan(1930);
      expect(n.intake.month).toMatch(/^\d{4}-\d{2}$/);
    }
  });

  it('give a person who moved between cities the same personKey in both', async () => {
    const byFiscalCode = new Map<string, string[]>();
    for (const [city, pop] of stack.sandbox.population) {
      for (const b of pop.beneficiaries) byFiscalCode.set(b.fiscalCode, [...(byFiscalCode.get(b.fiscalCode) ?? []), idOf('Beneficiary', city, b.localId)]);
    }
    const brokenIds = new Set([...stack.sandbox.broken].flatMap(([city, list]) => list.filter((b) => b.entity === 'beneficiaries').map((b) => idOf('Beneficiary', city, b.localId))));
    const moved = [...byFiscalCode.values()].filter((ids) => ids.length === 2 && ids.every((id) => !brokenIds.has(id))).slice(0, 5);
    expect(moved).toHaveLength(5);
    const keys = new Set<string>();
    for (const [a, b] of moved) {
      const r = await ask('query($a: ID!, $b: ID!) { a: beneficiary(id: $a) { personKey } b: beneficiary(id: $b) { personKey } }', { a, b });
      expect(r.data!.a.personKey).toBe(r.data!.b.personKey);
      keys.add(r.data!.a.personKey);
    }
    // Five different people, five different keys.
    expect(keys.size).toBe(5);
  });

  it('refuses an unknown city and a page larger than 500 with coded errors', async () => {
    const bad = await ask(PAGE, { filter: { cities: ['999999'] }, first: 5 });
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const big = await ask(PAGE, { first: 501 });
    expect(big.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('refuses a cursor it did not issue, or one issued for another filter', async () => {
    const forged = await ask(PAGE, { first: 5, after: 'not-a-cursor' });
    expect(forged.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const page = await ask(PAGE, { filter: { cities: ['082053'] }, first: 5 });
    const other = await ask(PAGE, { filter: { cities: ['090064'] }, first: 5, after: page.data!.beneficiaries.pageInfo.endCursor });
    expect(other.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(other.errors?.[0]?.message).toMatch(/different list or filter/);
  });

  it('page through a filtered question exactly once too', async () => {
    const filter = { cities: ['015146', '058091', '090064'], intakeChannels: ['MOBILE_UNIT'], intakeStatuses: ['ACTIVE'] };
    const { ids, totalCount } = await allPages(filter, 137);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe(totalCount);
    const r = await ask('query($id: ID!) { a: beneficiary(id: $id) { intake { channel status } } }', { id: ids[ids.length - 1] });
    expect(r.data!.a.intake).toEqual({ channel: 'MOBILE_UNIT', status: 'ACTIVE' });
    let expected = 0;
    for (const city of filter.cities) {
      const brokenIds = new Set((stack.sandbox.broken.get(city) ?? []).filter((b) => b.entity === 'beneficiaries').map((b) => b.localId));
      expected += stack.sandbox.population.get(city)!.beneficiaries.filter(
        (b) => !brokenIds.has(b.localId) && b.intake.channel === 'MOBILE_UNIT' && b.intake.status === 'ACTIVE',
      ).length;
    }
    expect(totalCount).toBe(expected);
  });
});

describe('joins', () => {
  const JOINS = /* GraphQL */ `
    query Joins($filter: BeneficiaryFilter, $first: Int) {
      beneficiaries(filter: $filter, first: $first) {
        nodes {
          id
          city { code name region }
          placements { id fromMonth toMonth resource { id kind capacity city { name } } }
          enrollments { id fromMonth service { id category } }
          civicProjects { id status signedMonth }
        }
      }
    }
  `;

  it('bring each beneficiary its placements, enrolments and civic projects from the other subgraphs', async () => {
    const city = '015146';
    const r = await ask(JOINS, { filter: { cities: [city] }, first: 200 });
    expect(otherThanBrokenReferences(r)).toBeUndefined();
    const pop = stack.sandbox.population.get(city)!;
    const nodes = r.data!.beneficiaries.nodes as Array<Record<string, any>>;
    const brokenIds = new Set((stack.sandbox.broken.get(city) ?? []).map((b) => `${b.entity}:${b.localId}`));
    let withPlacements = 0;
    for (const n of nodes) {
      const localId = ids.decode(n.id, 'Beneficiary')!.localId;
      const valid = (entity: string, list: Array<{ localId: string; beneficiaryId: string }>) =>
        list.filter((x) => x.beneficiaryId === localId && !brokenIds.has(`${entity}:${x.localId}`)).length;
      expect(n.placements).toHaveLength(valid('placements', pop.placements));
      expect(n.enrollments).toHaveLength(valid('enrollments', pop.enrollments));
      expect(n.civicProjects).toHaveLength(valid('civicProjects', pop.civicProjects));
      expect(n.city).toEqual({ code: city, name: 'Milano', region: 'Lombardia' });
      for (const p of n.placements) {
        const placementId = ids.decode(p.id, 'Placement')!.localId;
        const resourceId = pop.placements.find((x) => x.localId === placementId)!.resourceId;
        if (brokenIds.has(`housingResources:${resourceId}`)) expect(p.resource).toBeNull();
        else expect(p.resource).toMatchObject({ id: idOf('HousingResource', city, resourceId), city: { name: 'Milano' } });
      }
      if (n.placements.length) withPlacements++;
      for (const e of n.enrollments) {
        // The service is there unless the city sent a broken record of it.
        const enrollmentId = ids.decode(e.id, 'Enrollment')!.localId;
        const serviceId = pop.enrollments.find((x) => x.localId === enrollmentId)!.serviceId;
        if (brokenIds.has(`services:${serviceId}`)) expect(e.service).toBeNull();
        else expect(e.service).toMatchObject({ id: idOf('Service', city, serviceId), category: expect.stringMatching(/^[A-Z_]+$/) });
      }
    }
    expect(withPlacements).toBeGreaterThan(0);
  });

  it('cost upstream requests that grow with the number of cities, not of records', async () => {
    const countFor = async (cities: string[], first: number) => {
      stack.sandbox.resetRequestCounts();
      const r = await ask(JOINS, { filter: { cities }, first });
      expect(otherThanBrokenReferences(r)).toBeUndefined();
      const held = cities.reduce((n, c) => n + stack.sandbox.population.get(c)!.beneficiaries.length, 0);
      expect(r.data!.beneficiaries.nodes.length).toBeGreaterThan(Math.min(first, held) * 0.9);
      return stack.sandbox.requestCount();
    };
    const romaMilano = ['015146', '058091'];
    const small = await countFor(romaMilano, 50);
    const large = await countFor(romaMilano, 500);
    // Ten times the records: the same number of batched calls per city.
    expect(large).toBeLessThanOrEqual(small + 2 * romaMilano.length);
    // Per city and per request: a count, a page, and one batch per joined entity (a few more for paged sources).
    expect(large).toBeLessThanOrEqual(romaMilano.length * 12);
    // Pages holding every record of two, then three cities (each under 500 in all): the calls grow with the cities.
    const two = await countFor(['021008', '076063'], 500);
    const three = await countFor(['021008', '076063', '090064'], 500);
    expect(three).toBeGreaterThan(two);
    expect(three).toBeLessThanOrEqual(3 * 12);
  });
});

describe('catalogues', () => {
  it('list housing resources with capacity and occupancy, filtered by kind', async () => {
    const r = await ask('{ housingResources(filter: { kinds: [PROTECTED_SHELTER] }) { totalCount nodes { id city { code } kind capacity occupancy available } coverage { citiesAsked citiesAnswered } } }');
    expect(errorsOf(r)).toEqual(expectedErrors());
    const list = r.data!.housingResources;
    expect(list.totalCount).toBe(list.nodes.length);
    expect(list.totalCount).toBeGreaterThan(0);
    expect(list.coverage.citiesAnswered).toBe(list.coverage.citiesAsked - unconnected().length);
    for (const n of list.nodes) {
      expect(n.kind).toBe('PROTECTED_SHELTER');
      expect(n.available).toBe(n.capacity - n.occupancy);
    }
  });

  it("list each city's services, filtered by city and category", async () => {
    const r = await ask('{ services(filter: { cities: ["082053"], categories: [ONE_STOP_SHOP, LANGUAGE_COURSE] }) { totalCount nodes { id city { code } category } } }');
    expect(r.errors).toBeUndefined();
    const nodes = r.data!.services.nodes as Array<Record<string, any>>;
    const expected = stack.sandbox.population.get('082053')!.services.filter((s) => ['ONE_STOP_SHOP', 'LANGUAGE_COURSE'].includes(s.category));
    const brokenIds = new Set((stack.sandbox.broken.get('082053') ?? []).filter((b) => b.entity === 'services').map((b) => b.localId));
    expect(nodes.map((n) => n.id).sort()).toEqual(expected.filter((s) => !brokenIds.has(s.localId)).map((s) => idOf('Service', '082053', s.localId)).sort());
  });
});

describe('data quality', () => {
  it('counts every record a city sent as accepted or rejected with its reason, while its neighbours still arrive', async () => {
    const r = await ask('{ cities { code dataQuality { entity received accepted rejected reasons { code count } } } }');
    expect(errorsOf(r)).toEqual(expectedErrors());
    let totalRejected = 0;
    for (const c of r.data!.cities as Array<{ code: string; dataQuality: Array<Record<string, any>> }>) {
      if (unconnected().includes(c.code)) continue;
      const pop = stack.sandbox.population.get(c.code)!;
      const truth = stack.sandbox.truth.get(c.code)!;
      for (const q of c.dataQuality) {
        const entity = q.entity as keyof typeof truth.quality;
        expect(q.received, `${c.code} ${q.entity}`).toBe((pop as unknown as Record<string, unknown[]>)[q.entity]!.length);
        expect(q.accepted + q.rejected).toBe(q.received);
        // The broken records, and the placements, enrolments and projects of broken persons (PARENT_REJECTED).
        expect(q.rejected, `${c.code} ${q.entity}`).toBe(truth.quality[entity].rejected);
        expect(q.rejected).toBeGreaterThanOrEqual(brokenCount(c.code, q.entity));
        expect(Object.fromEntries(q.reasons.map((x: { code: string; count: number }) => [x.code, x.count]))).toEqual(truth.quality[entity].reasons);
        totalRejected += q.rejected;
      }
    }
    expect(totalRejected).toBeGreaterThan(0);

    // A broken beneficiary is missing from the graph; the records beside it are there.
    const [city, brokenList] = [...stack.sandbox.broken].find(([, list]) => list.some((b) => b.entity === 'beneficiaries'))!;
    const broken = brokenList.find((b) => b.entity === 'beneficiaries')!;
    const all = stack.sandbox.population.get(city)!.beneficiaries;
    const at = all.findIndex((b) => b.localId === broken.localId);
    const neighbours = [all[at - 1], all[at + 1]].filter((b) => b && !brokenList.some((x) => x.localId === b.localId && x.entity === 'beneficiaries'));
    const q = await ask('query($id: ID!, $n: ID!) { broken: beneficiary(id: $id) { id } neighbour: beneficiary(id: $n) { id } }', {
      id: idOf('Beneficiary', city, broken.localId),
      n: idOf('Beneficiary', city, neighbours[0]!.localId),
    });
    expect(q.data!.broken).toBeNull();
    expect(q.data!.neighbour).toEqual({ id: idOf('Beneficiary', city, neighbours[0]!.localId) });
  });
});

describe('a city that fails', () => {
  it('is named in the coverage and in a coded error, while the other cities answer', async () => {
    await stack.sandbox.setFaults('090064=down,082053=html,063049=garbage');
    try {
      const r = await ask(PAGE, { filter: { cities: ['090064', '082053', '063049', '015146'] }, first: 50 });
      const conn = r.data!.beneficiaries;
      expect(conn.coverage.citiesAsked).toBe(4);
      expect(conn.coverage.citiesAnswered).toBe(1);
      expect(conn.coverage.missing.map((m: { city: { code: string }; code: string }) => [m.city.code, m.code]).sort()).toEqual([
        ['063049', 'CITY_BAD_RESPONSE'],
        ['082053', 'CITY_BAD_RESPONSE'],
        ['090064', 'CITY_UNAVAILABLE'],
      ]);
      expect(conn.nodes.length).toBe(50);
      for (const n of conn.nodes) expect(n.city.code).toBe('015146');
      const codes = (r.errors ?? []).map((e) => [e.extensions?.city, e.extensions?.code]).sort();
      expect(codes).toEqual([
        ['063049', 'CITY_BAD_RESPONSE'],
        ['082053', 'CITY_BAD_RESPONSE'],
        ['090064', 'CITY_UNAVAILABLE'],
      ]);
      for (const e of r.errors ?? []) expect(e.message).not.toMatch(/<html|<!DOCTYPE/i);
    } finally {
      await stack.sandbox.setFaults('');
    }
  });

  it("leaves a join null with a coded error when only the source serving it fails, and the rest of the record arrives", async () => {
    // Roma keeps people and services in the city's API, housing in a second system.
    await stack.sandbox.setFaults('058091/housing=down');
    try {
      const r = await ask('{ beneficiaries(filter: { cities: ["058091"] }, first: 20) { nodes { id sex placements { id } enrollments { id } } } }');
      const nodes = r.data!.beneficiaries.nodes as Array<Record<string, any>>;
      expect(nodes).toHaveLength(20);
      for (const n of nodes) {
        expect(n.sex).toMatch(/^(FEMALE|MALE)$/);
        expect(n.enrollments).not.toBeNull();
        expect(n.placements).toBeNull();
      }
      expect(r.errors?.map((e) => [e.extensions?.city, e.extensions?.code])).toEqual([['058091', 'CITY_UNAVAILABLE']]);
    } finally {
      await stack.sandbox.setFaults('');
    }
  });

  it('is stepped over when it fails in the middle of a walk, and named on every page to the end', async () => {
    const filter = { cities: ['015146', '090064'] };
    const page1 = await ask(PAGE, { filter, first: 300 });
    expect(page1.data!.beneficiaries.nodes.every((n: { city: { code: string } }) => n.city.code === '015146')).toBe(true);
    await stack.sandbox.setFaults('015146=down');
    const ids: string[] = [];
    let after = page1.data!.beneficiaries.pageInfo.endCursor;
    let last: Record<string, any> = {};
    try {
      for (let n = 0; n < 20; n++) {
        const r = await ask(PAGE, { filter, first: 300, after });
        last = r.data!.beneficiaries;
        expect(last.coverage.missing.map((m: { city: { code: string }; code: string }) => [m.city.code, m.code])).toEqual([['015146', 'CITY_UNAVAILABLE']]);
        ids.push(...last.nodes.map((x: { id: string }) => x.id));
        if (!last.pageInfo.hasNextPage) break;
        after = last.pageInfo.endCursor;
      }
    } finally {
      await stack.sandbox.setFaults('');
    }
    expect(last.pageInfo.hasNextPage).toBe(false);
    // Sassari was read in full; Milano's records past the first page were not, and the last page says so.
    const sassari = stack.sandbox.population.get('090064')!.beneficiaries.length - brokenCount('090064', 'beneficiaries');
    expect(ids.length).toBe(sassari);
    expect(last.coverage.missing[0].reason).toMatch(/position 300/);
    expect(last.coverage.citiesAnswered).toBe(1);
  });

  it('serving its last good export after a broken one is flagged stale, not passed off as current', async () => {
    // Aosta's config checks its export every 2 s; read it once so there is a good snapshot.
    const question = '{ beneficiaries(filter: { cities: ["007003"] }, first: 5) { nodes { id } coverage { citiesAnswered stale { city { code } asOf } } } }';
    const fresh = await ask(question);
    expect(fresh.data!.beneficiaries.coverage.stale).toEqual([]);
    await stack.sandbox.setFaults('007003=html');
    try {
      await new Promise((resolve) => setTimeout(resolve, 2_100));
      const r = await ask(question);
      const conn = r.data!.beneficiaries;
      expect(conn.nodes).toHaveLength(5);
      expect(conn.coverage.citiesAnswered).toBe(1);
      expect(conn.coverage.stale).toEqual([{ city: { code: '007003' }, asOf: expect.any(String) }]);
    } finally {
      await stack.sandbox.setFaults('');
    }
  });
});
