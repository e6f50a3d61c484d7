/**
 * Who may see what, end to end: real tokens from the sandbox's identity
 * provider, over HTTP, through the gateway and straight to each subgraph
 * (a subgraph reached directly is just as closed).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SignJWT, base64url, generateKeyPair, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIdCodec, type IdCodec } from '../access/opaque-id.ts';
import { dashboardOperationsDir } from '../gateway/allow-list.ts';
import { personKeyOf } from '../adapters/mapping.ts';
import { DEFAULT_SEED } from '../sandbox/index.ts';
import { sandboxSecret, startStack, type Stack } from '../scripts/stack.ts';
import { gql, type GraphQLResponse } from './helpers.ts';

let stack: Stack;
let ids: IdCodec;
const token: Record<'palermo' | 'milano' | 'analyst' | 'dashboard', string> = { palermo: '', milano: '', analyst: '', dashboard: '' };
const PALERMO = '082053';
const MILANO = '015146';

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const codes = (r: GraphQLResponse) => (r.errors ?? []).map((e) => e.extensions?.code);
const now = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  // Introspection off, as in production by default.
  stack = await startStack({ port: 0, env: { LGNET_INTROSPECTION: '0' } });
  ids = createIdCodec(stack.env.LGNET_GRAPH_SECRET!);
  token.palermo = await stack.token('operator', { city: PALERMO });
  token.milano = await stack.token('operator', { city: MILANO });
  token.analyst = await stack.token('analyst');
  token.dashboard = await stack.token('dashboard');
});
afterAll(async () => {
  await stack?.close();
});

/** What the graph must show of a city of the sandbox. */
function truthOf(city: string) {
  const t = stack.sandbox.truth.get(city);
  if (!t) throw new Error(`the sandbox has no truth for city ${city}`);
  return t;
}

/** The beneficiaries of a city the graph holds (neither deliberately broken nor otherwise rejected), in the city's order. */
function validBeneficiaries(city: string) {
  return truthOf(city).accepted.beneficiaries;
}

type GraphQLErrorBody = NonNullable<GraphQLResponse['errors']>[number];

/**
 * Checks the errors of an answer listing a city's beneficiaries (at
 * `beneficiaries.nodes`) with their placements' `resource` and enrolments'
 * `service` (each asked with its `id`) against the sandbox's truth: a
 * reference to a resource or service the city sent broken is null, with a
 * RECORD_REJECTED error for that city and the reason it was rejected for at
 * that field's path; every other reference is there. Errors `ignored` says
 * are the caller's to check; any other is a failure. Returns how many
 * references were rejected.
 */
function expectRejectedReferences(r: GraphQLResponse, city: string, ignored: (e: GraphQLErrorBody) => boolean = () => false): number {
  const truth = truthOf(city);
  const placements = new Map(truth.accepted.placements.map((p) => [p.localId, p]));
  const enrollments = new Map(truth.accepted.enrollments.map((e) => [e.localId, e]));
  const held = {
    housingResources: new Set(truth.accepted.housingResources.map((x) => x.localId)),
    services: new Set(truth.accepted.services.map((x) => x.localId)),
  };
  const expected: Record<string, string> = {};
  const check = (path: Array<string | number>, value: unknown, entity: 'housingResources' | 'services', refId: string) => {
    const reason = truth.rejected[entity].get(refId);
    if (reason !== undefined) {
      expected[path.join('.')] = reason;
      expect(value, path.join('.')).toBeNull();
    } else {
      // The population refers only to records the city sends: this one is in the graph.
      expect(held[entity].has(refId), `${entity} ${refId} of ${city}`).toBe(true);
      expect(value, path.join('.')).not.toBeNull();
    }
  };
  const nodes = r.data!.beneficiaries.nodes as Array<Record<string, any>>;
  nodes.forEach((n, i) => {
    (n.placements as Array<Record<string, any>> | undefined)?.forEach((p, j) => {
      const placement = placements.get(ids.decode(p.id, 'Placement')!.localId);
      expect(placement, `placement ${p.id}`).toBeDefined();
      if ('resource' in p) check(['beneficiaries', 'nodes', i, 'placements', j, 'resource'], p.resource, 'housingResources', placement!.resourceId);
    });
    (n.enrollments as Array<Record<string, any>> | undefined)?.forEach((e, j) => {
      const enrollment = enrollments.get(ids.decode(e.id, 'Enrollment')!.localId);
      expect(enrollment, `enrollment ${e.id}`).toBeDefined();
      if ('service' in e) check(['beneficiaries', 'nodes', i, 'enrollments', j, 'service'], e.service, 'services', enrollment!.serviceId);
    });
  });
  const errors = (r.errors ?? []).filter((e) => !ignored(e));
  for (const e of errors) {
    expect(e.extensions, e.message).toMatchObject({ code: 'RECORD_REJECTED', city });
    expect(e.path, e.message).toBeDefined();
    expect(['resource', 'service'], e.message).toContain(e.path!.at(-1));
    expect(e.path!.reduce<any>((at, k) => at?.[k], r.data), e.message).toBeNull();
  }
  expect(Object.fromEntries(errors.map((e) => [e.path!.join('.'), e.extensions!.reason]))).toEqual(expected);
  return Object.keys(expected).length;
}

