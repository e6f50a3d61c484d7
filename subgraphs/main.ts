/**
 * One subgraph process: `node subgraphs/main.ts <registry|people|services|housing>`.
 *
 * Environment: PORT (0 = any free port; the chosen URL is printed as a JSON
 * line `{"ready": "<url>"}` on stdout), HOST (default 127.0.0.1),
 * LGNET_PERSON_KEY_SECRET, LGNET_GRAPH_SECRET, LGNET_AUDIT_DIR, the token
 * settings LGNET_AUTH_* (access/tokens.ts), optionally
 * LGNET_SUPPRESSION_THRESHOLD, LGNET_INTROSPECTION and LGNET_LIMIT_*, and the
 * endpoint and key variables named in the city configs (adapters/cities).
 */
import { join } from 'node:path';
import { Agent } from 'undici';
import { openAuditLog } from '../access/audit.ts';
import { createIdCodec, deriveKey } from '../access/opaque-id.ts';
import { authConfigFromEnv, createTokenVerifier } from '../access/tokens.ts';
import { createConnector } from '../adapters/connectors/index.ts';
import { loadCityConfigs } from '../adapters/config.ts';
import { createFleet } from '../adapters/fleet.ts';
import type { Domain } from '../schema/code-lists.ts';
import { subgraphNames, type SubgraphName } from '../schema/sdl.ts';
import { demandLimitsFromEnv, type DemandLimits } from '../runtime/limits.ts';
import { personalFieldNames } from '../access/redaction.ts';
import { createLogger } from '../runtime/logger.ts';
import { createMetrics } from '../runtime/metrics.ts';
import { runService } from '../runtime/process.ts';
import { auditDir, defaultQualityTtlMs, defaultQueryDeadlineMs, graphSecret, introspection, millis, settingsEnv, stopSettings, suppressionThreshold } from '../runtime/settings.ts';
import { housingResolvers } from './housing/resolvers.ts';
import { createCursorCodec } from './shared/paging.ts';
import { peopleResolvers } from './people/resolvers.ts';
import { registryResolvers } from './registry/resolvers.ts';
import { servicesResolvers } from './services/resolvers.ts';
import { LastGood } from './shared/context.ts';
import { startSubgraph } from './shared/server.ts';

/**
 * The limits a subgraph applies: the gateway's, with room for what the
 * gateway adds to a client's query when it plans it (keys, type names,
 * entity fragments), so a query the gateway let through is not refused here,
 * while a subgraph reached directly stays bounded.
 */
function forSubgraph(limits: DemandLimits): DemandLimits {
  return { ...limits, maxDepth: limits.maxDepth + 2, maxTokens: limits.maxTokens * 2, maxAliases: limits.maxAliases * 2 };
}

const resolvers = { registry: registryResolvers, people: peopleResolvers, services: servicesResolvers, housing: housingResolvers };

const name = process.argv[2] as SubgraphName;
if (!subgraphNames.includes(name)) {
  console.error(`usage: node subgraphs/main.ts <${subgraphNames.join('|')}>`);
  process.exit(2);
}
const metrics = createMetrics(`subgraph:${name}`);
const logger = createLogger(`subgraph:${name}`, { level: process.env.LOG_LEVEL || 'info', redact: personalFieldNames() });
// Keep-alive connections to the cities' systems, a bounded number per city.
const dispatcher = new Agent({ connections: 16, keepAliveTimeout: 10_000 });
await runService(logger, async () => {
  const env = process.env;
  const secret = graphSecret(env);
  const citiesDir = env[settingsEnv.citiesDir];
  const fleet = createFleet({
    ...(citiesDir ? { configs: loadCityConfigs(citiesDir) } : {}),
    env,
    deps: {
      dispatcher,
      now: Date.now,
      logger,
      observe: (r) => {
        metrics.cityRequests.inc({ city: r.city, source: r.source, outcome: r.outcome });
        metrics.cityRequestSeconds.observe({ city: r.city, source: r.source }, r.seconds);
      },
    },
    createConnector,
    // The registry reports on every source; a domain subgraph reads only its own.
    domains: name === 'registry' ? undefined : [name as Domain],
    qualityTtlMs: millis(env, settingsEnv.qualityTtlMs, defaultQualityTtlMs, 0, 3_600_000),
  });
  const dir = auditDir(env);
  // The registry reads the trail (for operators' access logs); the domain subgraphs each write their own file.
  const audit = name === 'registry' ? null : await openAuditLog(join(dir, `${name}.jsonl`));
  const server = await startSubgraph({
    name,
    resolvers: resolvers[name],
    deps: {
      fleet,
      ids: createIdCodec(secret),
      cursors: createCursorCodec(deriveKey(secret, 'cursor')),
      suppressionThreshold: suppressionThreshold(env),
      auditDir: dir,
      // Catalogues are small; pages of people are not, so fewer of them are kept.
      lastGood: new LastGood(name === 'people' ? 100 : 1000),
    },
    verify: createTokenVerifier(authConfigFromEnv(env)),
    audit,
    limits: forSubgraph(demandLimitsFromEnv(env)),
    metrics,
    introspection: introspection(env),
    queryDeadlineMs: millis(env, settingsEnv.queryDeadlineMs, defaultQueryDeadlineMs),
    port: Number(env.PORT ?? 0),
    host: env.HOST ?? '127.0.0.1',
    logger,
    stop: stopSettings(env),
  });
  return {
    url: server.url,
    close: async () => {
      await server.close();
      await dispatcher.close();
    },
  };
});
