/**
 * `npm run adapter:check -- <city>`: a city IT team's conformance check of
 * its adapter against its live system (adapters/conformance.ts), printed as
 * a report of what to fix.
 *
 * Endpoints and keys: from the running sandbox (`npm start`, found through
 * its state file as `npm run token` finds it), else from this process's
 * environment (LGNET_<code>_<SOURCE>_URL / _KEY).
 *
 * Exit codes: 0 nothing FAILs; 1 a check FAILs; 2 usage (unknown city, no
 * running sandbox and no environment for the city).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Agent } from 'undici';
import { CityConfig } from '../adapters/config.ts';
import { cityFileOf, runConformance, worstStatus, UnknownCityError, type ConformanceReport } from '../adapters/conformance.ts';
import { defaultCitiesDir } from '../adapters/fleet.ts';
import { silentLogger } from '../runtime/logger.ts';
import { readSandboxState, sandboxStatePath } from '../sandbox/issuer.ts';

const usage = `Usage: npm run adapter:check -- <ISTAT code> [--sample N]

Checks the city's adapter (adapters/cities/<code>-<name>.json) against its live system:
the file, each source's variables, reachability and key, a sample of each entity
mapped and validated, and the whole data quality. Endpoints and keys come from the
running sandbox (npm start) or, without one, from the environment.

Exit codes: 0 nothing fails, 1 a check fails, 2 usage.`;

function fail(message: string): never {
  process.stderr.write(`${message}\n\n${usage}\n`);
  process.exit(2);
}

let parsed;
try {
  parsed = parseArgs({ args: process.argv.slice(2), allowPositionals: true, strict: true, options: { sample: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
} catch (e) {
  fail((e as Error).message);
}
if (parsed.values.help) {
  process.stdout.write(usage + '\n');
  process.exit(0);
}
if (parsed.positionals.length !== 1) fail(parsed.positionals.length === 0 ? 'Give the city, its six-digit ISTAT code.' : 'Give one city only.');
const city = parsed.positionals[0]!;
if (!/^\d{6}$/.test(city)) fail(`"${city}" is not an ISTAT code: six digits, e.g. 090064`);
const file = cityFileOf(city);
if (!file) fail(`Unknown city ${city}: no file ${city}-<name>.json in ${defaultCitiesDir}`);
const sampleSize = parsed.values.sample === undefined ? 200 : Number(parsed.values.sample);
if (!Number.isInteger(sampleSize) || sampleSize < 1 || sampleSize > 10_000) fail('--sample must be a whole number from 1 to 10000');

/** The running sandbox's city endpoints and keys, or why there are none. */
function sandboxEnv(): { env: Record<string, string>; where: string } | null {
  const path = sandboxStatePath();
  const state = readSandboxState(path);
  if (!state) return null;
  try {
    process.kill(state.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return null;
  }
  // The city systems' env sits beside what readSandboxState returns.
  const raw = JSON.parse(readFileSync(path, 'utf8')) as { cityEnv?: unknown };
  if (!raw.cityEnv || typeof raw.cityEnv !== 'object') return null;
  return { env: raw.cityEnv as Record<string, string>, where: `the running sandbox (${path}, npm start pid ${state.pid})` };
}

/** The variables the city's file references (its endpoints and keys); empty when the file does not parse. */
function cityVariables(): string[] {
  try {
    const c = CityConfig.parse(JSON.parse(readFileSync(`${defaultCitiesDir}/${file}`, 'utf8')));
    return c.sources.flatMap((s) => [...(typeof s.baseUrl === 'string' ? [] : [s.baseUrl.env]), ...(s.auth ? [s.auth.key.env] : [])]);
  } catch {
    return [];
  }
}

const sandbox = sandboxEnv();
let env: Record<string, string | undefined>;
let where: string;
if (sandbox) {
  env = { ...process.env, ...sandbox.env };
  where = sandbox.where;
} else {
  const vars = cityVariables();
  if (vars.length > 0 && !vars.some((v) => process.env[v])) {
    fail(`No running sandbox (npm start) and none of ${vars.join(', ')} is set: nothing tells where city ${city}'s system is.`);
  }
  env = process.env;
  where = 'this process\'s environment';
}

const dispatcher = new Agent({ connections: 8, keepAliveTimeout: 1_000 });
let report: ConformanceReport;
try {
  report = await runConformance(city, { env, deps: { dispatcher, now: Date.now, logger: silentLogger }, sampleSize });
} catch (e) {
  if (e instanceof UnknownCityError) fail(e.message);
  throw e;
} finally {
  await dispatcher.close();
}

const mark = { PASS: 'PASS', WARN: 'WARN', FAIL: 'FAIL' } as const;
const lines: string[] = [];
lines.push(`Adapter check of ${report.city}${report.name ? ` ${report.name}` : ''} (adapters/cities/${report.file})`);
lines.push(`Endpoints and keys from ${where}; sample of ${sampleSize} records per entity.`);
// The city's own checks, then each source's, in the order they ran.
const groups = new Map<string | undefined, typeof report.checks>();
for (const c of report.checks) groups.set(c.source, [...(groups.get(c.source) ?? []), c]);
const ordered = [...(groups.get(undefined) ?? []), ...[...groups].filter(([s]) => s !== undefined).flatMap(([, cs]) => cs)];
let lastSource: string | undefined = '\u0000';
for (const c of ordered) {
  if (c.source !== lastSource) {
    lines.push('');
    lines.push(c.source ? `source "${c.source}"` : 'city');
    lastSource = c.source;
  }
  const label = [c.entity, c.check].filter(Boolean).join(' ');
  lines.push(`  ${mark[c.status]}  ${label.padEnd(26)} ${c.detail}`);
  if (c.fix) lines.push(`        ${''.padEnd(26)} fix: ${c.fix}`);
}
const counts = { PASS: 0, WARN: 0, FAIL: 0 };
for (const c of report.checks) counts[c.status]++;
const worst = worstStatus(report);
lines.push('');
lines.push(`${worst}: ${counts.FAIL} failed, ${counts.WARN} warning(s), ${counts.PASS} passed. ${worst === 'FAIL' ? `Fix the FAIL lines above, in adapters/cities/${report.file} or in the environment.` : `City ${report.city}'s adapter conforms.`}`);
process.stdout.write(lines.join('\n') + '\n');
process.exit(worst === 'FAIL' ? 1 : 0);