describe('authentication', () => {
  const endpoints = () => ({ gateway: stack.gatewayUrl, ...stack.subgraphUrls });

  /** Headers that must each be refused, with what the refusal must say. */
  async function badHeaders(): Promise<Array<[string, Record<string, string>, RegExp]>> {
    const base: JWTPayload = { iss: stack.issuer.issuer, aud: stack.issuer.audience, sub: 'someone', role: 'analyst', iat: now(), exp: now() + 600 };
    const [h, , s] = (await stack.token('dashboard')).split('.');
    const forgedPayload = base64url.encode(JSON.stringify({ ...base, role: 'analyst' }));
    const none = `${base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${base64url.encode(JSON.stringify(base))}.`;
    const other = await generateKeyPair('ES256');
    const otherSigned = await new SignJWT(base).setProtectedHeader({ alg: 'ES256' }).sign(other.privateKey);
    return [
      ['no token', {}, /No token/],
      ['not a bearer token', { authorization: 'Basic YWRtaW46YWRtaW4=' }, /Bearer/],
      ['garbage', bearer('garbage'), /[Mm]alformed/],
      ['a payload changed under a genuine signature', bearer(`${h}.${forgedPayload}.${s}`), /signature/i],
      ['alg none', bearer(none), /algorithm|signature|[Mm]alformed/i],
      ['an expired token', bearer(await stack.issuer.sign({ ...base, iat: now() - 7200, exp: now() - 3600 })), /expired/i],
      ["another issuer's key", bearer(otherSigned), /signature|key/i],
      ['another issuer', bearer(await stack.issuer.sign({ ...base, iss: 'https://elsewhere.invalid' })), /issuer/i],
      ['another audience', bearer(await stack.issuer.sign({ ...base, aud: 'another-api' })), /audience/i],
      ['an unknown role', bearer(await stack.issuer.sign({ ...base, role: 'admin' })), /role/i],
      ['an operator without a city', bearer(await stack.issuer.sign({ ...base, role: 'operator' })), /city/i],
    ];
  }

  it('keeps GET /health open on the gateway and on every subgraph', async () => {
    for (const url of Object.values(endpoints())) {
      const res = await fetch(new URL('/health', url));
      expect(res.status, url).toBe(200);
    }
  });

  it('refuses every missing, malformed, forged, expired or foreign token with 401 and no data, at the gateway and at each subgraph', async () => {
    const cases = await badHeaders();
    let refused = 0;
    for (const [name, url] of Object.entries(endpoints())) {
      for (const [what, headers, message] of cases) {
        const r = await gql(url, '{ __typename }', undefined, headers);
        expect(r.status, `${what} at ${name}`).toBe(401);
        expect(codes(r), `${what} at ${name}`).toEqual(['UNAUTHENTICATED']);
        expect(r.errors![0]!.message, `${what} at ${name}`).toMatch(message);
        expect(r.data ?? null).toBeNull();
        refused++;
      }
    }
    expect(refused).toBe(cases.length * 5);
  });

  it('lets each role in with a token from the sandbox issuer', async () => {
    for (const t of Object.values(token)) {
      const r = await gql(stack.subgraphUrls.registry, '{ cities { code } }', undefined, bearer(t));
      expect(r.status).toBe(200);
      expect(r.data!.cities.length).toBeGreaterThan(0);
    }
  });
});

