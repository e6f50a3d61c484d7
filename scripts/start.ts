/**
 * `npm start`: the sandbox's city stand-ins, the four subgraphs and the
 * gateway, on this machine. Ctrl-C stops them all.
 *
 * Environment: PORT (gateway, default 4000), HOST (the gateway's address, default 127.0.0.1),
 * LGNET_SUBGRAPH_HOST and SANDBOX_HOST (default 127.0.0.1), SANDBOX_SCALE (default 1),
 * SANDBOX_SEED, SANDBOX_FAULTS (e.g. `090064=down,015146=slow:5000`),
 * LOG=1 to print the processes' logs.
 */
import { removeSandboxState, writeSandboxState } from '../sandbox/issuer.ts';
import { defaultAuditDir } from '../runtime/settings.ts';
import { startStack } from './stack.ts';

const port = Number(process.env.PORT ?? 4000);
const host = process.env.HOST ?? '127.0.0.1';
const started = Date.now();
console.log('Starting the LGNet sandbox, subgraphs and gateway...');
const stack = await startStack({
  port,
  host,
  subgraphHost: process.env.LGNET_SUBGRAPH_HOST || undefined,
  sandboxHost: process.env.SANDBOX_HOST || undefined,
  // The sandbox keeps its audit trail across starts, in a folder git ignores.
  auditDir: process.env.LGNET_AUDIT_DIR || defaultAuditDir,
  sandbox: {
    scale: process.env.SANDBOX_SCALE ? Number(process.env.SANDBOX_SCALE) : undefined,
    seed: process.env.SANDBOX_SEED ? Number(process.env.SANDBOX_SEED) : undefined,
    faults: process.env.SANDBOX_FAULTS,
  },
  // Errors always show (a port in use, a city without configuration); the rest with LOG=1.
  onLog: (l) => {
    if (process.env.LOG || l.includes('"level":"error"')) console.error(l);
  },
}).catch((e: Error) => {
  console.error(`Could not start: ${e.message}`);
  process.exit(1);
});

// Where `npm run token` finds this sandbox's identity provider.
// And where `npm run adapter:check` finds the city systems (their endpoints and keys).
const state = { gatewayUrl: stack.gatewayUrl, tokenUrl: stack.issuer.tokenUrl, pid: process.pid, cityEnv: stack.sandbox.env };
writeSandboxState(state);
const cities = stack.sandbox.population.size;
console.log(`
Ready in ${((Date.now() - started) / 1000).toFixed(1)} s.

  GraphQL   ${stack.gatewayUrl.replace('127.0.0.1', 'localhost')}
  Health    ${stack.healthUrl.replace('127.0.0.1', 'localhost')}
  Subgraphs ${Object.entries(stack.subgraphUrls).map(([n, u]) => `${n} ${u}`).join('\n            ')}
  Sandbox   ${cities} city systems on ${process.env.SANDBOX_HOST || '127.0.0.1'}${process.env.SANDBOX_FAULTS ? `, faults: ${process.env.SANDBOX_FAULTS}` : ''}

  Audit     ${stack.auditDir}

Try (every request needs a token; roles: operator --city <ISTAT code>, analyst, dashboard):
  TOKEN=$(npm run --silent token -- analyst)
  curl -s ${stack.gatewayUrl.replace('127.0.0.1', 'localhost')} -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' \\
    -d '{"query":"{ cities { code name source { kind status } } }"}'
or open ${stack.gatewayUrl.replace('127.0.0.1', 'localhost')} in a browser and paste the token into the query IDE.

Ctrl-C stops everything.`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  console.log('\nStopping...');
  removeSandboxState();
  await stack.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
