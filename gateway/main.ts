/**
 * The gateway process. Environment: PORT (default 4000; 0 = any free port),
 * HOST (default 127.0.0.1), LGNET_SUBGRAPH_<NAME>_URL for each of registry,
 * people, services and housing, the token settings LGNET_AUTH_*
 * (access/tokens.ts), and optionally LGNET_INTROSPECTION, LGNET_IDE (the query
 * IDE at /graphql for a browser), LGNET_DASHBOARD (the programme dashboard at
 * /dashboard), LGNET_CORS_ORIGINS, LGNET_LIMIT_*,
 * LGNET_QUERY_DEADLINE_MS (default 30 s), LGNET_SUBGRAPH_TIMEOUT_MS (default 20 s),
 * LGNET_DRAIN_DELAY_MS and LGNET_GRACE_PERIOD_MS (how SIGTERM stops it).
 * Prints `{"ready": "<url>"}` on stdout.
 */
import { authConfigFromEnv, createTokenVerifier } from '../access/tokens.ts';
import { demandLimitsFromEnv } from '../runtime/limits.ts';
import { personalFieldNames } from '../access/redaction.ts';
import { createLogger } from '../runtime/logger.ts';
import { runService } from '../runtime/process.ts';
import { corsOrigins, dashboard, ide, introspection, millis, settingsEnv, defaultQueryDeadlineMs, defaultSubgraphTimeoutMs, stopSettings } from '../runtime/settings.ts';
import { subgraphNames, type SubgraphName } from '../schema/sdl.ts';
import { startGateway } from './server.ts';

const logger = createLogger('gateway', { level: process.env.LOG_LEVEL || 'info', redact: personalFieldNames() });
const urls = {} as Record<SubgraphName, string>;
for (const name of subgraphNames) {
  const v = process.env[`LGNET_SUBGRAPH_${name.toUpperCase()}_URL`];
  if (!v) {
    logger.error(`LGNET_SUBGRAPH_${name.toUpperCase()}_URL is not set`);
    process.exit(2);
  }
  urls[name] = v;
}
await runService(logger, () =>
  startGateway({
    subgraphUrls: urls,
    verify: createTokenVerifier(authConfigFromEnv(process.env)),
    limits: demandLimitsFromEnv(process.env),
    introspection: introspection(process.env),
    ide: ide(process.env),
    dashboard: dashboard(process.env),
    corsOrigins: corsOrigins(process.env),
    queryDeadlineMs: millis(process.env, settingsEnv.queryDeadlineMs, defaultQueryDeadlineMs),
    subgraphTimeoutMs: millis(process.env, settingsEnv.subgraphTimeoutMs, defaultSubgraphTimeoutMs),
    port: Number(process.env.PORT ?? 4000),
    host: process.env.HOST ?? '127.0.0.1',
    logger,
    stop: stopSettings(process.env),
  }),
);
