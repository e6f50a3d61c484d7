import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canonicalJson, GENESIS, openAuditLog, operationHash, readAuditEntries, verifyAuditLog, type AuditRecord } from './audit.ts';

const script = fileURLToPath(new URL('../scripts/audit-verify.ts', import.meta.url));

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lgnet-audit-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A read of `n` records of one city, at a time `i` seconds into the day, so entries differ and sort by time. */
function record(i: number, over: Partial<AuditRecord> = {}): AuditRecord {
  const city = over.callerCity ?? '090064';
  return {
    time: new Date(Date.UTC(2025, 0, 15, 9, 0, i)).toISOString(),
    subject: `operator-${i}`,
    role: 'operator',
    callerCity: city,
    cities: [{ city, records: 2 }],
    fields: ['Beneficiary.givenName', 'Beneficiary.familyName'],
    records: 2,
    operation: operationHash(`query Q${i} { beneficiaries { nodes { givenName familyName } } }`),
    operationName: `Q${i}`,
    requestId: `req-${i}`,
    ...over,
  };
}

/** A log of `n` entries, closed; returns its path. */
async function logWith(n: number, name = 'people.jsonl', base = dir): Promise<string> {
  const log = await openAuditLog(join(base, name));
  for (let i = 1; i <= n; i++) await log.append(record(i));
  await log.close();
  return log.file;
}

const linesOf = (file: string) => readFileSync(file, 'utf8').split('\n').slice(0, -1);
const writeLines = (file: string, lines: string[]) => writeFileSync(file, lines.map((l) => `${l}\n`).join(''));

function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--experimental-strip-types', '--no-warnings', script, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the audit log', () => {
  it('chains appended entries from 64 zeros and verifies them', async () => {
    const log = await openAuditLog(join(dir, 'people.jsonl'));
    const first = await log.append(record(1));
    const second = await log.append(record(2));
    await log.close();
    expect(first).toMatchObject({ seq: 1, prev: GENESIS, subject: 'operator-1' });
    expect(second).toMatchObject({ seq: 2, prev: first.hash });
    expect(first.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(linesOf(log.file).map((l) => JSON.parse(l))).toEqual([first, second]);
    expect(await verifyAuditLog(log.file)).toEqual({ ok: true, entries: 2 });
  });

  it('stores fields sorted and leaves out properties an audit record does not have', async () => {
    const log = await openAuditLog(join(dir, 'people.jsonl'));
    const leaky = { ...record(1, { fields: ['Beneficiary.sex', 'Beneficiary.birthYear'] }), givenName: 'Maria' } as AuditRecord;
    const entry = await log.append(leaky);
    await log.close();
    expect(entry.fields).toEqual(['Beneficiary.birthYear', 'Beneficiary.sex']);
    expect(readFileSync(log.file, 'utf8')).not.toContain('Maria');
  });

  it('verifies whatever order the keys of an entry are written in', async () => {
    const file = await logWith(2);
    // Reverse every line's keys: the hash is over canonical JSON, so this is no change.
    writeLines(file, linesOf(file).map((l) => JSON.stringify(Object.fromEntries(Object.entries(JSON.parse(l)).reverse()))));
    expect(linesOf(file)[0]).toMatch(/^\{"hash"/);
    expect(await verifyAuditLog(file)).toEqual({ ok: true, entries: 2 });
  });

  it('creates its folder only the owner can enter and its file only the owner can read', async () => {
    if (process.platform === 'win32') return;
    const log = await openAuditLog(join(dir, 'audit', 'nested', 'people.jsonl'));
    await log.close();
    expect(statSync(join(dir, 'audit')).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'audit', 'nested')).mode & 0o777).toBe(0o700);
    expect(statSync(log.file).mode & 0o777).toBe(0o600);
  });

  it('resumes the chain when reopened: seq continues from the last line and the whole file verifies', async () => {
    const file = await logWith(3);
    const lastHash = JSON.parse(linesOf(file)[2]!).hash as string;
    const log = await openAuditLog(file);
    const next = await log.append(record(4));
    await log.close();
    expect(next).toMatchObject({ seq: 4, prev: lastHash });
    expect(await verifyAuditLog(file)).toEqual({ ok: true, entries: 4 });
  });

  it('resumes the chain when the last line is longer than the first read from the end of the file', async () => {
    const log = await openAuditLog(join(dir, 'people.jsonl'));
    await log.append(record(1));
    const long = await log.append(record(2, { operationName: 'Q'.repeat(300_000) }));
    await log.close();
    const again = await openAuditLog(log.file);
    expect(await again.append(record(3))).toMatchObject({ seq: 3, prev: long.hash });
    await again.close();
    expect(await verifyAuditLog(log.file)).toEqual({ ok: true, entries: 3 });
  });

  it('keeps the order and the chain of concurrent appends', async () => {
    const log = await openAuditLog(join(dir, 'people.jsonl'));
    const entries = await Promise.all(Array.from({ length: 50 }, (_, i) => log.append(record(i + 1))));
    await log.close();
    expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(linesOf(log.file).map((l) => JSON.parse(l).requestId)).toEqual(entries.map((e) => e.requestId));
    expect(await verifyAuditLog(log.file)).toEqual({ ok: true, entries: 50 });
  });

  it('rejects a record it could not be read back from, without breaking the chain', async () => {
    const log = await openAuditLog(join(dir, 'people.jsonl'));
    await expect(log.append(record(1, { time: '15/01/2025 09:00' }))).rejects.toThrow(/time must be ISO 8601 UTC/);
    await expect(log.append(record(1, { operation: 'query { x }' }))).rejects.toThrow(/operation must be the SHA-256/);
    expect(await log.append(record(2))).toMatchObject({ seq: 1 });
    await log.close();
    await expect(log.append(record(3))).rejects.toThrow(/is closed/);
    expect(await verifyAuditLog(log.file)).toEqual({ ok: true, entries: 1 });
  });

  it('refuses a second writer on the same file in one process', async () => {
    const log = await openAuditLog(join(dir, 'people.jsonl'));
    await expect(openAuditLog(join(dir, 'people.jsonl'))).rejects.toThrow(/already open in this process/);
    await log.close();
    await (await openAuditLog(join(dir, 'people.jsonl'))).close();
  });

  it('stops appending once another writer has changed the file behind it', async () => {
    const log = await openAuditLog(join(dir, 'people.jsonl'));
    await log.append(record(1));
    writeFileSync(log.file, readFileSync(log.file, 'utf8') + readFileSync(log.file, 'utf8'));
    await expect(log.append(record(2))).rejects.toThrow(/changed size behind this writer/);
    await expect(log.append(record(3))).rejects.toThrow(/changed size behind this writer/);
    await log.close();
    expect(linesOf(log.file)).toHaveLength(2);
  });

  it('verifies an empty file as a log with no entries, and refuses a missing file by name', async () => {
    writeFileSync(join(dir, 'empty.jsonl'), '');
    expect(await verifyAuditLog(join(dir, 'empty.jsonl'))).toEqual({ ok: true, entries: 0 });
    await expect(verifyAuditLog(join(dir, 'gone.jsonl'))).rejects.toThrow(/gone\.jsonl does not exist/);
  });
});

