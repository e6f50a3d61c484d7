/**
 * The contract every city adapter must keep, run against every config file in
 * adapters/cities (a new file is checked without a line of test code) and the
 * city's stand-in in the sandbox: every record the city sends is either in
 * the graph or rejected with the reason the stand-in broke it for, look-ups
 * answer in key order, and one batch costs requests by batch, not by record.
 */
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCityConfigs } from '../adapters/config.ts';
import { createConnector } from '../adapters/connectors/index.ts';
import { createFleet, defaultCitiesDir, PERSON_KEY_SECRET_ENV, type Fleet } from '../adapters/fleet.ts';
import type { CityAdapter } from '../adapters/port.ts';
import { silentLogger } from '../runtime/logger.ts';
import { dialects } from '../sandbox/dialects.ts';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';
import { entityNames, type EntityName } from '../schema/records.ts';

// Every configured city that has a stand-in in the sandbox (a newly registered
// city may have neither system nor stand-in yet).
const configs = loadCityConfigs(defaultCitiesDir).filter((c) => dialects.some((d) => d.code === c.code));
let sandbox: Sandbox;
let fleet: Fleet;
const dispatcher = new Agent({ connections: 8 });

beforeAll(async () => {
  sandbox = await startSandbox({});
  fleet = createFleet({
    configs,
    env: { ...sandbox.env, [PERSON_KEY_SECRET_ENV]: 'contract-suite-secret-key' },
    deps: { dispatcher, now: Date.now, logger: silentLogger },
    createConnector,
  });
});
afterAll(async () => {
  await sandbox?.close();
  await dispatcher.close();
});

const expected = (city: string, entity: EntityName) => (sandbox.population.get(city) as unknown as Record<EntityName, Array<{ localId: string }>>)[entity];

describe.each(configs.map((c) => [`${c.code} ${c.name}`, c.code] as const))('the adapter of %s', (_label, code) => {
  let adapter: CityAdapter;
  beforeAll(() => {
    adapter = fleet.adapter(code)!;
  });

  it('serves the three domains from its sources', () => {
    expect([...adapter.domains].sort()).toEqual(['housing', 'people', 'services']);
  });

  it('accepts every record it is sent, except the broken ones, which it rejects with their reason', async () => {
    const quality = await adapter.dataQuality({});
    expect(quality.map((q) => q.entity).sort()).toEqual([...entityNames].sort());
    const broken = sandbox.broken.get(code) ?? [];
    for (const q of quality) {
      const sent = expected(code, q.entity);
      const brokenHere = broken.filter((b) => b.entity === q.entity);
      expect(q.received, q.entity).toBe(sent.length);
      expect(q.rejected, q.entity).toBe(brokenHere.length);
      const reasons: Record<string, number> = {};
      for (const b of brokenHere) reasons[b.reason] = (reasons[b.reason] ?? 0) + 1;
      expect(Object.fromEntries(q.reasons.map((r) => [r.code, r.count])), q.entity).toEqual(reasons);
    }
  });

  it('pages through its beneficiaries in a stable order, each once', async () => {
    const all = expected(code, 'beneficiaries');
    const seen: string[] = [];
    let offset = 0;
    let rejected = 0;
    for (;;) {
      const page = await adapter.list('beneficiaries', { offset, limit: 97 }, {});
      expect(page.total).toBe(all.length);
      seen.push(...page.items.map((b) => b.localId));
      rejected += page.rejected;
      if (page.nextOffset >= page.total) break;
      offset = page.nextOffset;
    }
    const brokenIds = new Set((sandbox.broken.get(code) ?? []).filter((b) => b.entity === 'beneficiaries').map((b) => b.localId));
    expect(seen).toEqual(all.map((b) => b.localId).filter((id) => !brokenIds.has(id)));
    expect(rejected).toBe(brokenIds.size);
  });

  it('answers look-ups by id in key order, with an error for an id it does not hold', async () => {
    const ids = expected(code, 'services').map((s) => s.localId).slice(0, 3);
    const result = await adapter.byId('services', [...ids, 'no-such-id'], {});
    expect(result).toHaveLength(ids.length + 1);
    const brokenIds = new Set((sandbox.broken.get(code) ?? []).filter((b) => b.entity === 'services').map((b) => b.localId));
    ids.forEach((id, i) => {
      const r = result[i]!;
      if (brokenIds.has(id)) expect(r).toMatchObject({ code: 'RECORD_REJECTED', city: code });
      else expect(r).toMatchObject({ localId: id, city: code });
    });
    expect(result[ids.length]).toBeInstanceOf(Error);
    expect((result[ids.length] as Error & { code: string }).code).toBe('NOT_FOUND');
  });

  it("returns each beneficiary's placements and enrolments with requests counted by batch", async () => {
    const beneficiaries = expected(code, 'beneficiaries').slice(0, 300).map((b) => b.localId);
    const pop = sandbox.population.get(code)!;
    const brokenIds = new Set((sandbox.broken.get(code) ?? []).map((b) => `${b.entity}:${b.localId}`));
    sandbox.resetRequestCounts();
    const [placements, enrollments] = await Promise.all([
      adapter.byBeneficiary('placements', beneficiaries, {}),
      adapter.byBeneficiary('enrollments', beneficiaries, {}),
    ]);
    // One batch each, however many records (a snapshot source may ask nothing at all).
    expect(sandbox.requestCount(code)).toBeLessThanOrEqual(2);
    beneficiaries.forEach((id, i) => {
      const want = (list: Array<{ localId: string; beneficiaryId: string }>, entity: string) =>
        list.filter((x) => x.beneficiaryId === id && !brokenIds.has(`${entity}:${x.localId}`)).map((x) => x.localId).sort();
      expect((placements[i] as Array<{ localId: string }>).map((p) => p.localId).sort()).toEqual(want(pop.placements, 'placements'));
      expect((enrollments[i] as Array<{ localId: string }>).map((p) => p.localId).sort()).toEqual(want(pop.enrollments, 'enrollments'));
    });
  });
});
