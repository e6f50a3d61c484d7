/**
 * Starts the whole system on loopback: the sandbox's city stand-ins, its
 * identity provider, the four subgraph processes and the gateway process,
 * and keeps them running: a process that dies is started again.
 * Used by `npm start` and by the end-to-end tests, so both run exactly the
 * same processes.
 *
 * The sandbox's secrets (the personKey key, the key of record ids and
 * cursors) are derived from its seed: the same seed gives the same
 * pseudonyms and ids on every start, as it gives the same people. The token
 * signing key is drawn anew on every start and never leaves this process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadCityConfigs } from '../adapters/config.ts';
import { PERSON_KEY_SECRET_ENV } from '../adapters/fleet.ts';
import { STOP_WITH_PARENT_ENV } from '../runtime/process.ts';
import { startSandbox, DEFAULT_SEED, type Sandbox } from '../sandbox/index.ts';
import { startSandboxIssuer, type SandboxIssuer, type TokenOptions } from '../sandbox/issuer.ts';
import { authConfigToEnv } from '../access/tokens.ts';
import type { Role } from '../access/caller.ts';
import { settingsEnv } from '../runtime/settings.ts';
import { subgraphNames, type SubgraphName } from '../schema/sdl.ts';

const root = fileURLToPath(new URL('../', import.meta.url));

export interface StackOptions {
  /** Gateway port; 0 = any free port. */
  port: number;
  /** Address the gateway listens on; default 127.0.0.1. Only the gateway: exposing it exposes nothing else. */
  host?: string;
  /** Address the subgraphs listen on; default 127.0.0.1 (they need to be reached by the gateway only). */
  subgraphHost?: string;
  /** Address the city stand-ins listen on; default 127.0.0.1 (they hold names and fiscal codes). */
  sandboxHost?: string;
  sandbox?: { seed?: number; scale?: number; faults?: string };
  /** Folder of the city configs the whole stack reads (sandbox and subgraphs); default adapters/cities/. */
  citiesDir?: string;
  /** Where the processes' logs go (each line is a JSON event). */
  onLog?: (line: string) => void;
  /** Time to wait for every process to be ready, in milliseconds. */
  readyTimeoutMs?: number;
  /** Folder of the audit trail. Default: a temporary folder, removed when the stack closes. */
  auditDir?: string;
  /** More environment for every process (e.g. limits). */
  env?: Record<string, string>;
}

export interface Stack {
  gatewayUrl: string;
  healthUrl: string;
  subgraphUrls: Record<SubgraphName, string>;
  sandbox: Sandbox;
  /** The sandbox's identity provider. */
  issuer: SandboxIssuer;
  /** A bearer token from the sandbox's identity provider. */
  token(role: Role, options?: TokenOptions): Promise<string>;
  auditDir: string;
  /** Process ids of the gateway and the subgraphs, by name (as now: a process that died and was started again has a new one). */
  pids: Record<SubgraphName | 'gateway', number>;
  /** How many times each process died and was started again. */
  restarts(): Record<SubgraphName | 'gateway', number>;
  /** The environment given to the subgraph processes (city endpoints and keys, the secrets). */
  env: Record<string, string>;
  close(): Promise<void>;
}

/** A sandbox secret, the same for the same seed and purpose. */
export function sandboxSecret(seed: number, purpose: string): string {
  return createHmac('sha256', 'lgnet-sandbox').update(`${purpose}:${seed}`).digest('base64url');
}

interface Child {
  proc: ChildProcess;
  url: Promise<string>;
}

