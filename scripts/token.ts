/**
 * `npm run --silent token -- <role> [...]`: a token from the running sandbox's
 * issuer (started by `npm start`), printed alone on stdout so that
 * `TOKEN=$(npm run --silent token -- analyst)` works.
 *
 * Exit codes: 0 token printed; 1 no running sandbox (or it failed); 2 usage.
 */
import { parseArgs } from 'node:util';
import { roles } from '../access/caller.ts';
import { checkTokenRequest, defaultTtlSec, maxTtlSec, readSandboxState, sandboxStatePath } from '../sandbox/issuer.ts';

const usage = `Usage: npm run --silent token -- <${roles.join('|')}> [--city <ISTAT code>] [--subject S] [--ttl SECONDS]

Prints a token from the running sandbox (npm start) for the role, on stdout:
  TOKEN=$(npm run --silent token -- operator --city 090064)
  curl -H "Authorization: Bearer $TOKEN" ...

  --city     an operator's city, the six-digit ISTAT code (required for operator, refused for other roles)
  --subject  who the token is for (default sandbox-<role>, or sandbox-operator-<city>)
  --ttl      lifetime in seconds, 1 to ${maxTtlSec} (default ${defaultTtlSec}, 8 h)`;

const noSandbox = 'No running sandbox: start it with npm start';

function fail(code: 1 | 2, message: string): never {
  process.stderr.write(`${message}\n${code === 2 ? `\n${usage}\n` : ''}`);
  process.exit(code);
}

let parsed;
try {
  parsed = parseArgs({
    args: process.argv.slice(2),
    allowPositionals: true,
    strict: true,
    options: {
      city: { type: 'string' },
      subject: { type: 'string' },
      ttl: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
} catch (e) {
  fail(2, (e as Error).message);
}
const { values, positionals } = parsed;
if (values.help) {
  process.stdout.write(usage + '\n');
  process.exit(0);
}
if (positionals.length !== 1) fail(2, positionals.length === 0 ? 'Give the role.' : 'Give one role only.');

const role = positionals[0]!;
if (!(roles as readonly string[]).includes(role)) fail(2, `Unknown role "${role}": the roles are ${roles.join(', ')}`);
if (role === 'operator' && (values.city === undefined || !/^\d{6}$/.test(values.city))) {
  fail(2, "An operator token needs --city, the six-digit ISTAT code of the operator's city, e.g. 090064");
}
if (role !== 'operator' && values.city !== undefined) fail(2, `--city is for operator tokens only: role ${role} sees every city`);
let ttlSec: number | undefined;
if (values.ttl !== undefined) {
  ttlSec = /^\d+$/.test(values.ttl) ? Number(values.ttl) : NaN;
  if (!(ttlSec >= 1 && ttlSec <= maxTtlSec)) fail(2, `--ttl must be a whole number of seconds from 1 to ${maxTtlSec}`);
}
const body = {
  role,
  ...(values.city !== undefined ? { city: values.city } : {}),
  ...(values.subject !== undefined ? { subject: values.subject } : {}),
  ...(ttlSec !== undefined ? { ttlSec } : {}),
};
// The issuer's own rules (the subject's, here), so a bad command is refused without a sandbox running.
const checked = checkTokenRequest(body);
if (!checked.ok) fail(2, checked.error);

const statePath = sandboxStatePath();
const state = readSandboxState(statePath);
if (!state) fail(1, `${noSandbox} (no sandbox state at ${statePath})`);
try {
  // Signal 0 only asks whether the process exists: a crashed `npm start` leaves its file behind.
  process.kill(state.pid, 0);
} catch (e) {
  if ((e as NodeJS.ErrnoException).code === 'ESRCH') fail(1, `${noSandbox} (process ${state.pid} from ${statePath} is gone)`);
}

let res: Response;
try {
  res = await fetch(state.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(checked.request),
    signal: AbortSignal.timeout(5_000),
  });
} catch {
  fail(1, `${noSandbox} (the token issuer at ${state.tokenUrl} does not answer)`);
}
const answer = (await res.json().catch(() => null)) as { token?: unknown; error?: unknown } | null;
if (res.status === 400) fail(2, `Refused: ${String(answer?.error ?? 'bad request')}`);
if (res.status !== 200 || typeof answer?.token !== 'string') fail(1, `The sandbox's token issuer answered HTTP ${res.status} without a token`);
process.stdout.write(answer.token + '\n');