describe('operators', () => {
  const PERSON = /* GraphQL */ `
    query ($cities: [ID!]) {
      beneficiaries(filter: { cities: $cities }, first: 50) {
        nodes { id localId givenName familyName fiscalCode birthDate vulnerabilities intake { date month }
                placements { id from resource { name kind } } }
      }
    }
  `;

  it("see their own city's records whole: names, fiscal codes, exact dates, vulnerabilities and shelter names", async () => {
    const r = await gql(stack.gatewayUrl, PERSON, { cities: [PALERMO] }, bearer(token.palermo));
    // No error but those the sandbox's truth predicts: a shelter the city sent broken is unknown, and said to be.
    expectRejectedReferences(r, PALERMO);
    const byLocalId = new Map(validBeneficiaries(PALERMO).map((b) => [b.localId, b]));
    const nodes = r.data!.beneficiaries.nodes as Array<Record<string, any>>;
    expect(nodes).toHaveLength(50);
    for (const n of nodes) {
      const b = byLocalId.get(n.localId)!;
      expect(n).toMatchObject({ givenName: b.givenName, familyName: b.familyName, fiscalCode: b.fiscalCode, birthDate: b.birthDate, vulnerabilities: b.vulnerabilities });
      expect(n.intake.date).toBe(b.intake.date);
      expect(ids.decode(n.id, 'Beneficiary')).toEqual({ kind: 'Beneficiary', city: PALERMO, localId: b.localId });
    }
    expect(nodes.flatMap((n) => n.placements.map((p: { resource: { name: string } | null }) => p.resource?.name)).filter(Boolean).length).toBeGreaterThan(0);
  });

  it("do not see another city's records, by list or by id", async () => {
    const list = await gql(stack.gatewayUrl, PERSON, { cities: [MILANO] }, bearer(token.palermo));
    expect(codes(list)).toContain('FORBIDDEN');
    expect(list.data?.beneficiaries ?? null).toBeNull();
    const milanese = validBeneficiaries(MILANO)[0]!;
    const ONE = 'query ($id: ID!) { beneficiary(id: $id) { givenName fiscalCode } }';
    const one = await gql(stack.gatewayUrl, ONE, { id: ids.encode('Beneficiary', MILANO, milanese.localId) }, bearer(token.palermo));
    expect(one.data!.beneficiary).toBeNull();
    expect(codes(one)).toEqual(['BAD_USER_INPUT']);
    expect(JSON.stringify(one)).not.toContain(milanese.fiscalCode);
    // Told the same as for an id that names nothing: whether the record exists is not theirs to learn.
    const madeUp = await gql(stack.gatewayUrl, ONE, { id: ids.encode('Beneficiary', MILANO, 'no-such-record') }, bearer(token.palermo));
    expect(madeUp.errors!.map((e) => e.message)).toEqual(one.errors!.map((e) => e.message));
    // Named as an entity straight at the subgraphs, it resolves to nothing.
    const entities = await gql(stack.subgraphUrls.people, 'query ($r: [_Any!]!) { _entities(representations: $r) { ... on Beneficiary { givenName } } }', { r: [{ __typename: 'Beneficiary', id: ids.encode('Beneficiary', MILANO, milanese.localId) }] }, bearer(token.palermo));
    expect(entities.data!._entities).toEqual([null]);
    expect(entities.errors).toBeUndefined();
  });

  it('are given their own city when they name none', async () => {
    const r = await gql(stack.gatewayUrl, '{ beneficiaries(first: 5) { nodes { city { code } } coverage { citiesAsked } } }', undefined, bearer(token.palermo));
    expect(r.errors).toBeUndefined();
    expect(r.data!.beneficiaries.coverage.citiesAsked).toBe(1);
    for (const n of r.data!.beneficiaries.nodes) expect(n.city.code).toBe(PALERMO);
  });
});