describe('verification names the first bad entry', () => {
  it('when one byte of a middle line was changed', async () => {
    const file = await logWith(6);
    const lines = linesOf(file);
    lines[2] = lines[2]!.replace('"operator-3"', '"operator-9"');
    writeLines(file, lines);
    expect(await verifyAuditLog(file)).toEqual({ ok: false, entries: 2, line: 3, seq: 3, problem: expect.stringMatching(/^changed: its hash does not match/) });
  });

  it('when a line was removed', async () => {
    const file = await logWith(6);
    const lines = linesOf(file);
    lines.splice(2, 1);
    writeLines(file, lines);
    expect(await verifyAuditLog(file)).toEqual({ ok: false, entries: 2, line: 3, seq: 4, problem: 'removed: seq 3 is missing before this line' });
  });

  it('when the first line was removed', async () => {
    const file = await logWith(3);
    writeLines(file, linesOf(file).slice(1));
    expect(await verifyAuditLog(file)).toEqual({ ok: false, entries: 0, line: 1, seq: 2, problem: 'removed: seq 1 is missing before this line' });
  });

  it('when a copy of another line was inserted', async () => {
    const file = await logWith(6);
    const lines = linesOf(file);
    lines.splice(4, 0, lines[1]!);
    writeLines(file, lines);
    expect(await verifyAuditLog(file)).toEqual({ ok: false, entries: 4, line: 5, seq: 2, problem: 'inserted: a copy of line 2 (seq 2)' });
  });

  it('when two lines were swapped', async () => {
    const file = await logWith(6);
    const lines = linesOf(file);
    [lines[2], lines[3]] = [lines[3]!, lines[2]!];
    writeLines(file, lines);
    expect(await verifyAuditLog(file)).toEqual({ ok: false, entries: 2, line: 3, seq: 4, problem: 'reordered: seq 3 belongs here but is at line 4' });
  });

  it('when the last line was cut short', async () => {
    const file = await logWith(6);
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.slice(0, -20));
    expect(await verifyAuditLog(file)).toEqual({ ok: false, entries: 5, line: 6, seq: 6, problem: expect.stringMatching(/^unreadable: cut short/) });
  });

  it('when an entry was rewritten with a fresh hash, at the entry after it', async () => {
    const file = await logWith(4);
    const lines = linesOf(file);
    const { hash: _, ...forged } = { ...JSON.parse(lines[1]!), subject: 'someone-else' };
    lines[1] = JSON.stringify({ ...forged, hash: createHash('sha256').update(`${forged.prev}\n${canonicalJson(forged)}`).digest('hex') });
    writeLines(file, lines);
    expect(await verifyAuditLog(file)).toEqual({ ok: false, entries: 2, line: 3, seq: 3, problem: expect.stringMatching(/^broken chain: prev is not the hash of line 2/) });
  });

  it('when a line is not JSON', async () => {
    const file = await logWith(3);
    const lines = linesOf(file);
    lines[1] = 'not an entry';
    writeLines(file, lines);
    expect(await verifyAuditLog(file)).toEqual({ ok: false, entries: 1, line: 2, seq: null, problem: 'unreadable: not JSON' });
  });
});

