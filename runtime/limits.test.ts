/**
 * Demand limits, seen as a client sees them: over HTTP (status and body),
 * with resolvers (and, through the gateway, subgraphs) that count their calls.
 */
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer, HeaderMap } from '@apollo/server';
import { readFileSync } from 'node:fs';
import { getIntrospectionQuery } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultDemandLimits, demandControl, demandLimitsFromEnv, type DemandLimits } from './limits.ts';

interface Answer {
  status: number;
  body: { data?: Record<string, any> | null; errors?: Array<{ message: string; extensions?: Record<string, any> }> };
}

async function post(server: ApolloServer, query: string, variables?: Record<string, unknown>): Promise<Answer> {
  const res = await server.executeHTTPGraphQLRequest({
    httpGraphQLRequest: {
      method: 'POST',
      headers: new HeaderMap([['content-type', 'application/json']]),
      search: '',
      body: { query, ...(variables ? { variables } : {}) },
    },
    context: async () => ({}),
  });
  if (res.body.kind !== 'complete') throw new Error('expected a complete (non-incremental) answer');
  return { status: res.status ?? 200, body: JSON.parse(res.body.string) };
}

const typeDefs = /* GraphQL */ `
  type Query {
    beneficiaries(first: Int = 100): BeneficiaryConnection!
    cities: [City!]!
    city(code: ID!): City
    ping: Int
  }
  type BeneficiaryConnection {
    totalCount: Int!
    nodes: [Beneficiary!]!
    coverage: Coverage!
  }
  type Beneficiary {
    id: ID!
    sex: String
    city: City!
    placements: [Placement!]!
  }
  type Placement {
    id: ID!
    resource: Resource!
  }
  type Resource {
    kind: String
    city: City!
  }
  type City {
    code: ID!
    name: String!
    "A cycle, so that queries of any depth can be written."
    neighbour: City
    dataQuality: Quality!
  }
  type Quality {
    reasons: [Reason!]!
  }
  type Reason {
    code: String!
    count: Int!
  }
  type Coverage {
    missing: [Missing!]!
  }
  type Missing {
    city: City!
  }
`;

const rome = { code: '058091', name: 'Roma', neighbour: null, dataQuality: { reasons: [{ code: 'BAD_DATE', count: 2 }] } };

/** A server with the given limits, and how many times its root resolvers ran. */
async function startServer(limits: DemandLimits) {
  const counter = { calls: 0 };
  const resolvers = {
    Query: {
      beneficiaries: (_: unknown, { first }: { first: number }) => {
        counter.calls++;
        const nodes = Array.from({ length: Math.min(first, 3) }, (_, i) => ({ id: String(i), sex: 'F', city: rome, placements: [] }));
        return { totalCount: nodes.length, nodes, coverage: { missing: [] } };
      },
      cities: () => {
        counter.calls++;
        return [rome];
      },
      city: () => {
        counter.calls++;
        return { ...rome, neighbour: rome };
      },
      ping: () => {
        counter.calls++;
        return 1;
      },
    },
    City: { neighbour: (c: typeof rome) => c },
  };
  const server = new ApolloServer({ typeDefs, resolvers, ...demandControl(limits) });
  await server.start();
  return { server, counter };
}

/** Every limit far away, except the ones given. */
function only(limits: Partial<DemandLimits>): DemandLimits {
  return { maxDepth: 100, maxAliases: 100, maxRootFields: 100, maxCost: 1_000_000, maxTokens: 100_000, maxDirectives: 100, ...limits };
}

/** `{ city { neighbour { ... { name } } } }`, `levels` fields deep (at least 2). */
function depthQuery(levels: number): string {
  return `{ city(code: "1") { ${'neighbour { '.repeat(levels - 2)}name${' }'.repeat(levels - 2)} } }`;
}

function aliasQuery(aliases: number): string {
  return `{ ${Array.from({ length: aliases }, (_, i) => `c${i}: city(code: "${i}") { name }`).join(' ')} }`;
}

