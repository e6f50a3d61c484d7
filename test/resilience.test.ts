/**
 * Faults of the graph's own parts and of the cities, end to end: real
 * processes on loopback, asked over HTTP.
 */
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../scripts/stack.ts';
import { gql, type GraphQLResponse } from './helpers.ts';

let stack: Stack;
let analyst: string;
/** A query's deadline short enough that a hung city cannot hold the test for long. */
const DEADLINE_MS = 4_000;

const ask = (query: string, variables?: Record<string, unknown>) => gql(stack.gatewayUrl, query, variables, { authorization: `Bearer ${analyst}` });
const codes = (r: GraphQLResponse) => (r.errors ?? []).map((e) => [e.extensions?.code, e.extensions?.subgraph ?? e.extensions?.city]);

beforeAll(async () => {
  // The gateway on another loopback address than the rest, as HOST would put it on a public one.
  stack = await startStack({ port: 0, host: '127.0.0.2', env: { LGNET_QUERY_DEADLINE_MS: String(DEADLINE_MS) } });
  analyst = await stack.token('analyst');
});
afterAll(async () => {
  await stack?.close();
});

describe('listen addresses', () => {
  it('move the gateway alone: subgraphs and city stand-ins stay on 127.0.0.1', async () => {
    expect(new URL(stack.gatewayUrl).hostname).toBe('127.0.0.2');
    for (const url of Object.values(stack.subgraphUrls)) expect(new URL(url).hostname).toBe('127.0.0.1');
    const cityUrls = Object.entries(stack.sandbox.env).filter(([k]) => k.endsWith('_URL'));
    expect(cityUrls.length).toBeGreaterThan(0);
    for (const [, url] of cityUrls) expect(new URL(url).hostname).toBe('127.0.0.1');
    // The gateway listens on its own address only. (Asking 127.0.0.1 on the same port proves nothing:
    // another process may have been given that port number there.)
    const port = Number(new URL(stack.gatewayUrl).port);
    const listening = listeningAddresses(stack.pids.gateway);
    if (listening) {
      expect(listening).toEqual([`127.0.0.2:${port}`]);
    } else {
      const elsewhere = new URL(stack.gatewayUrl);
      elsewhere.hostname = '127.0.0.1';
      await expect(fetch(elsewhere)).rejects.toThrow();
    }
  });
});

/** The IPv4 addresses (ip:port) a process listens on, read from Linux's /proc; null where there is no /proc. */
function listeningAddresses(pid: number): string[] | null {
  if (!existsSync(`/proc/${pid}/fd`) || !existsSync('/proc/net/tcp')) return null;
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // A descriptor closed while the folder was read.
    }
  }
  const out: string[] = [];
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    // Fields: sl, local address, remote address, state (0A = LISTEN), ..., inode (the tenth).
    if (f.length < 10 || f[3] !== '0A' || !inodes.has(f[9]!)) continue;
    const [hex, port] = f[1]!.split(':') as [string, string];
    // The address is written as a little-endian hex number.
    const ip = hex.match(/../g)!.reverse().map((h) => parseInt(h, 16)).join('.');
    out.push(`${ip}:${parseInt(port, 16)}`);
  }
  return out;
}

describe('client mistakes', () => {
  it('answer a mutation or a subscription with 400: the graph only reads', async () => {
    for (const op of ['mutation { x }', 'subscription { x }']) {
      const r = await ask(op);
      expect(r.status, op).toBe(400);
      expect(r.errors![0]!.extensions!.code).toBe('GRAPHQL_VALIDATION_FAILED');
    }
  });
});

describe("a query's deadline", () => {
  it('bounds a city that hangs: the answer names it, and the city is not asked again once the query is given up on', async () => {
    await stack.sandbox.setFaults('079023=slow:70000');
    try {
      stack.sandbox.resetRequestCounts();
      const r = await ask('{ beneficiaries(filter: { cities: ["079023"] }, first: 5) { nodes { id } coverage { citiesAnswered missing { city { code } code } } } }');
      expect(r.status).toBe(200);
      expect(r.data!.beneficiaries.coverage).toEqual({ citiesAnswered: 0, missing: [{ city: { code: '079023' }, code: 'CITY_TIMEOUT' }] });
      const asked = stack.sandbox.requestCount('079023');
      expect(asked).toBeGreaterThan(0);
      // Longer than any retry pause: nothing more reaches the city for a query that is over.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(stack.sandbox.requestCount('079023')).toBe(asked);
    } finally {
      await stack.sandbox.setFaults('');
    }
  });
});