describe('analysts', () => {
  const EVERYTHING = /* GraphQL */ `
    {
      beneficiaries(filter: { cities: ["${PALERMO}"] }, first: 100) {
        nodes { id personKey sex birthYear citizenship permitType localId givenName familyName fiscalCode birthDate vulnerabilities
                intake { date month channel status }
                placements { id from to fromMonth toMonth resource { id kind name } }
                enrollments { id from fromMonth service { category name } }
                civicProjects { status signedOn signedMonth } }
      }
    }
  `;
  const withheld = [
    'Beneficiary.localId', 'Beneficiary.givenName', 'Beneficiary.familyName', 'Beneficiary.fiscalCode', 'Beneficiary.birthDate', 'Beneficiary.vulnerabilities',
    'Intake.date', 'Placement.from', 'Placement.to', 'HousingResource.name', 'Enrollment.from', 'Service.name', 'CivicProject.signedOn',
  ];

  it('see pseudonymised, minimised records: no name, no vulnerability, no exact date, no shelter name, each withheld field named once', async () => {
    const r = await gql(stack.gatewayUrl, EVERYTHING, undefined, bearer(token.analyst));
    const nodes = r.data!.beneficiaries.nodes as Array<Record<string, any>>;
    expect(nodes).toHaveLength(100);
    for (const n of nodes) {
      for (const f of ['localId', 'givenName', 'familyName', 'fiscalCode', 'birthDate', 'vulnerabilities']) expect(n[f], f).toBeNull();
      expect(n.intake.date).toBeNull();
      expect(n.intake.month).toMatch(/^\d{4}-\d{2}$/);
      for (const p of n.placements) {
        expect(p.from).toBeNull();
        expect(p.fromMonth).toMatch(/^\d{4}-\d{2}$/);
        if (p.resource) expect(p.resource.name).toBeNull();
      }
    }
    // Besides the withheld fields, only references the city sent broken are in error.
    expectRejectedReferences(r, PALERMO, (e) => e.extensions?.code === 'FORBIDDEN_FIELD');
    const forbidden = (r.errors ?? []).filter((e) => e.extensions?.code === 'FORBIDDEN_FIELD').map((e) => e.extensions!.field as string);
    expect([...new Set(forbidden)].sort()).toEqual([...withheld].sort());
    // One error per withheld field and answer, not one per record.
    expect(forbidden.length).toBe(new Set(forbidden).size);
    // Nothing that identifies a person is anywhere in the answer.
    const body = JSON.stringify(r);
    for (const b of validBeneficiaries(PALERMO).slice(0, 100)) {
      expect(body).not.toContain(b.fiscalCode);
      expect(body).not.toContain(b.localId);
    }
  });

  it('are held to the same rules when they ask a subgraph directly', async () => {
    const people = await gql(stack.subgraphUrls.people, `{ beneficiaries(filter: { cities: ["${PALERMO}"] }, first: 10) { nodes { givenName fiscalCode vulnerabilities } } }`, undefined, bearer(token.analyst));
    for (const n of people.data!.beneficiaries.nodes) expect(n).toEqual({ givenName: null, fiscalCode: null, vulnerabilities: null });
    expect(codes(people).every((c) => c === 'FORBIDDEN_FIELD')).toBe(true);
    const housing = await gql(stack.subgraphUrls.housing, `{ housingResources(filter: { cities: ["${PALERMO}"], kinds: [PROTECTED_SHELTER] }) { nodes { kind name } } }`, undefined, bearer(token.analyst));
    expect(housing.data!.housingResources.nodes.length).toBeGreaterThan(0);
    for (const n of housing.data!.housingResources.nodes) expect(n.name).toBeNull();
    expect(codes(housing)).toEqual(['FORBIDDEN_FIELD']);
  });

  it('get the same pseudonym for a person on every start with the same seed: it is derived from the seed, not drawn', async () => {
    const r = await gql(stack.gatewayUrl, `{ beneficiaries(filter: { cities: ["${PALERMO}"] }, first: 5) { nodes { id personKey } } }`, undefined, bearer(token.analyst));
    const secret = sandboxSecret(DEFAULT_SEED, 'person-key');
    const byLocalId = new Map(validBeneficiaries(PALERMO).map((b) => [b.localId, b]));
    for (const n of r.data!.beneficiaries.nodes) {
      const b = byLocalId.get(ids.decode(n.id, 'Beneficiary')!.localId)!;
      expect(n.personKey).toBe(personKeyOf(b.fiscalCode, secret));
    }
    expect(sandboxSecret(DEFAULT_SEED, 'person-key')).not.toBe(sandboxSecret(DEFAULT_SEED + 1, 'person-key'));
  });
});