function startProcess(script: string, args: string[], env: Record<string, string>, label: string, onLog: (l: string) => void): Child {
  // Node 22.12 to 22.17 run TypeScript only with the flag; later versions accept it as a no-op.
  const proc = spawn(process.execPath, ['--experimental-strip-types', script, ...args], {
    cwd: root,
    env: { ...process.env, ...env, [STOP_WITH_PARENT_ENV]: '1' },
    // stdin stays open as a lifeline: it closes when this process ends, however it ends.
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  createInterface({ input: proc.stderr! }).on('line', (l) => onLog(l));
  const url = new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: proc.stdout! });
    lines.on('line', (l) => {
      try {
        const msg = JSON.parse(l) as { ready?: string };
        if (msg.ready) resolve(msg.ready);
      } catch {
        onLog(l);
      }
    });
    proc.once('exit', (code) => reject(new Error(`${label} exited with code ${code} before it was ready`)));
  });
  url.catch(() => {});
  return { proc, url };
}

/** First pause before a process that died is started again, in milliseconds; doubled on each death in a row, up to the cap. */
const RESTART_DELAY_MS = 1_000;
const RESTART_DELAY_CAP_MS = 30_000;
/** A process that stays up this long is healthy again: the next death waits the first pause, in milliseconds. */
const RESTART_RESET_MS = 60_000;

/** A child process kept running: one that dies (a crash, a kill) is logged and started again, with backoff, on the same port. */
interface Supervised {
  readonly proc: ChildProcess;
  /** The URL of its first start. */
  readonly url: Promise<string>;
  /** How many times it was started again. */
  readonly restarts: number;
  stop(): Promise<void>;
}

function supervise(script: string, args: string[], env: Record<string, string>, label: string, onLog: (l: string) => void): Supervised {
  let current = startProcess(script, args, env, label, onLog);
  let stopping = false;
  let restarts = 0;
  let delay = RESTART_DELAY_MS;
  let startedAt = Date.now();
  let timer: NodeJS.Timeout | undefined;
  let port: string | undefined;
  const first = current.url;
  first.then((u) => (port = new URL(u).port), () => {});
  const event = (level: string, msg: string, data: Record<string, unknown>) =>
    onLog(JSON.stringify({ t: new Date().toISOString(), level, component: 'stack', msg, process: label, ...data }));
  const watch = (child: Child) => {
    let ended = false;
    const end = (code: number | null, signal: NodeJS.Signals | null, error?: Error) => {
      // A process that could not even be spawned emits 'error', perhaps with no 'exit': either ends it, once.
      if (ended || stopping) return;
      ended = true;
      // A clean exit is a deliberate stop (SIGTERM from an operator, say): it is not undone.
      if (code === 0) return event('warn', 'process stopped', { code });
      if (Date.now() - startedAt > RESTART_RESET_MS) delay = RESTART_DELAY_MS;
      event('error', 'process died; starting it again', { code, signal, delayMs: delay, ...(error ? { error: error.message } : {}) });
      timer = setTimeout(() => {
        if (stopping) return;
        restarts++;
        startedAt = Date.now();
        current = startProcess(script, args, { ...env, ...(port ? { PORT: port } : {}) }, label, onLog);
        current.url.then(() => event('info', 'process started again', { restarts }), () => {});
        watch(current);
      }, delay);
      delay = Math.min(delay * 2, RESTART_DELAY_CAP_MS);
    };
    child.proc.once('exit', (code, signal) => end(code, signal));
    child.proc.once('error', (e) => end(null, null, e));
  };
  watch(current);
  return {
    get proc() {
      return current.proc;
    },
    url: first,
    get restarts() {
      return restarts;
    },
    async stop() {
      stopping = true;
      clearTimeout(timer);
      await stopProcess(current.proc);
    },
  };
}

