/**
 * Adding a city on a connector the project has is one JSON file: here a
 * 25th city (Reggio di Calabria, as LGNet3's unnamed 22nd might be), written
 * only as a config, joins the registry, its system is stood in for by the
 * sandbox from that same file, and it answers national questions through the
 * gateway, over HTTP, like every other city.
 */
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCityConfigs } from '../adapters/config.ts';
import { defaultCitiesDir } from '../adapters/fleet.ts';
import { startStack, type Stack } from '../scripts/stack.ts';
import { gql } from './helpers.ts';

const fixture = fileURLToPath(new URL('./fixtures/080063-reggio-di-calabria.json', import.meta.url));
const CODE = '080063';
const registered = loadCityConfigs(defaultCitiesDir);

let dir: string;
let stack: Stack;
let analyst: string;
const ask = (query: string, variables?: Record<string, unknown>) => gql(stack.gatewayUrl, query, variables, { authorization: `Bearer ${analyst}` });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lgnet-cities-'));
  for (const file of readdirSync(defaultCitiesDir)) copyFileSync(join(defaultCitiesDir, file), join(dir, file));
  copyFileSync(fixture, join(dir, '080063-reggio-di-calabria.json'));
  stack = await startStack({ port: 0, citiesDir: dir });
  analyst = await stack.token('analyst');
});
afterAll(async () => {
  await stack?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a city added as one JSON file', () => {
  it('is in the registry beside every configured city, with the kind of system its file names', async () => {
    const r = await ask(`{ cities { code name editions source { kind status } } }`);
    expect(r.errors).toBeUndefined();
    const cities = r.data!.cities as Array<{ code: string; name: string; editions: string[]; source: { kind: string; status: string } }>;
    expect(cities.map((c) => c.code).sort()).toEqual([...registered.map((c) => c.code), CODE].sort());
    expect(cities.find((c) => c.code === CODE)).toMatchObject({ code: CODE, name: 'Reggio di Calabria', editions: ['LGNET3'], source: { kind: 'REST' } });
  });

  it("answers a national walk with exactly the records the sandbox served from its file, its broken ones counted as rejected", async () => {
    const expected = stack.sandbox.truth.get(CODE)!.accepted.beneficiaries.length;
    expect(expected).toBeGreaterThan(0);
    const ids: string[] = [];
    let after: string | null = null;
    let totalCount = 0;
    for (;;) {
      const r = await ask(
        `query ($after: String) { beneficiaries(filter: { cities: ["${CODE}"] }, first: 200, after: $after) {
          totalCount nodes { id city { code } } pageInfo { hasNextPage endCursor } coverage { citiesAnswered rejected }
        } }`,
        { after },
      );
      expect(r.errors).toBeUndefined();
      const conn = r.data!.beneficiaries;
      totalCount = conn.totalCount;
      ids.push(...conn.nodes.map((n: { id: string; city: { code: string } }) => (expect(n.city.code).toBe(CODE), n.id)));
      if (!conn.pageInfo.hasNextPage) break;
      after = conn.pageInfo.endCursor;
    }
    expect(new Set(ids).size).toBe(expected);
    expect(totalCount).toBe(expected);
  });

  it('reports its data quality: every record it sent is accepted or rejected with a reason', async () => {
    const r = await ask(`{ cities { code dataQuality { entity received accepted rejected } } }`);
    expect(r.errors).toBeUndefined();
    const city = (r.data!.cities as Array<{ code: string; dataQuality: Array<{ entity: string; received: number; accepted: number; rejected: number }> }>).find((c) => c.code === CODE)!;
    const truth = stack.sandbox.truth.get(CODE)!;
    for (const q of city.dataQuality) {
      const own = truth.quality[q.entity as keyof typeof truth.quality];
      expect({ entity: q.entity, received: q.received, accepted: q.accepted, rejected: q.rejected }).toEqual({ entity: q.entity, received: own.received, accepted: own.accepted, rejected: own.rejected });
      expect(q.received).toBe(q.accepted + q.rejected);
    }
    // Once its records are swept, its status says whether more than the default share (0.2) of one kind was rejected, as for any city.
    const status = Object.values(truth.quality).some((q) => q.received > 0 && q.rejected / q.received > 0.2) ? 'DEGRADED' : 'UP';
    const again = await ask(`{ cities { code source { status } } }`);
    expect((again.data!.cities as Array<{ code: string; source: { status: string } }>).find((c) => c.code === CODE)!.source.status).toBe(status);
  });
});
