import { describe, expect, it } from 'vitest';
import { collect, ExportRequestError, GraphQLFailure, type GraphQLExchange, type Post } from './collect.ts';

const WALK = `query Walk($after: String) {
  beneficiaries(first: 2, after: $after) {
    totalCount
    nodes { id intake { month } }
    pageInfo { hasNextPage endCursor }
    coverage { citiesAsked citiesAnswered rejected missing { city { code } code reason } stale { city { code } asOf } degraded { city { code } reason } }
  }
}`;

const coverageOf = (extra: Record<string, unknown> = {}) => ({ citiesAsked: 3, citiesAnswered: 3, rejected: 4, missing: [], stale: [], degraded: [], ...extra });

/** A graph that answers a walk over `pages`, each a list of ids, recording the variables it was asked with. */
function pagedGraph(pages: Array<{ ids: string[]; coverage?: Record<string, unknown>; errors?: unknown[] }>) {
  const asked: Array<Record<string, unknown>> = [];
  const post: Post = async ({ variables }) => {
    asked.push({ ...variables });
    const at = variables.after === undefined || variables.after === null ? 0 : Number(String(variables.after).slice(1));
    const page = pages[at]!;
    const last = at === pages.length - 1;
    return {
      status: 200,
      body: {
        data: {
          beneficiaries: {
            totalCount: pages.flatMap((p) => p.ids).length,
            nodes: page.ids.map((id) => ({ id, intake: { month: '2024-01' } })),
            pageInfo: { hasNextPage: !last, endCursor: last ? null : `c${at + 1}` },
            coverage: page.coverage ?? coverageOf(),
          },
        },
        ...(page.errors ? { errors: page.errors } : {}),
      },
    };
  };
  return { post, asked };
}

const answer = (body: unknown, status = 200): Post => async () => ({ status, body }) as GraphQLExchange;

describe('walking a paged list', () => {
  it('follows endCursor through the after variable until no page follows, and keeps every page’s rows', async () => {
    const graph = pagedGraph([{ ids: ['a', 'b'] }, { ids: ['c', 'd'] }, { ids: ['e'] }]);
    const seen: number[] = [];
    const result = await collect({ query: WALK }, { post: graph.post, onProgress: (p) => seen.push(p.rows) });
    expect(graph.asked.map((v) => v.after)).toEqual([undefined, 'c1', 'c2']);
    expect(result.table.rows.map((r) => r[0])).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(result.rowsFrom).toBe('beneficiaries.nodes');
    expect(result.pages).toBe(3);
    expect(seen).toEqual([2, 4, 5]);
    expect(result.outside).toEqual([{ name: 'beneficiaries.totalCount', cell: 5 }]);
  });

  it('gathers the coverage of every page: a city missing on one page only is named, a stale city with its oldest time', async () => {
    const graph = pagedGraph([
      { ids: ['a'], coverage: coverageOf({ stale: [{ city: { code: '015146' }, asOf: '2025-02-02T00:00:00.000Z' }] }) },
      {
        ids: ['b'],
        coverage: coverageOf({
          citiesAnswered: 2,
          missing: [{ city: { code: '090064' }, code: 'CITY_UNAVAILABLE', reason: 'down' }],
          stale: [{ city: { code: '015146' }, asOf: '2025-02-01T00:00:00.000Z' }],
        }),
      },
      { ids: ['c'], errors: [{ message: 'City 001272 is unavailable', extensions: { code: 'CITY_TIMEOUT', city: '001272' } }] },
    ]);
    const { coverage } = await collect({ query: WALK }, { post: graph.post, now: () => new Date('2025-03-01T00:00:00Z') });
    expect(coverage).toEqual({
      requestedAt: '2025-03-01T00:00:00.000Z',
      citiesAsked: 3,
      citiesAnswered: 2,
      missing: [
        { city: '001272', code: 'CITY_TIMEOUT', reason: 'City 001272 is unavailable' },
        { city: '090064', code: 'CITY_UNAVAILABLE', reason: 'down' },
      ],
      stale: [{ city: '015146', asOf: '2025-02-01T00:00:00.000Z' }],
      degraded: [],
      rejected: 4,
      otherErrors: [],
    });
  });

  it('stops with a failure rather than walking in a circle when a cursor comes back', async () => {
    const post: Post = async () => ({
      status: 200,
      body: { data: { beneficiaries: { totalCount: 9, nodes: [{ id: 'a' }], pageInfo: { hasNextPage: true, endCursor: 'same' }, coverage: coverageOf() } } },
    });
    await expect(collect({ query: WALK }, { post })).rejects.toThrow(/gives no new endCursor/);
  });

  it('refuses before the second page when the list holds more rows than an export may', async () => {
    const graph = pagedGraph([{ ids: ['a', 'b'] }, { ids: ['c', 'd'] }, { ids: ['e'] }]);
    const refusal = await collect({ query: WALK }, { post: graph.post, maxRows: 4 }).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(ExportRequestError);
    expect((refusal as ExportRequestError).code).toBe('EXPORT_TOO_LARGE');
    expect(graph.asked).toHaveLength(1);
  });
});

describe('an answer with errors', () => {
  const query = `{ beneficiaryFigures(by: [MONTH]) { groups { keys count } coverage { citiesAsked citiesAnswered } } }`;
  const data = { beneficiaryFigures: { groups: [{ keys: ['2024-01'], count: null }], coverage: { citiesAsked: 2, citiesAnswered: 1 } } };

  it('is exported when its errors are about a city’s data or a withheld value, and they are named in the coverage', async () => {
    const result = await collect(
      { query },
      {
        post: answer({
          data,
          errors: [
            { message: 'City 090064 is unavailable', extensions: { code: 'CITY_UNAVAILABLE', city: '090064' } },
            { message: 'withheld', extensions: { code: 'SMALL_COUNT_SUPPRESSED' } },
            { message: 'withheld', extensions: { code: 'SMALL_COUNT_SUPPRESSED' } },
          ],
        }),
      },
    );
    expect(result.coverage.missing).toEqual([{ city: '090064', code: 'CITY_UNAVAILABLE', reason: 'City 090064 is unavailable' }]);
    expect(result.coverage.otherErrors).toEqual([{ code: 'SMALL_COUNT_SUPPRESSED', count: 2, message: 'withheld' }]);
    expect(result.coverage.citiesAnswered).toBe(1);
  });

  it('fails on any other error, naming its code, city and path', async () => {
    const failure = await collect(
      { query },
      { post: answer({ data, errors: [{ message: 'Only operators may read this', path: ['beneficiaryFigures', 'groups'], extensions: { code: 'FORBIDDEN_FIELD', city: '082053' } }] }) },
    ).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(GraphQLFailure);
    expect((failure as Error).message).toBe('FORBIDDEN_FIELD (city 082053) at beneficiaryFigures.groups: Only operators may read this');
  });

  it('fails when no data came back, whatever the errors say', async () => {
    const failure = await collect(
      { query: `{ city(code: "090064") { name } }` },
      { post: answer({ data: { city: null }, errors: [{ message: 'City 090064 is unavailable', extensions: { code: 'CITY_UNAVAILABLE', city: '090064' } }] }) },
    ).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(GraphQLFailure);
    expect((failure as Error).message).toMatch(/^CITY_UNAVAILABLE \(city 090064\)/);
  });

  it('keeps the HTTP status of a refusal', async () => {
    const failure = await collect({ query }, { post: answer({ errors: [{ message: 'no token', extensions: { code: 'UNAUTHENTICATED' } }] }, 401) }).catch((e: unknown) => e);
    expect((failure as GraphQLFailure).status).toBe(401);
  });
});