/** Each case: the limit set, a query just under (at) it, and one just over it. */
const cases: Array<{ limit: string; limits: Partial<DemandLimits>; max: number; under: string; over: string; found?: number; message: string }> = [
  {
    limit: 'depth',
    limits: { maxDepth: 4 },
    max: 4,
    under: depthQuery(4),
    over: depthQuery(5),
    found: 5,
    message: 'The query is 5 levels deep; at most 4 are allowed.',
  },
  {
    limit: 'aliases',
    limits: { maxAliases: 3 },
    max: 3,
    under: aliasQuery(3),
    over: aliasQuery(4),
    found: 4,
    message: 'The query has 4 aliases; at most 3 are allowed.',
  },
  {
    limit: 'rootFields',
    limits: { maxRootFields: 3 },
    max: 3,
    // `__typename` is not counted; fields reached through fragments and aliases are.
    under: '{ __typename ping ...F } fragment F on Query { cities { name } other: city(code: "1") { name } }',
    over: '{ __typename ping ...F beneficiaries { totalCount } } fragment F on Query { cities { name } other: city(code: "1") { name } }',
    found: 4,
    message: 'The query asks for 4 root fields; at most 3 are allowed.',
  },
  {
    // Armor's estimate with our weights: (connection 1 + nodes 1) x first.
    limit: 'cost',
    limits: { maxCost: 20 },
    max: 20,
    under: '{ beneficiaries(first: 10) { nodes { id sex } } }',
    over: '{ beneficiaries(first: 11) { nodes { id sex } } }',
    found: 22,
    message: "The query's estimated cost is 22; at most 20 is allowed.",
  },
  {
    // `{`, `ping`, `}`: 3 tokens; `__typename` makes 4.
    limit: 'tokens',
    limits: { maxTokens: 3 },
    max: 3,
    under: '{ ping }',
    over: '{ ping __typename }',
    message: 'The query has more than 3 tokens; at most 3 are allowed.',
  },
  {
    limit: 'directives',
    limits: { maxDirectives: 2 },
    max: 2,
    under: '{ ping @include(if: true) city(code: "1") @skip(if: false) { name } }',
    over: '{ ping @include(if: true) city(code: "1") @skip(if: false) { name @include(if: true) } }',
    found: 3,
    message: 'The query has 3 directives; at most 2 are allowed.',
  },
];

describe('each demand limit', () => {
  for (const c of cases) {
    describe(`on ${c.limit}`, () => {
      let s: Awaited<ReturnType<typeof startServer>>;
      beforeAll(async () => {
        s = await startServer(only(c.limits));
      });
      afterAll(() => s.server.stop());

      it('lets a query at the limit run', async () => {
        s.counter.calls = 0;
        const r = await post(s.server, c.under);
        expect(r.body.errors).toBeUndefined();
        expect(r.status).toBe(200);
        expect(r.body.data).toBeTruthy();
        expect(s.counter.calls).toBeGreaterThan(0);
      });

      it('refuses a query just over the limit with HTTP 400 and DEMAND_LIMIT_EXCEEDED, before any resolver runs', async () => {
        s.counter.calls = 0;
        const r = await post(s.server, c.over);
        expect(r.status).toBe(400);
        expect(r.body.data).toBeUndefined();
        expect(r.body.errors).toHaveLength(1);
        const [error] = r.body.errors!;
        expect(error!.message).toBe(c.message);
        expect(error!.extensions).toMatchObject({ code: 'DEMAND_LIMIT_EXCEEDED', limit: c.limit, max: c.max });
        if (c.found === undefined) expect(error!.extensions).not.toHaveProperty('found');
        else expect(error!.extensions!.found).toBe(c.found);
        expect(error!.extensions).not.toHaveProperty('http');
        expect(s.counter.calls).toBe(0);
      });
    });
  }
});