describe('the dashboard role', () => {
  const operation = (name: string) => readFileSync(join(dashboardOperationsDir, `${name}.graphql`), 'utf8');

  it('runs the published operations, by text or by hash, and nothing else', async () => {
    const text = operation('dashboard-cities');
    const byText = await gql(stack.gatewayUrl, text, undefined, bearer(token.dashboard));
    expect(byText.status).toBe(200);
    expect(byText.data!.cities.length).toBe(stack.sandbox.population.size + codes(byText).filter((c) => c === 'CITY_NOT_CONFIGURED').length);
    const hash = createHash('sha256').update(text).digest('hex');
    const res = await fetch(stack.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...bearer(token.dashboard) },
      body: JSON.stringify({ extensions: { persistedQuery: { version: 1, sha256Hash: hash } } }),
    });
    expect(res.status).toBe(200);
    // The same operation: the same cities and figures (a live source's asOf moves on between the two).
    const codesOf = (list: Array<{ code: string; dataQuality: unknown }>) => list.map((c) => [c.code, c.dataQuality]);
    expect(codesOf(((await res.json()) as GraphQLResponse).data!.cities)).toEqual(codesOf(byText.data!.cities));

    const other = await gql(stack.gatewayUrl, '{ cities { code } }', undefined, bearer(token.dashboard));
    expect(other.status).toBe(403);
    expect(codes(other)).toEqual(['OPERATION_NOT_ALLOWED']);
  });

  it('sees no record and no list, even straight at a subgraph, where counts could be subtracted from one another', async () => {
    const people = await gql(stack.subgraphUrls.people, `{ beneficiaries(filter: { cities: ["${PALERMO}"] }, first: 0) { totalCount } }`, undefined, bearer(token.dashboard));
    expect(people.data!.beneficiaries).toBeNull();
    expect(people.errors?.map((e) => [e.extensions?.code, e.extensions?.field])).toEqual([['FORBIDDEN_FIELD', 'Query.beneficiaries']]);
    const housing = await gql(stack.subgraphUrls.housing, '{ housingResources { totalCount } }', undefined, bearer(token.dashboard));
    expect(housing.data!.housingResources).toBeNull();
    const services = await gql(stack.subgraphUrls.services, '{ services { totalCount } }', undefined, bearer(token.dashboard));
    expect(services.data!.services).toBeNull();
    const one = await gql(stack.subgraphUrls.people, 'query ($id: ID!) { beneficiary(id: $id) { sex } }', { id: ids.encode('Beneficiary', PALERMO, validBeneficiaries(PALERMO)[0]!.localId) }, bearer(token.dashboard));
    expect(one.data!.beneficiary).toBeNull();
    expect(codes(one)).toEqual(['FORBIDDEN_FIELD']);
  });

  it("sees a city's data quality with small counts withheld, and withheld too whatever would give them away", async () => {
    const asAnalyst = await gql(stack.gatewayUrl, operation('dashboard-cities'), undefined, bearer(token.analyst));
    const r = await gql(stack.gatewayUrl, operation('dashboard-cities'), undefined, bearer(token.dashboard));
    expect(r.status).toBe(200);
    let withheld = 0;
    const exact = new Map((asAnalyst.data!.cities as Array<{ code: string; dataQuality: Array<Record<string, any>> | null }>).map((c) => [c.code, c.dataQuality]));
    for (const city of r.data!.cities as Array<{ code: string; dataQuality: Array<Record<string, any>> | null }>) {
      for (const [i, q] of (city.dataQuality ?? []).entries()) {
        // Records received and accepted are not published: with the published report they could undo its suppression.
        expect(Object.keys(q)).not.toContain('received');
        expect(Object.keys(q)).not.toContain('accepted');
        const published = [q.rejected, ...q.reasons.map((x: { count: number | null }) => x.count)];
        for (const v of published) if (v !== null) expect(v === 0 || v >= 5).toBe(true);
        // rejected = the sum of its reasons: one withheld reason beside a shown total would be given away.
        const reasonsHidden = q.reasons.filter((x: { count: number | null }) => x.count === null).length;
        if (q.rejected !== null) expect(reasonsHidden).not.toBe(1);
        // What is shown is what an analyst sees.
        const e = exact.get(city.code)![i]!;
        if (q.rejected !== null) expect(q.rejected).toBe(e.rejected);
        if (q.rejected === null) withheld++;
      }
    }
    // The sandbox breaks 2 to 6 records per city: some rejected counts must have been withheld.
    expect(withheld).toBeGreaterThan(0);
    expect(codes(r)).toContain('SMALL_COUNT_SUPPRESSED');
    expect(codes(asAnalyst)).not.toContain('SMALL_COUNT_SUPPRESSED');
  });
});

