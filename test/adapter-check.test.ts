/**
 * `npm run adapter:check` against the sandbox's city systems: every city the
 * sandbox serves conforms, a refused key and a renamed field are caught and
 * named, and the command itself reports and exits as it says.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCityConfigs } from '../adapters/config.ts';
import { runConformance } from '../adapters/conformance.ts';
import { defaultCitiesDir } from '../adapters/fleet.ts';
import { silentLogger } from '../runtime/logger.ts';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';

const root = fileURLToPath(new URL('../', import.meta.url));
const dispatcher = new Agent({ connections: 8 });
let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await startSandbox({});
});
afterAll(async () => {
  await sandbox?.close();
  await dispatcher.close();
});

const check = (city: string) => runConformance(city, { env: sandbox.env, deps: { dispatcher, now: Date.now, logger: silentLogger } });

/** A city of the sandbox with a REST source serving beneficiaries, and the column its intake channel is read from. */
function restCity(): { code: string; column: string } {
  const served = new Set(sandbox.truth.keys());
  for (const c of loadCityConfigs(defaultCitiesDir)) {
    if (!served.has(c.code)) continue;
    const s = c.sources.find((s) => s.kind === 'rest' && s.entities.beneficiaries);
    const column = (s?.entities.beneficiaries as { fields: Record<string, string> } | undefined)?.fields.intakeChannel;
    if (column && /^[\w]+$/.test(column)) return { code: c.code, column };
  }
  throw new Error('the sandbox serves no REST city');
}

function runCommand(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--experimental-strip-types', join(root, 'scripts/adapter-check.ts'), ...args], { cwd: root, env, timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr });
    });
  });
}

describe('the adapter check against the sandbox', () => {
  it('passes every city the sandbox serves: no check fails', async () => {
    const cities = [...sandbox.truth.keys()];
    expect(cities.length).toBeGreaterThan(1);
    const reports = await Promise.all(cities.map(check));
    for (const report of reports) {
      const failed = report.checks.filter((c) => c.status === 'FAIL').map((c) => `${c.source}/${c.entity ?? '-'} ${c.check}: ${c.detail}`);
      expect(failed, `city ${report.city}`).toEqual([]);
      // Every entity the sandbox serves for the city was sampled and its whole quality read.
      const entities = Object.keys(sandbox.truth.get(report.city)!.quality).sort();
      expect(report.checks.filter((c) => c.check === 'quality').map((c) => c.entity).sort(), `city ${report.city}`).toEqual(entities);
      expect(report.checks.filter((c) => c.check === 'sample').map((c) => c.entity).sort(), `city ${report.city}`).toEqual(entities);
    }
  });

  it("fails a city whose system refuses the key, naming the key's variable", async () => {
    const { code } = restCity();
    await sandbox.setFaults(`${code}=auth`);
    try {
      const report = await check(code);
      const reachable = report.checks.find((c) => c.check === 'reachable')!;
      expect(reachable.status).toBe('FAIL');
      expect(reachable.detail).toContain(`the key in LGNET_${code}_MAIN_KEY is refused`);
    } finally {
      await sandbox.setFaults('');
    }
  });

  it('fails a REST city whose system renamed a field, naming fields.<canonical> and the column', async () => {
    const { code, column } = restCity();
    await sandbox.setFaults(`${code}=rename:${column}`);
    try {
      const report = await check(code);
      const fields = report.checks.find((c) => c.check === 'fields' && c.entity === 'beneficiaries')!;
      expect(fields.status).toBe('FAIL');
      expect(fields.detail).toContain(`fields.intakeChannel names \`${column}\`, which the system does not send`);
      expect(report.checks.find((c) => c.check === 'quality' && c.entity === 'beneficiaries')!.status).toBe('FAIL');
    } finally {
      await sandbox.setFaults('');
    }
  });

  it('runs as a command: given the city system in its environment, it prints a report naming the city, and exits 1 on a failure and 2 without a system to check', async () => {
    const { code } = restCity();
    const base = { PATH: process.env.PATH ?? '', LGNET_SANDBOX_STATE: join(root, 'data', 'sandbox', 'no-such-state.json') };
    const cityEnv = Object.fromEntries(Object.entries(sandbox.env).filter(([k]) => k.startsWith(`LGNET_${code}_`)));
    await sandbox.setFaults(`${code}=auth`);
    try {
      const failing = await runCommand([code], { ...base, ...cityEnv });
      expect(failing.stderr).toBe('');
      expect(failing.code).toBe(1);
      expect(failing.stdout).toContain(`Adapter check of ${code}`);
      expect(failing.stdout).toMatch(new RegExp(`FAIL +reachable +the key in LGNET_${code}_MAIN_KEY is refused`));
      expect(failing.stdout).toContain("Endpoints and keys from this process's environment");
    } finally {
      await sandbox.setFaults('');
    }
    const usage = await runCommand([code], base);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain(`LGNET_${code}_MAIN_URL`);
  });
});