describe('the default limits', () => {
  let s: Awaited<ReturnType<typeof startServer>>;
  beforeAll(async () => {
    s = await startServer(defaultDemandLimits);
  });
  afterAll(() => s.server.stop());

  /** The incident's query: 1,000 aliases of `beneficiaries(first: 500)`. */
  const thousandAliases = `{ ${Array.from({ length: 1000 }, (_, i) => `b${i}: beneficiaries(first: 500) { nodes { id city { code } } }`).join(' ')} }`;

  it('refuse the 1,000-alias query while parsing it (it has far more than 2,000 tokens), with HTTP 400 and no resolver run', async () => {
    s.counter.calls = 0;
    const r = await post(s.server, thousandAliases);
    expect(r.status).toBe(400);
    expect(r.body.errors).toHaveLength(1);
    expect(r.body.errors![0]!.extensions).toMatchObject({ code: 'DEMAND_LIMIT_EXCEEDED', limit: 'tokens', max: 2000 });
    expect(s.counter.calls).toBe(0);
  });

  it('refuse the 1,000-alias query on aliases, root fields and cost when tokens are not limited', async () => {
    const t = await startServer({ ...defaultDemandLimits, maxTokens: 1_000_000 });
    try {
      const r = await post(t.server, thousandAliases);
      expect(r.status).toBe(400);
      const byLimit = Object.fromEntries(r.body.errors!.map((e) => [e.extensions!.limit, e]));
      expect(Object.keys(byLimit).sort()).toEqual(['aliases', 'cost', 'rootFields']);
      expect(r.body.errors!.every((e) => e.extensions!.code === 'DEMAND_LIMIT_EXCEEDED')).toBe(true);
      expect(byLimit.aliases!.message).toBe('The query has 1000 aliases; at most 15 are allowed.');
      expect(byLimit.rootFields!.extensions).toMatchObject({ max: 10, found: 1000 });
      expect(byLimit.cost!.extensions).toMatchObject({ max: 5000, found: 1_500_000 });
      expect(t.counter.calls).toBe(0);
    } finally {
      await t.server.stop();
    }
  });

  it('let the standard introspection query through', async () => {
    for (const query of [
      getIntrospectionQuery(),
      getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true, inputValueDeprecation: true, oneOf: true }),
    ]) {
      const r = await post(s.server, query);
      expect(r.body.errors).toBeUndefined();
      expect(r.status).toBe(200);
      expect(r.body.data!.__schema.queryType.name).toBe('Query');
    }
  });

  it('leave a malformed query to Apollo: HTTP 400 GRAPHQL_PARSE_FAILED', async () => {
    const r = await post(s.server, '{ beneficiaries(first: 5) { nodes { id } ');
    expect(r.status).toBe(400);
    expect(r.body.errors![0]!.extensions!.code).toBe('GRAPHQL_PARSE_FAILED');
  });

  it('hide field suggestions, which would reveal the schema', async () => {
    const r = await post(s.server, '{ citie { name } }');
    expect(r.status).toBe(400);
    expect(r.body.errors![0]!.extensions!.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(r.body.errors![0]!.message).toContain('Cannot query field "citie"');
    expect(r.body.errors![0]!.message).not.toContain('cities');
  });
});

/**
 * The same limits in front of @apollo/gateway over the project's supergraph,
 * with every subgraph replaced by a stub that counts the requests it gets.
 */