describe('cursors', () => {
  const PAGE = 'query ($after: String) { beneficiaries(filter: { cities: ["082053"] }, first: 10, after: $after) { totalCount pageInfo { endCursor } } }';

  it('refuse one altered by a client, and one issued to another caller', async () => {
    const first = await gql(stack.gatewayUrl, PAGE, {}, bearer(token.analyst));
    const cursor = first.data!.beneficiaries.pageInfo.endCursor as string;
    const [payload, signature] = cursor.split('.') as [string, string];
    const decoded = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as unknown[];
    decoded[5] = 123_462_188;
    const forged = `${Buffer.from(JSON.stringify(decoded)).toString('base64url')}.${signature}`;
    const r1 = await gql(stack.gatewayUrl, PAGE, { after: forged }, bearer(token.analyst));
    expect(codes(r1)).toEqual(['BAD_USER_INPUT']);
    expect(JSON.stringify(r1)).not.toContain('123462188');
    const r2 = await gql(stack.gatewayUrl, PAGE, { after: cursor }, bearer(token.palermo));
    expect(codes(r2)).toEqual(['BAD_USER_INPUT']);
    const r3 = await gql(stack.gatewayUrl, PAGE, { after: cursor }, bearer(token.analyst));
    expect(r3.errors).toBeUndefined();
    expect(r3.data!.beneficiaries.totalCount).toBe(first.data!.beneficiaries.totalCount);
  });
});

describe('demand control', () => {
  it('refuses a query of 1,000 aliases before any city is asked', async () => {
    stack.sandbox.resetRequestCounts();
    const query = `{ ${Array.from({ length: 1000 }, (_, i) => `a${i}: beneficiaries(first: 500) { totalCount }`).join(' ')} }`;
    const r = await gql(stack.gatewayUrl, query, undefined, bearer(token.analyst));
    expect(r.status).toBe(400);
    expect(codes(r)).toContain('DEMAND_LIMIT_EXCEEDED');
    expect(stack.sandbox.requestCount()).toBe(0);
  });

  it('counts page sizes given as variables against one budget per request, before any city is asked', async () => {
    stack.sandbox.resetRequestCounts();
    const query = 'query ($n: Int) { a: beneficiaries(first: $n) { totalCount } b: beneficiaries(first: $n) { totalCount } c: beneficiaries(first: $n) { totalCount } }';
    const r = await gql(stack.gatewayUrl, query, { n: 500 }, bearer(token.analyst));
    expect(r.errors?.find((e) => e.extensions?.code === 'DEMAND_LIMIT_EXCEEDED')?.message).toMatch(/1500 records in all; at most 1000/);
    const small = await gql(stack.gatewayUrl, query, { n: 5 }, bearer(token.analyst));
    expect(small.errors).toBeUndefined();
  });

  it('refuses a page larger than 500 records with a coded error', async () => {
    const r = await gql(stack.gatewayUrl, '{ beneficiaries(first: 501) { totalCount } }', undefined, bearer(token.analyst));
    expect(codes(r)).toEqual(['BAD_USER_INPUT']);
  });

  it('keeps introspection off when the configuration says so, at the gateway and at the subgraphs, the federation schema included', async () => {
    for (const url of [stack.gatewayUrl, stack.subgraphUrls.people]) {
      const r = await gql(url, '{ __schema { types { name } } }', undefined, bearer(token.analyst));
      expect(r.status, url).toBe(400);
      expect(r.data ?? null).toBeNull();
      expect(r.errors![0]!.message).toMatch(/[Ii]ntrospection/);
    }
    for (const url of Object.values(stack.subgraphUrls)) {
      const r = await gql(url, '{ _service { sdl } }', undefined, bearer(token.analyst));
      expect(r.status, url).toBe(400);
      expect(JSON.stringify(r)).not.toContain('@access');
    }
  });
});