describe('metrics', () => {
  it('are served by every process, with calls per subgraph at the gateway and failures per city in the subgraphs', async () => {
    // The hung city of the test above was reported by the people subgraph.
    const gateway = await (await fetch(new URL('/metrics', stack.gatewayUrl))).text();
    const line = (metric: string, labels: string[]) => new RegExp(`^${metric}\\{${labels.map((l) => `(?=[^}]*${l})`).join('')}[^}]*\\} [1-9]`, 'm');
    expect(gateway).toMatch(line('lgnet_subgraph_calls_total', ['subgraph="people"', 'outcome="ok"', 'component="gateway"']));
    expect(gateway).toMatch(line('lgnet_subgraph_call_seconds_count', ['subgraph="people"']));
    expect(gateway).toMatch(line('lgnet_process_resident_memory_bytes', ['component="gateway"']));
    const people = await (await fetch(new URL('/metrics', stack.subgraphUrls.people))).text();
    expect(people).toMatch(line('lgnet_city_errors_total', ['city="079023"', 'code="CITY_TIMEOUT"', 'component="subgraph:people"']));
    // Per city and source: requests by outcome, their time, and the status as last seen.
    expect(people).toMatch(line('lgnet_city_requests_total', ['city="079023"', 'source="main"', 'outcome="CITY_TIMEOUT"']));
    expect(people).toMatch(line('lgnet_city_request_seconds_count', ['city="079023"', 'source="main"']));
    expect(people).toMatch(line('lgnet_source_status', ['city="079023"', 'source="main"']));
    // Metrics name cities and codes, never anyone's data.
    expect(people).not.toMatch(/fiscal|givenName/);
  });
});

describe('each kind of city fault', () => {
  it('is named with its own code, while the other cities answer', async () => {
    // Cities no other test here uses: a circuit opened here stays open a while.
    await stack.sandbox.setFaults('063049=half,027042=auth,070006=garbage');
    try {
      const r = await ask('{ beneficiaries(filter: { cities: ["063049", "027042", "070006", "082053"] }, first: 5) { nodes { id } coverage { missing { city { code } code } } } }');
      expect(r.data!.beneficiaries.coverage.missing.map((m: { city: { code: string }; code: string }) => [m.city.code, m.code]).sort()).toEqual([
        ['027042', 'CITY_AUTH_FAILED'],
        ['063049', 'CITY_BAD_RESPONSE'],
        ['070006', 'CITY_BAD_RESPONSE'],
      ]);
      expect(r.data!.beneficiaries.nodes).toHaveLength(5);
    } finally {
      await stack.sandbox.setFaults('');
    }
  });
});

describe("a city's circuit", () => {
  // Bologna: no other test here uses it.
  const CITY = '037006';
  const Q = `{ services(filter: { cities: ["${CITY}"] }) { totalCount coverage { missing { city { code } code reason } } } }`;
  const status = async () => (await ask(`{ city(code: "${CITY}") { sources { status statusReason } } }`)).data!.city.sources[0] as { status: string; statusReason: string | null };

  it('opens after repeated failures, answers at once without asking the city, and closes again once a probe succeeds', async () => {
    await stack.sandbox.setFaults(`${CITY}=down`);
    try {
      for (let i = 0; i < 3; i++) await ask(Q);
      const open = await ask(Q);
      expect(open.data!.services.coverage.missing[0]).toMatchObject({ code: 'CITY_UNAVAILABLE', reason: expect.stringMatching(/circuit open since/) });
      stack.sandbox.resetRequestCounts();
      await ask(Q);
      // While open, the city is not asked at all.
      expect(stack.sandbox.requestCount(CITY)).toBe(0);
    } finally {
      await stack.sandbox.setFaults('');
    }
    // After the circuit's pause (15 s by default) one request probes the city; it answers, and the circuit closes.
    let answered = false;
    for (let i = 0; i < 30 && !answered; i++) {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      answered = (await ask(Q)).data!.services.coverage.missing.length === 0;
    }
    expect(answered).toBe(true);
    expect((await status()).status).not.toBe('DOWN');
  }, 60_000);
});