describe('the default limits at the gateway', () => {
  const subgraph = { calls: 0 };
  let server: ApolloServer;
  beforeAll(async () => {
    const gateway = new ApolloGateway({
      supergraphSdl: readFileSync(new URL('../schema/supergraph.graphql', import.meta.url), 'utf8'),
      buildService: () => ({
        async process() {
          subgraph.calls++;
          return { errors: [{ message: 'stub subgraph' }] };
        },
      }),
    });
    server = new ApolloServer({ gateway, introspection: true, ...demandControl(defaultDemandLimits) });
    await server.start();
  });
  afterAll(() => server.stop());

  const realQueries: Record<string, string> = {
    'the deepest beneficiaries query': '{ beneficiaries { nodes { placements { resource { city { name } } } } coverage { missing { city { code } } } } }',
    "the cities' data quality": '{ cities { dataQuality { reasons { code count } } } }',
    "the README's example, with a page of the largest size": /* GraphQL */ `{
      beneficiaries(filter: { cities: ["082053", "090064"] }, first: 500) {
        totalCount
        nodes { id personKey sex birthYear citizenship intake { date channel } placements { resource { kind } from to } }
        pageInfo { hasNextPage endCursor }
        coverage { citiesAsked citiesAnswered missing { city { code } code reason } }
      }
    }`,
    'the joins across subgraphs, with a page of the largest size': /* GraphQL */ `{
      beneficiaries(filter: { cities: ["015146"] }, first: 500) {
        nodes {
          id
          city { code name region }
          placements { id from to resource { id kind capacity city { name } } }
          enrollments { id from service { id category name } }
          civicProjects { id status signedOn }
        }
      }
    }`,
  };

  for (const [name, query] of Object.entries(realQueries)) {
    it(`let ${name} reach the subgraphs`, async () => {
      subgraph.calls = 0;
      const r = await post(server, query);
      expect(r.status).toBe(200);
      expect(r.body.errors?.map((e) => e.extensions?.code)).not.toContain('DEMAND_LIMIT_EXCEEDED');
      expect(r.body.errors?.map((e) => e.extensions?.code)).not.toContain('GRAPHQL_VALIDATION_FAILED');
      expect(subgraph.calls).toBeGreaterThan(0);
    });
  }

  it('refuse two pages of the largest size in one request on cost, asking no subgraph', async () => {
    subgraph.calls = 0;
    const page = 'beneficiaries(first: 500) { totalCount nodes { id city { code } intake { date } placements { resource { kind } } } coverage { missing { city { code } } } }';
    const r = await post(server, `{ a: ${page} b: ${page} }`);
    expect(r.status).toBe(400);
    expect(r.body.errors).toHaveLength(1);
    expect(r.body.errors![0]!.extensions).toMatchObject({ code: 'DEMAND_LIMIT_EXCEEDED', limit: 'cost', max: 5000 });
    expect(r.body.errors![0]!.extensions!.found).toBeGreaterThan(5000);
    expect(subgraph.calls).toBe(0);
  });

  it('refuse the 1,000-alias query, asking no subgraph', async () => {
    subgraph.calls = 0;
    const r = await post(server, `{ ${Array.from({ length: 1000 }, (_, i) => `b${i}: beneficiaries(first: 500) { nodes { id } }`).join(' ')} }`);
    expect(r.status).toBe(400);
    expect(r.body.errors![0]!.extensions).toMatchObject({ code: 'DEMAND_LIMIT_EXCEEDED', limit: 'tokens' });
    expect(subgraph.calls).toBe(0);
  });

  // Not `oneOf: true`: the gateway's query planner does not know `__Type.isOneOf` (INVALID_GRAPHQL), limits or not.
  it('let the standard introspection query through', async () => {
    for (const query of [
      getIntrospectionQuery(),
      getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true, inputValueDeprecation: true }),
    ]) {
      const r = await post(server, query);
      expect(r.body.errors).toBeUndefined();
      expect(r.status).toBe(200);
      expect(r.body.data!.__schema.types.map((t: { name: string }) => t.name)).toContain('Beneficiary');
    }
  });
});

describe('demandLimitsFromEnv', () => {
  it('keeps the defaults when no variable is set', () => {
    expect(demandLimitsFromEnv({})).toEqual(defaultDemandLimits);
    expect(defaultDemandLimits).toEqual({ maxDepth: 10, maxAliases: 15, maxRootFields: 10, maxCost: 5000, maxTokens: 2000, maxDirectives: 20 });
  });

  it('reads an override from each variable', () => {
    expect(
      demandLimitsFromEnv({
        LGNET_LIMIT_DEPTH: '7',
        LGNET_LIMIT_ALIASES: '3',
        LGNET_LIMIT_ROOT_FIELDS: '4',
        LGNET_LIMIT_COST: '12000',
        LGNET_LIMIT_TOKENS: '900',
        LGNET_LIMIT_DIRECTIVES: '5',
      }),
    ).toEqual({ maxDepth: 7, maxAliases: 3, maxRootFields: 4, maxCost: 12000, maxTokens: 900, maxDirectives: 5 });
    expect(demandLimitsFromEnv({ LGNET_LIMIT_COST: '8000' })).toEqual({ ...defaultDemandLimits, maxCost: 8000 });
  });

  it('rejects a value that is not a whole number, naming the variable and the value', () => {
    expect(() => demandLimitsFromEnv({ LGNET_LIMIT_DEPTH: 'abc' })).toThrow(/LGNET_LIMIT_DEPTH.*"abc"/);
    expect(() => demandLimitsFromEnv({ LGNET_LIMIT_TOKENS: '2.5' })).toThrow(/LGNET_LIMIT_TOKENS.*"2\.5"/);
    expect(() => demandLimitsFromEnv({ LGNET_LIMIT_ALIASES: '0' })).toThrow(/LGNET_LIMIT_ALIASES.*"0"/);
    expect(() => demandLimitsFromEnv({ LGNET_LIMIT_COST: '-1' })).toThrow(/LGNET_LIMIT_COST.*"-1"/);
  });

  it('refuses limits that would silently disable a check', () => {
    expect(() => demandControl({ ...defaultDemandLimits, maxDepth: Number.NaN })).toThrow(/maxDepth/);
  });
});
