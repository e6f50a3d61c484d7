/**
 * A one-minute soak: the whole stack under concurrent national queries while
 * city faults come and go (scripts/soak.ts, the same run as `npm run soak`).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { runSoak, type SoakReport } from '../scripts/soak.ts';

let report: SoakReport;

beforeAll(async () => {
  // The load lasts 60 s; starting the stack, the walks in flight at the end and the final walk added 5 to 12 s on a
  // 2-core machine. The rest of the 150 s is room for a slower one.
  report = await runSoak({ durationMs: 60_000, concurrency: 3, seed: 7 });
}, 150_000);

describe('a one-minute soak with faults coming and going', () => {
  it('serves requests and applies faults while it runs', () => {
    expect(report.requests.served).toBeGreaterThan(0);
    expect(report.faults.applied).toBeGreaterThan(0);
    // The faults were felt: cities were reported failing.
    expect(Object.keys(report.errorsByCode).some((code) => code.startsWith('CITY_'))).toBe(true);
  });

  it('meets no error a city fault does not explain', () => {
    expect(report.unexpectedErrors.samples, `unexpected errors: ${JSON.stringify(report.unexpectedErrors.byCode)}`).toEqual([]);
    expect(report.unexpectedErrors.count).toBe(0);
  });

  it('loses no record, returns none twice and none the sandbox does not hold, in every walk that ended', () => {
    // Without completed walks there would be nothing to reconcile.
    expect(report.walks.completed).toBeGreaterThan(0);
    expect(report.recordsLost).toEqual({});
    expect(report.unexpectedRecords).toEqual({});
    expect(report.duplicates).toBe(0);
  });

  it('reports totals and data quality that agree with the sandbox for the cities that answered', () => {
    expect(report.countMismatches.samples).toEqual([]);
  });

  it('ends with a clean walk that is complete and reconciled', () => {
    expect(report.finalWalk.abandoned).toBeUndefined();
    expect(report.finalWalk.complete, JSON.stringify(report.finalWalk.missing)).toBe(true);
    expect(report.finalWalk.reconciled).toBe(true);
    expect(report.finalWalk.records).toBeGreaterThan(0);
  });

  it('keeps every process running, none started again, and the gateway healthy', () => {
    expect(Object.values(report.alive).every(Boolean), JSON.stringify(report.alive)).toBe(true);
    expect(Object.values(report.restarts).every((n) => n === 0), JSON.stringify(report.restarts)).toBe(true);
    expect(report.health).toBe(200);
  });

  it('passes as a whole, with no problem listed', () => {
    expect(report.problems).toEqual([]);
    expect(report.passed).toBe(true);
  });
});