describe('a damaged log', () => {
  it('refuses to be opened for appending, naming the file and line, and is left as it was', async () => {
    const file = await logWith(3);
    const cut = readFileSync(file, 'utf8').slice(0, -5);
    writeFileSync(file, cut);
    await expect(openAuditLog(file)).rejects.toThrow(new RegExp(`${file.replace(/[.\\]/g, '\\$&')} line 3 \\(seq 3\\) is not a valid entry \\(unreadable: cut short`));
    expect(readFileSync(file, 'utf8')).toBe(cut);
  });

  it('refuses to be opened when its last line was changed', async () => {
    const file = await logWith(3);
    const lines = linesOf(file);
    lines[2] = lines[2]!.replace('"records":2', '"records":3');
    writeLines(file, lines);
    await expect(openAuditLog(file)).rejects.toThrow(/line 3 \(seq 3\) is not a valid entry \(changed/);
  });

  it('refuses to be opened when it ends in an empty line', async () => {
    const file = await logWith(2);
    writeFileSync(file, readFileSync(file, 'utf8') + '\n');
    await expect(openAuditLog(file)).rejects.toThrow(/line 3 is not a valid entry \(unreadable: empty line/);
  });
});

describe('reading entries back', () => {
  it('filters across every .jsonl file in a folder and returns them newest first', async () => {
    const people = await openAuditLog(join(dir, 'people.jsonl'));
    const services = await openAuditLog(join(dir, 'services.jsonl'));
    await people.append(record(1, { callerCity: '082053' }));
    await services.append(record(2, { callerCity: '090064' }));
    await people.append(record(3, { callerCity: '090064' }));
    await services.append(record(4, { callerCity: '082053' }));
    await services.append(record(5, { callerCity: '090064' }));
    await people.close();
    await services.close();
    // Neither a file of another kind nor a sub-folder is read.
    writeFileSync(join(dir, 'notes.txt'), 'not a log\n');
    mkdirSync(join(dir, 'old.jsonl'));

    const sassari = await readAuditEntries(dir, (e) => e.cities.some((c) => c.city === '090064'));
    expect(sassari.map((e) => e.requestId)).toEqual(['req-5', 'req-3', 'req-2']);
    expect(sassari.map((e) => e.seq)).toEqual([3, 2, 1]);
    expect((await readAuditEntries(dir, () => true)).map((e) => e.requestId)).toEqual(['req-5', 'req-4', 'req-3', 'req-2', 'req-1']);
  });

  it('skips a last line its writer has not finished', async () => {
    const file = await logWith(2, 'people.jsonl');
    writeFileSync(file, readFileSync(file, 'utf8') + '{"seq":3,"time":"2025-01-15T09:');
    expect((await readAuditEntries(dir, () => true)).map((e) => e.seq)).toEqual([2, 1]);
  });

  it('refuses a line that is not an entry, naming its file and line', async () => {
    const file = await logWith(2, 'people.jsonl');
    writeFileSync(file, readFileSync(file, 'utf8') + '{"oops"\n');
    await expect(readAuditEntries(dir, () => true)).rejects.toThrow(/people\.jsonl line 3 is not an audit entry/);
  });
});

describe('the audit:verify script', () => {
  it('exits 0 and counts the entries of every file in a good folder', async () => {
    await logWith(3, 'people.jsonl');
    await logWith(1, 'services.jsonl');
    const { code, stdout } = await run([dir]);
    expect(stdout).toBe('ok people.jsonl 3 entries\nok services.jsonl 1 entry\n');
    expect(code).toBe(0);
  });

  it('exits 1 naming the file and line when one file was tampered with', async () => {
    await logWith(2, 'people.jsonl');
    const file = await logWith(4, 'services.jsonl');
    const lines = linesOf(file);
    lines.splice(1, 1);
    writeLines(file, lines);
    const { code, stdout } = await run([dir]);
    expect(stdout).toBe('ok people.jsonl 2 entries\nBAD services.jsonl line 2 (seq 3): removed: seq 2 is missing before this line\n');
    expect(code).toBe(1);
  });

  it('reads LGNET_AUDIT_DIR when given no arguments', async () => {
    await logWith(2, 'people.jsonl');
    const { code, stdout } = await run([], { LGNET_AUDIT_DIR: dir });
    expect(stdout).toBe('ok people.jsonl 2 entries\n');
    expect(code).toBe(0);
  });

  it('exits 2 saying there is nothing to verify in a folder without logs or at a missing path', async () => {
    const empty = await run([dir]);
    expect(empty.stderr).toMatch(/nothing to verify: no \*\.jsonl files in/);
    expect(empty.code).toBe(2);
    const missing = await run([join(dir, 'nowhere')]);
    expect(missing.stderr).toMatch(/nothing to verify: .*nowhere does not exist/);
    expect(missing.code).toBe(2);
  });
});