describe('last known good', () => {
  // Firenze: a city no other test here uses, since its circuit stays open a while after.
  it("serves a city that is down from its last good answer when the caller accepts stale data, and says so", async () => {
    const Q = 'query ($s: Int) { services(filter: { cities: ["048017", "082053"] }, maxStaleness: $s) { totalCount coverage { citiesAnswered missing { city { code } code } stale { city { code } asOf } } } }';
    const fresh = await ask(Q, { s: null });
    expect(fresh.errors).toBeUndefined();
    await stack.sandbox.setFaults('048017=down');
    try {
      const strict = await ask(Q, { s: null });
      expect(strict.data!.services.coverage.missing).toEqual([{ city: { code: '048017' }, code: 'CITY_UNAVAILABLE' }]);
      expect(strict.data!.services.totalCount).toBeLessThan(fresh.data!.services.totalCount);
      const lenient = await ask(Q, { s: 600 });
      expect(lenient.data!.services.totalCount).toBe(fresh.data!.services.totalCount);
      expect(lenient.data!.services.coverage).toMatchObject({ citiesAnswered: 2, missing: [], stale: [{ city: { code: '048017' }, asOf: expect.any(String) }] });
      // Never silently: the failure is still reported.
      expect(codes(lenient)).toEqual([['CITY_UNAVAILABLE', '048017']]);
      const tooOld = await ask(Q, { s: 0 });
      expect(tooOld.data!.services.coverage.missing).toHaveLength(1);
    } finally {
      await stack.sandbox.setFaults('');
    }
  });
});

describe('last known good, for people', () => {
  // Torino: a city no other test here uses, since its circuit stays open a while after.
  it('serves the pages of a walk from the last good answers when the city is down and the caller accepts stale data', async () => {
    const Q = 'query ($after: String, $s: Int) { beneficiaries(filter: { cities: ["001272"] }, first: 200, after: $after, maxStaleness: $s) { totalCount nodes { id } pageInfo { hasNextPage endCursor } coverage { missing { city { code } } stale { city { code } asOf } } } }';
    const walk = async (s: number | null) => {
      const ids: string[] = [];
      let after: string | null = null;
      let last: Record<string, any> = {};
      for (let n = 0; n < 50; n++) {
        const r = await ask(Q, { after, s });
        last = r.data!.beneficiaries;
        ids.push(...last.nodes.map((x: { id: string }) => x.id));
        if (!last.pageInfo.hasNextPage) break;
        after = last.pageInfo.endCursor;
      }
      return { ids, last };
    };
    const fresh = await walk(null);
    expect(fresh.last.coverage).toEqual({ missing: [], stale: [] });
    expect(fresh.ids.length).toBeGreaterThan(200);
    await stack.sandbox.setFaults('001272=down');
    try {
      const lenient = await walk(600);
      expect(lenient.ids).toEqual(fresh.ids);
      expect(lenient.last.coverage.missing).toEqual([]);
      expect(lenient.last.coverage.stale).toEqual([{ city: { code: '001272' }, asOf: expect.any(String) }]);
      const strict = await walk(null);
      expect(strict.ids).toEqual([]);
      expect(strict.last.coverage.missing).toEqual([{ city: { code: '001272' } }]);
    } finally {
      await stack.sandbox.setFaults('');
    }
  });
});

