/**
 * `npm run audit:verify [DIR_OR_FILE...]`: checks the hash chain of audit logs
 * and prints one line per file, `ok people.jsonl 1234 entries` or
 * `BAD people.jsonl line 17 (seq 17): <problem>`.
 *
 * Without arguments it checks every `*.jsonl` in `LGNET_AUDIT_DIR`, or else in
 * `data/audit/` of this repository.
 *
 * Exit code: 0 when every file is good, 1 when any file is bad or cannot be
 * read, 2 on a usage error or when there is nothing to verify (a missing path,
 * a folder with no `*.jsonl`): a check that checked nothing must not pass.
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { verifyAuditLog } from '../access/audit.ts';

const usage = `Usage: node --experimental-strip-types scripts/audit-verify.ts [DIR_OR_FILE...]
Verifies the hash chain of audit logs (*.jsonl). Without arguments: every *.jsonl in
$LGNET_AUDIT_DIR, or else in data/audit/ of this repository.
Exit code: 0 all good, 1 some file bad, 2 usage error or nothing to verify.`;

function fail(message: string): never {
  console.error(`audit-verify: ${message}`);
  process.exit(2);
}

const args = process.argv.slice(2);
if (args.includes('-h') || args.includes('--help')) {
  console.log(usage);
  process.exit(0);
}
const option = args.find((a) => a.startsWith('-'));
if (option) fail(`unknown option ${option}\n${usage}`);

const defaultDir = process.env.LGNET_AUDIT_DIR || fileURLToPath(new URL('../data/audit/', import.meta.url));
const paths = args.length > 0 ? args : [defaultDir];

/** Each file to check, with the name it is printed under. */
const targets: Array<{ file: string; label: string }> = [];
for (const path of paths) {
  const s = await stat(path).catch(() => fail(`nothing to verify: ${path} does not exist`));
  if (s.isDirectory()) {
    const names = (await readdir(path, { withFileTypes: true }))
      .filter((d) => d.isFile() && d.name.endsWith('.jsonl'))
      .map((d) => d.name)
      .sort();
    if (names.length === 0) fail(`nothing to verify: no *.jsonl files in ${path}`);
    // One folder: the file names say enough. Several: keep the folder, as names may repeat.
    for (const name of names) targets.push({ file: join(path, name), label: paths.length === 1 ? name : join(path, name) });
  } else if (s.isFile()) {
    targets.push({ file: path, label: paths.length === 1 ? basename(path) : path });
  } else {
    fail(`${path} is neither a file nor a folder`);
  }
}

let bad = 0;
for (const { file, label } of targets) {
  try {
    const result = await verifyAuditLog(file);
    if (result.ok) {
      console.log(`ok ${label} ${result.entries} ${result.entries === 1 ? 'entry' : 'entries'}`);
    } else {
      bad++;
      console.log(`BAD ${label} line ${result.line}${result.seq === null ? '' : ` (seq ${result.seq})`}: ${result.problem}`);
    }
  } catch (e) {
    // A log that cannot be read is not a log that is known to be good.
    bad++;
    console.log(`BAD ${label}: ${(e as Error).message}`);
  }
}
process.exitCode = bad > 0 ? 1 : 0;