async function stopProcess(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const onLog = options.onLog ?? (() => {});
  const host = options.host ?? '127.0.0.1';
  const timeoutMs = options.readyTimeoutMs ?? 60_000;
  const seed = options.sandbox?.seed ?? DEFAULT_SEED;
  const sandbox = await startSandbox({
    ...options.sandbox,
    host: options.sandboxHost ?? '127.0.0.1',
    ...(options.citiesDir ? { configs: loadCityConfigs(options.citiesDir) } : {}),
  });
  // Tokens are minted on this machine only, whatever HOST says.
  const issuer = await startSandboxIssuer({ host: '127.0.0.1' });
  const ownAuditDir = options.auditDir ? null : mkdtempSync(join(tmpdir(), 'lgnet-audit-'));
  const auditDir = options.auditDir ?? ownAuditDir!;
  const children: Supervised[] = [];
  const close = async () => {
    await Promise.all(children.map((c) => c.stop()));
    await Promise.all([sandbox.close(), issuer.close()]);
    if (ownAuditDir) rmSync(ownAuditDir, { recursive: true, force: true });
  };
  // The wait for readiness is cancelled once the stack is ready or has failed, so that it holds no timer open after.
  const ready = new AbortController();
  try {
    const shared: Record<string, string> = {
      ...authConfigToEnv({ issuer: issuer.issuer, audience: issuer.audience, algorithms: issuer.algorithms, jwksUrl: issuer.jwksUrl }),
      // The sandbox is for trying the graph out: tools may read its schema.
      [settingsEnv.introspection]: '1',
      // And a browser opening the gateway's /graphql gets the query IDE.
      [settingsEnv.ide]: '1',
      // And the programme dashboard is at /dashboard.
      [settingsEnv.dashboard]: '1',
      ...options.env,
    };
    const env: Record<string, string> = {
      ...sandbox.env,
      ...shared,
      [PERSON_KEY_SECRET_ENV]: sandboxSecret(seed, 'person-key'),
      [settingsEnv.graphSecret]: sandboxSecret(seed, 'graph'),
      [settingsEnv.auditDir]: auditDir,
      ...(options.citiesDir ? { [settingsEnv.citiesDir]: options.citiesDir } : {}),
      HOST: options.subgraphHost ?? '127.0.0.1',
      PORT: '0',
    };
    const subgraphs = subgraphNames.map((name) => {
      const c = supervise('subgraphs/main.ts', [name], env, `subgraph ${name}`, onLog);
      children.push(c);
      return [name, c] as const;
    });
    const deadline = sleep(timeoutMs, undefined, { signal: ready.signal }).then(() => {
      throw new Error(`the stack was not ready within ${timeoutMs} ms`);
    });
    deadline.catch(() => {});
    const subgraphUrls = Object.fromEntries(
      await Promise.race([Promise.all(subgraphs.map(async ([name, c]) => [name, await c.url] as const)), deadline]),
    ) as Record<SubgraphName, string>;
    const gatewayEnv: Record<string, string> = { ...shared, HOST: host, PORT: String(options.port) };
    for (const name of subgraphNames) gatewayEnv[`LGNET_SUBGRAPH_${name.toUpperCase()}_URL`] = subgraphUrls[name];
    const gateway = supervise('gateway/main.ts', [], gatewayEnv, 'gateway', onLog);
    children.push(gateway);
    const gatewayUrl = await Promise.race([gateway.url, deadline]);
    const healthUrl = new URL('/health', gatewayUrl).toString();
    // Ready means /health says so: the gateway and every subgraph answer.
    for (;;) {
      const ok = await fetch(healthUrl).then((r) => r.ok, () => false);
      if (ok) break;
      await Promise.race([sleep(100), deadline]);
    }
    ready.abort();
    // Read when asked: a process started again has another pid.
    const pids = {} as Stack['pids'];
    for (const [name, c] of [...subgraphs, ['gateway', gateway] as const]) Object.defineProperty(pids, name, { get: () => c.proc.pid!, enumerable: true });
    const restarts = () => Object.fromEntries([...subgraphs, ['gateway', gateway] as const].map(([name, c]) => [name, c.restarts])) as ReturnType<Stack['restarts']>;
    return { gatewayUrl, healthUrl, subgraphUrls, sandbox, issuer, token: (role, o) => issuer.mint(role, o), auditDir, pids, restarts, env, close };
  } catch (e) {
    ready.abort();
    await close();
    throw e;
  }
}