describe('a walk over a flaky city', () => {
  it('loses no record, keeps its total from page to page, and ends with nothing missing', async () => {
    const cities = ['058091', '090064'];
    await stack.sandbox.setFaults('058091=flaky:0.3');
    const ids: string[] = [];
    const totals: number[] = [];
    let last: Record<string, any> = {};
    try {
      let after: string | null = null;
      for (let n = 0; n < 100; n++) {
        const r = await ask('query ($after: String) { beneficiaries(filter: { cities: ["058091", "090064"] }, first: 200, after: $after) { totalCount nodes { id } pageInfo { hasNextPage endCursor } coverage { missing { city { code } code reason } } } }', { after });
        last = r.data!.beneficiaries;
        totals.push(last.totalCount);
        ids.push(...last.nodes.map((x: { id: string }) => x.id));
        if (!last.pageInfo.hasNextPage) break;
        after = last.pageInfo.endCursor;
      }
    } finally {
      await stack.sandbox.setFaults('');
    }
    let valid = 0;
    for (const city of cities) valid += stack.sandbox.truth.get(city)!.quality.beneficiaries.accepted;
    expect(last.coverage.missing).toEqual([]);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe(valid);
    // Every page after the first (which may not have counted a city that failed) says the same total: what the walk returned.
    expect(new Set(totals.slice(1)).size).toBe(1);
    expect(totals[totals.length - 1]).toBe(valid);
  });
});

/** Resolves once the process has exited; fails the test if it has not within `ms`. */
async function exited(pid: number, ms = 15_000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    if (Date.now() > until) throw new Error(`process ${pid} still running after ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('SIGTERM', () => {
  it('lets a subgraph finish the query in flight before it exits', async () => {
    await stack.sandbox.setFaults('090064=slow:1500');
    try {
      const inFlight = ask('{ services(filter: { cities: ["090064"] }) { totalCount } }');
      await new Promise((resolve) => setTimeout(resolve, 400));
      process.kill(stack.pids.services, 'SIGTERM');
      const r = await inFlight;
      expect(r.errors).toBeUndefined();
      expect(r.data!.services.totalCount).toBeGreaterThan(0);
      await exited(stack.pids.services);
      // And, gone, it is named as such.
      const after = await ask('{ services { totalCount } }');
      expect(codes(after)).toEqual([['SUBGRAPH_UNAVAILABLE', 'services']]);
    } finally {
      await stack.sandbox.setFaults('');
    }
  });
});

describe('a subgraph that dies', () => {
  it('is named in a coded error while it is down, while the other subgraphs still answer, and is started again', async () => {
    const before = stack.pids.people;
    process.kill(before, 'SIGKILL');
    await exited(before);
    const r = await ask('{ cities { code } beneficiaries(first: 1) { totalCount } }');
    expect(r.status).toBe(200);
    expect(codes(r)).toEqual([['SUBGRAPH_UNAVAILABLE', 'people']]);
    expect(r.errors![0]!.message).toMatch(/people/);
    expect(r.data!.beneficiaries).toBeNull();
    expect(r.data!.cities.length).toBeGreaterThan(0);
    const health = await fetch(stack.healthUrl);
    expect(health.status).toBe(503);
    expect(((await health.json()) as { subgraphs: Record<string, string> }).subgraphs.people).toBe('unavailable');
    // Started again on the same port: the gateway finds it where it was.
    // (The services subgraph, stopped on purpose above, stays down: only people is waited for.)
    const peopleUp = async () => ((await (await fetch(stack.healthUrl)).json()) as { subgraphs: Record<string, string> }).subgraphs.people === 'ok';
    for (let i = 0; i < 200 && !(await peopleUp()); i++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await peopleUp()).toBe(true);
    expect(stack.pids.people).not.toBe(before);
    const again = await ask('{ beneficiaries(first: 1) { totalCount } }');
    expect(again.errors).toBeUndefined();
    expect(again.data!.beneficiaries.totalCount).toBeGreaterThan(0);
  });
});

describe('SIGTERM at the gateway', () => {
  // Last of all: the gateway is gone afterwards.
  it('lets the query in flight finish, then exits', async () => {
    await stack.sandbox.setFaults('090064=slow:1500');
    const inFlight = ask('{ housingResources(filter: { cities: ["090064"] }) { totalCount } }');
    await new Promise((resolve) => setTimeout(resolve, 400));
    process.kill(stack.pids.gateway, 'SIGTERM');
    const r = await inFlight;
    expect(r.status).toBe(200);
    expect(r.errors).toBeUndefined();
    expect(r.data!.housingResources.totalCount).toBeGreaterThan(0);
    await exited(stack.pids.gateway);
    await expect(fetch(stack.healthUrl)).rejects.toThrow();
  });
});
