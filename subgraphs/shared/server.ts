/**
 * Starts one domain subgraph: its schema from schema/subgraphs, its
 * resolvers wrapped in the access rules its SDL declares, the fleet of city
 * adapters it reads, and the HTTP endpoint. Every request is authenticated
 * here again: a subgraph reached directly is as closed as the gateway.
 */
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema, type GraphQLResolverMap } from '@apollo/subgraph';
import { GraphQLError, parse, type ValidationRule } from 'graphql';
import type { IncomingMessage } from 'node:http';
import type { AuditLog } from '../../access/audit.ts';
import type { Caller } from '../../access/caller.ts';
import { enforceAccessRules } from '../../access/rules.ts';
import { authenticate } from '../../access/tokens.ts';
import { demandControl, type DemandLimits } from '../../runtime/limits.ts';
import { apolloLogger, type Logger } from '../../runtime/logger.ts';
import { serveGraphQL, sendJson, shortMessage, type RunningHttpServer } from '../../runtime/http.ts';
import { subgraphSdl, type SubgraphName } from '../../schema/sdl.ts';
import { CALL_HEADER, DEADLINE_HEADER } from '../../runtime/settings.ts';
import { createMetrics, type Metrics } from '../../runtime/metrics.ts';
import { accessHooks, accessPlugin } from './access.ts';
import { createSubgraphContext, type RequestOrigin, type SubgraphContext, type SubgraphDeps } from './context.ts';
import { DateScalar, DateTimeScalar, YearMonthScalar } from './scalars.ts';

export interface SubgraphOptions {
  name: SubgraphName;
  resolvers: GraphQLResolverMap<SubgraphContext>;
  deps: SubgraphDeps;
  /** Verifies a request's Authorization header (access/tokens.ts). */
  verify: (authorization: string | null | undefined) => Promise<Caller>;
  /** Where reads of person records are logged; null only for a subgraph that serves none (the registry). */
  audit: AuditLog | null;
  limits: DemandLimits;
  /** Introspection (tools read the schema): on in the sandbox, off by default in production. */
  introspection: boolean;
  /** Longest a query may take here, in milliseconds; the gateway may say less is left. */
  queryDeadlineMs: number;
  port: number;
  host?: string;
  logger: Logger;
  /** The process's metrics; made here when not given. */
  metrics?: Metrics;
  /** How the process stops on SIGTERM (runtime/settings.ts stopSettings). */
  stop?: { drainDelayMs: number; gracePeriodMs: number };
}

const HEX64 = /^[0-9a-f]{64}$/;

/** Most entities the gateway may ask a subgraph for at once: a page of 500 with room for joins. */
const MAX_REPRESENTATIONS = 5000;

/** Refuses an `_entities` call larger than any plan of the gateway makes, before any record is loaded. */
const representationsLimit: ApolloServerPlugin<SubgraphContext> = {
  async requestDidStart() {
    return {
      async didResolveOperation({ request }) {
        const list = request.variables?.representations;
        if (Array.isArray(list) && list.length > MAX_REPRESENTATIONS) {
          throw new GraphQLError(`The request names ${list.length} entities; at most ${MAX_REPRESENTATIONS} are allowed`, {
            extensions: { code: 'DEMAND_LIMIT_EXCEEDED', limit: 'entities', max: MAX_REPRESENTATIONS, found: list.length, http: { status: 400 } },
          });
        }
      },
    };
  },
};

/**
 * With introspection off, the federation's `_service { sdl }` is refused too:
 * it hands out the whole schema, rules included. The gateway reads the
 * checked-in supergraph and never asks for it.
 */
const noServiceSdl: ValidationRule = (context) => ({
  Field(node) {
    if (node.name.value === '_service') {
      context.reportError(new GraphQLError('The subgraph schema is not served here: introspection is off', { nodes: [node] }));
    }
  },
});

/** What the gateway says of the client's request; a subgraph reached directly has none of it. */
function originOf(req: IncomingMessage): RequestOrigin {
  const header = (name: string) => {
    const v = req.headers[name];
    return typeof v === 'string' && v.length <= 200 ? v : undefined;
  };
  const hash = header('x-lgnet-operation-hash');
  const requestId = header('x-request-id');
  const operationName = header('x-lgnet-operation-name');
  const queryKey = header(CALL_HEADER);
  return {
    operationHash: hash && HEX64.test(hash) ? hash : '',
    ...(queryKey && /^[0-9a-f-]{36}$/.test(queryKey) ? { queryKey } : {}),
    ...(operationName && /^[_A-Za-z][_0-9A-Za-z]*$/.test(operationName) ? { operationName } : {}),
    ...(requestId && /^[\w-]+$/.test(requestId) ? { requestId } : {}),
  };
}

export async function startSubgraph(options: SubgraphOptions): Promise<RunningHttpServer> {
  const typeDefs = parse(subgraphSdl(options.name));
  const resolvers = enforceAccessRules(typeDefs, { Date: DateScalar, DateTime: DateTimeScalar, YearMonth: YearMonthScalar, ...options.resolvers } as never, accessHooks);
  const schema = buildSubgraphSchema([{ typeDefs, resolvers: resolvers as GraphQLResolverMap<unknown> }]);
  const limits = demandControl(options.limits);
  const apollo = (drain: ApolloServerPlugin<SubgraphContext>) => new ApolloServer<SubgraphContext>({
    schema,
    plugins: [drain, accessPlugin(options.name, options.audit, options.logger), representationsLimit, ...limits.plugins, ApolloServerPluginLandingPageDisabled()],
    validationRules: options.introspection ? limits.validationRules : [...limits.validationRules, noServiceSdl],
    introspection: options.introspection,
    includeStacktraceInErrorResponses: false,
    formatError: shortMessage,
    // The process stops Apollo itself, after readiness and the drain (runtime/process.ts).
    stopOnTerminationSignals: false,
    logger: apolloLogger(options.logger),
  });
  const metrics = options.metrics ?? createMetrics(`subgraph:${options.name}`);
  // Each source's status, circuit included, as this process last saw it: read at each scrape, no request made.
  metrics.beforeScrape.push(() => {
    metrics.sourceStatus.reset();
    for (const city of options.deps.fleet.cities) {
      for (const s of options.deps.fleet.adapter(city.code)?.sources() ?? []) metrics.sourceStatus.set({ city: city.code, source: s.id, status: s.status }, 1);
    }
  });
  const deps = { ...options.deps, logger: options.logger, metrics };
  return serveGraphQL({
    apollo,
    context: async (req, res) => {
      const caller = await authenticate(options.verify, req.headers.authorization);
      // What is left of the query's time, as the gateway says; never more than this subgraph allows.
      const left = Number(req.headers[DEADLINE_HEADER]);
      // A little is kept back, so that the answer (with the cities that did not make it named) reaches the gateway before it gives up.
      const budget = Number.isInteger(left) && left >= 0 ? Math.min(Math.floor(left - Math.min(500, left / 10)), options.queryDeadlineMs) : options.queryDeadlineMs;
      const gone = new AbortController();
      res.once('close', () => {
        if (!res.writableFinished) gone.abort(new Error('the gateway gave up on the query'));
      });
      return createSubgraphContext(deps, caller, originOf(req), AbortSignal.any([AbortSignal.timeout(budget), gone.signal]));
    },
    routes: { '/health': (_req, res) => sendJson(res, 200, { status: 'ok', subgraph: options.name }) },
    port: options.port,
    host: options.host,
    ...options.stop,
    metrics,
    // The trail closes after the last answer has been logged.
    onClose: async () => {
      await options.audit?.close();
    },
  });
}
