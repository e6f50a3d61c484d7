/**
 * The contract every city adapter must keep, run against every config file in
 * adapters/cities (a new file is checked without a line of test code) and the
 * city's stand-in in the sandbox: every record the city sends is either in
 * the graph or rejected as the sandbox's truth says (for the reason the
 * stand-in broke it for, or as PARENT_REJECTED when its person is), look-ups
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
import { startSandbox, type CityTruth, type Sandbox } from '../sandbox/index.ts';
import { RecordRejectedError } from '../schema/errors.ts';
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
const truthOf = (city: string): CityTruth => {
  const t = sandbox.truth.get(city);
  if (!t) throw new Error(`the sandbox has no truth for city ${city}`);
  return t;
};
const childEntities = ['enrollments', 'civicProjects', 'placements'] as const satisfies readonly EntityName[];

it("exercises every rejection rule: the sandbox's truth holds broken records and children rejected as PARENT_REJECTED", () => {
  // Without them, the comparisons below could not tell an adapter that rejects
  // nothing, or that keeps the children of a rejected person, from a good one.
  let broken = 0;
  let parentRejected = 0;
  for (const c of configs) {
    for (const entity of entityNames) {
      const q = truthOf(c.code).quality[entity];
      parentRejected += q.reasons.PARENT_REJECTED ?? 0;
      broken += q.rejected - (q.reasons.PARENT_REJECTED ?? 0);
    }
  }
  expect(broken).toBeGreaterThan(0);
  expect(parentRejected).toBeGreaterThan(0);
});

describe.each(configs.map((c) => [`${c.code} ${c.name}`, c.code] as const))('the adapter of %s', (_label, code) => {
  let adapter: CityAdapter;
  beforeAll(() => {
    adapter = fleet.adapter(code)!;
  });

  it('serves the three domains from its sources', () => {
    expect([...adapter.domains].sort()).toEqual(['housing', 'people', 'services']);
  });

  it("counts what it receives, accepts and rejects of each entity, by reason, as the sandbox's truth says: broken records for their defect, children of a rejected person as PARENT_REJECTED", async () => {
    const truth = truthOf(code);
    const quality = await adapter.dataQuality({});
    expect(quality.map((q) => q.entity).sort()).toEqual([...entityNames].sort());
    const brokenHere = new Set((sandbox.broken.get(code) ?? []).map((b) => `${b.entity}:${b.localId}`));
    const validPersons = new Set(expected(code, 'beneficiaries').map((b) => b.localId).filter((id) => !brokenHere.has(`beneficiaries:${id}`)));
    for (const q of quality) {
      const want = truth.quality[q.entity];
      // The truth is about what the city sends: every record of the population, nothing else.
      expect(want.received, q.entity).toBe(expected(code, q.entity).length);
      if ((childEntities as readonly string[]).includes(q.entity)) {
        // ...and it rejects, besides the broken ones, every child (not broken itself) of a person the city sent broken or not at all.
        const orphans = (expected(code, q.entity) as Array<{ localId: string; beneficiaryId: string }>)
          .filter((x) => !validPersons.has(x.beneficiaryId) && !brokenHere.has(`${q.entity}:${x.localId}`)).length;
        expect(want.reasons.PARENT_REJECTED ?? 0, q.entity).toBe(orphans);
      } else {
        expect(want.reasons.PARENT_REJECTED, q.entity).toBeUndefined();
      }
      expect({ received: q.received, accepted: q.accepted, rejected: q.rejected }, q.entity).toEqual({ received: want.received, accepted: want.accepted, rejected: want.rejected });
      expect(Object.fromEntries(q.reasons.map((r) => [r.code, r.count])), q.entity).toEqual(want.reasons);
      // Every field its file maps is in the records it sends: nothing to change in the file.
      expect(q.mappingProblems, q.entity).toEqual([]);
    }
  });

  it('pages through its beneficiaries in a stable order, each once', async () => {
    const truth = truthOf(code);
    const seen: string[] = [];
    let offset = 0;
    let rejected = 0;
    for (;;) {
      const page = await adapter.list('beneficiaries', { offset, limit: 97 }, {});
      expect(page.total).toBe(truth.quality.beneficiaries.received);
      seen.push(...page.items.map((b) => b.localId));
      rejected += page.rejected;
      if (page.nextOffset >= page.total) break;
      offset = page.nextOffset;
    }
    expect(seen).toEqual(truth.accepted.beneficiaries.map((b) => b.localId));
    expect(rejected).toBe(truth.quality.beneficiaries.rejected);
  });

  it('answers look-ups by id in key order, with an error for an id it does not hold', async () => {
    const truth = truthOf(code);
    // The first services, and a rejected one if the city has any.
    const ids = [...new Set([...expected(code, 'services').map((s) => s.localId).slice(0, 3), ...[...truth.rejected.services.keys()].slice(0, 1)])];
    const result = await adapter.byId('services', [...ids, 'no-such-id'], {});
    expect(result).toHaveLength(ids.length + 1);
    ids.forEach((id, i) => {
      const r = result[i]!;
      const reason = truth.rejected.services.get(id);
      if (reason !== undefined) {
        expect(r).toBeInstanceOf(RecordRejectedError);
        expect(r).toMatchObject({ code: 'RECORD_REJECTED', city: code, reason });
      } else {
        expect(r).toMatchObject({ localId: id, city: code });
      }
    });
    expect(result[ids.length]).toBeInstanceOf(Error);
    expect((result[ids.length] as Error & { code: string }).code).toBe('NOT_FOUND');
  });

  it("returns each beneficiary's placements and enrolments with requests counted by batch, only the accepted ones", async () => {
    const truth = truthOf(code);
    // The first people the city sends, and every one it sends broken (whose children are all rejected).
    const beneficiaries = [...new Set([...expected(code, 'beneficiaries').slice(0, 300).map((b) => b.localId), ...truth.rejected.beneficiaries.keys()])];
    sandbox.resetRequestCounts();
    // One request of the graph: its calls share a context.
    const call = {};
    const [placements, enrollments] = await Promise.all([
      adapter.byBeneficiary('placements', beneficiaries, call),
      adapter.byBeneficiary('enrollments', beneficiaries, call),
    ]);
    // One batch each, and one of the persons themselves (whose children count only if they are
    // valid), however many records; a snapshot source may ask nothing at all.
    expect(sandbox.requestCount(code)).toBeLessThanOrEqual(3);
    const want = (list: ReadonlyArray<{ localId: string; beneficiaryId: string }>, id: string) =>
      list.filter((x) => x.beneficiaryId === id).map((x) => x.localId).sort();
    beneficiaries.forEach((id, i) => {
      expect((placements[i] as Array<{ localId: string }>).map((p) => p.localId).sort(), `placements of ${id}`).toEqual(want(truth.accepted.placements, id));
      expect((enrollments[i] as Array<{ localId: string }>).map((p) => p.localId).sort(), `enrollments of ${id}`).toEqual(want(truth.accepted.enrollments, id));
    });
  });
});