describe('the audit trail', () => {
  const LOG = '{ accessLog(first: 1000) { time subject role callerCity records fields subgraph } }';

  it("lets a city's operators list who read their city's records, and only theirs", async () => {
    const marker = await gql(stack.gatewayUrl, `{ beneficiaries(filter: { cities: ["${PALERMO}"] }, first: 7) { nodes { personKey } } }`, undefined, bearer(token.analyst));
    expect(marker.errors).toBeUndefined();
    const palermo = await gql(stack.gatewayUrl, LOG, undefined, bearer(token.palermo));
    expect(palermo.errors).toBeUndefined();
    const entries = palermo.data!.accessLog as Array<Record<string, any>>;
    expect(entries.find((e) => e.subject === 'sandbox-analyst' && e.records === 7 && e.fields.includes('Beneficiary.personKey'))).toMatchObject({ role: 'analyst', subgraph: 'people', callerCity: null });
    const milano = await gql(stack.gatewayUrl, LOG, undefined, bearer(token.milano));
    expect((milano.data!.accessLog as Array<Record<string, any>>).some((e) => e.records === 7 && e.subject === 'sandbox-analyst')).toBe(false);
    const analyst = await gql(stack.gatewayUrl, LOG, undefined, bearer(token.analyst));
    expect(analyst.data!.accessLog).toBeNull();
    expect(codes(analyst)).toEqual(['FORBIDDEN_FIELD']);
  });

  it("records the hash of the query a subgraph answered, whatever a caller claims the client's was", async () => {
    const query = `{ beneficiaries(filter: { cities: ["${PALERMO}"] }, first: 11) { nodes { personKey } } }`;
    const claimed = createHash('sha256').update('{ cities { code } }').digest('hex');
    const r = await gql(stack.subgraphUrls.people, query, undefined, { ...bearer(token.analyst), 'x-lgnet-operation-hash': claimed });
    expect(r.errors).toBeUndefined();
    const log = await gql(stack.gatewayUrl, '{ accessLog(first: 50) { records operation clientOperation } }', undefined, bearer(token.palermo));
    const entry = (log.data!.accessLog as Array<Record<string, any>>).find((e) => e.records === 11)!;
    expect(entry.operation).toBe(createHash('sha256').update(query).digest('hex'));
    expect(entry.clientOperation).toBe(claimed);
  });

  it('verifies with npm run audit:verify, then names the first bad entry once one byte is changed', async () => {
    await gql(stack.gatewayUrl, `{ beneficiaries(filter: { cities: ["${PALERMO}"] }, first: 3) { nodes { givenName } } }`, undefined, bearer(token.palermo));
    // A copy, so the running subgraphs keep appending to an intact trail.
    const copy = mkdtempSync(join(tmpdir(), 'lgnet-audit-copy-'));
    try {
      cpSync(stack.auditDir, copy, { recursive: true });
      const script = fileURLToPath(new URL('../scripts/audit-verify.ts', import.meta.url));
      const verify = () => spawnSync(process.execPath, ['--experimental-strip-types', script, copy], { encoding: 'utf8' });
      const good = verify();
      expect(good.status, good.stderr).toBe(0);
      expect(good.stdout).toMatch(/ok people\.jsonl \d+ entr/);
      const file = join(copy, 'people.jsonl');
      const lines = readFileSync(file, 'utf8').split('\n');
      expect(lines.length).toBeGreaterThan(2);
      // One byte of the second entry: a digit of its record count.
      lines[1] = lines[1]!.replace(/"records":(\d)/, (_, d: string) => `"records":${(Number(d) + 1) % 10}`);
      writeFileSync(file, lines.join('\n'));
      const bad = verify();
      expect(bad.status).toBe(1);
      expect(bad.stdout + bad.stderr).toMatch(/BAD people\.jsonl line 2 \(seq 2\): changed/);
      expect(readdirSync(copy).sort()).toEqual(readdirSync(stack.auditDir).sort());
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });
});
