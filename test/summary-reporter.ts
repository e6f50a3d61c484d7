/**
 * Ends a test run with one plain line, `Tests: N passed, N failed, N skipped`,
 * that any CI can read whatever the runner.
 */
import type { Reporter, TestModule } from 'vitest/node';

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const counts = { passed: 0, failed: 0, skipped: 0 };
    for (const m of testModules) {
      let failedHere = 0;
      for (const t of m.children.allTests()) {
        const state = t.result().state;
        if (state === 'passed') counts.passed++;
        else if (state === 'failed') failedHere++;
        else counts.skipped++;
      }
      // A file can fail with no failed test (it did not load, or a beforeAll threw and its tests were skipped):
      // it still counts as a failure.
      counts.failed += failedHere > 0 ? failedHere : m.state() === 'failed' ? 1 : 0;
    }
    process.stdout.write(`\nTests: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`);
  }
}
