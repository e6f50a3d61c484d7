/**
 * The single endpoint: @apollo/gateway over the checked-in supergraph (no
 * introspection of subgraphs at run time), served by Apollo Server. It
 * verifies the caller's token first (every subgraph checks it again),
 * refuses queries over the demand limits before any subgraph is asked, runs
 * only the persisted operations for the dashboard role, and tells the
 * subgraphs which client operation they serve, for the audit trail.
 */
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer, type ApolloServerPlugin, type BaseContext } from '@apollo/server';
import type { Fetcher, FetcherResponse } from '@apollo/utils.fetcher';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { request } from 'undici';
import type { Caller } from '../access/caller.ts';
import { authenticate } from '../access/tokens.ts';
import { demandControl, type DemandLimits } from '../runtime/limits.ts';
import { apolloLogger, type Logger } from '../runtime/logger.ts';
import { serveGraphQL, sendJson, shortMessage, type RunningHttpServer } from '../runtime/http.ts';
import { createMetrics } from '../runtime/metrics.ts';
import { requestScope } from '../runtime/request-scope.ts';
import { CALL_HEADER, DEADLINE_HEADER, defaultQueryDeadlineMs, defaultSubgraphTimeoutMs } from '../runtime/settings.ts';
import { subgraphNames, supergraphPath, type SubgraphName } from '../schema/sdl.ts';
import { allowListPlugin, loadAllowList, persistedQueryCache } from './allow-list.ts';
import { exportRoute } from './export/route.ts';
import { corsHandler } from './cors.ts';
import { createIde, ideOff } from './ide.ts';
import { createDashboard, dashboardOff } from './dashboard.ts';

export interface GatewayContext extends BaseContext {
  caller: Caller;
  /** Aborted when the query's deadline passes or its client goes away: every subgraph call stops with it. */
  signal: AbortSignal;
  /** When the query's time is up, in milliseconds since the epoch. */
  deadline: number;
  /** Longest wait for one subgraph answer, in milliseconds. */
  subgraphTimeoutMs: number;
  /** This request's own key to its signal: unlike the request id, no client chooses it. */
  callKey: string;
  /** The caller's Authorization header, forwarded to every subgraph, which checks it again. */
  authorization: string;
  requestId: string;
  /** SHA-256 hex of the client's operation text, set once it is known. */
  operationHash?: string;
  operationName?: string;
}

export interface GatewayOptions {
  /** Where each subgraph runs. */
  subgraphUrls: Record<SubgraphName, string>;
  /** Verifies a request's Authorization header (access/tokens.ts). */
  verify: (authorization: string | null | undefined) => Promise<Caller>;
  limits: DemandLimits;
  /** Introspection (tools read the schema): on in the sandbox, off by default in production. */
  introspection: boolean;
  /** The query IDE for a browser opening /graphql (gateway/ide.ts): on in the sandbox, off by default in production. */
  ide?: boolean;
  /** The programme dashboard at /dashboard (gateway/dashboard.ts): on in the sandbox, off by default in production. */
  dashboard?: boolean;
  /** Origins whose pages may call /graphql from a browser (gateway/cors.ts); none by default. */
  corsOrigins?: readonly string[];
  port: number;
  host?: string;
  logger: Logger;
  /** How the process stops on SIGTERM (runtime/settings.ts stopSettings). */
  stop?: { drainDelayMs: number; gracePeriodMs: number };
  /** Time each subgraph's health check may take, in milliseconds. */
  healthTimeoutMs?: number;
  /**
   * Longest wait for one subgraph answer, in milliseconds. Subgraphs bound
   * each city call themselves; this only keeps a hung subgraph from holding a
   * query open for long.
   */
  subgraphTimeoutMs?: number;
  /** Longest a query may take in all, in milliseconds; the subgraphs are told what is left of it. */
  queryDeadlineMs?: number;
}

class ForwardingDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  readonly name: string;
  constructor(name: string, options: ConstructorParameters<typeof RemoteGraphQLDataSource<GatewayContext>>[0]) {
    super(options);
    this.name = name;
  }

  /**
   * A subgraph that refuses a request with a 4xx says why, with a code (a bad
   * argument value, say): pass that on rather than a bare status that reads
   * as the gateway's own failure.
   */
  override async errorFromResponse(response: FetcherResponse): Promise<GraphQLError> {
    const error = await super.errorFromResponse(response);
    const body = (error.extensions.response as { body?: { errors?: Array<{ message?: unknown; extensions?: { code?: unknown } }> } } | undefined)?.body;
    const first = body?.errors?.[0];
    // A client's mistake (4xx) is passed on as the subgraph said it; a subgraph's own failure is named, not quoted.
    if (response.status < 500 && typeof first?.message === 'string' && typeof first.extensions?.code === 'string') {
      return new GraphQLError(first.message, { extensions: { code: first.extensions.code, subgraph: this.name } });
    }
    // An answer with no coded error of its own: the subgraph failed, and it is named.
    return new GraphQLError(`Subgraph ${this.name} failed: status ${response.status}`, { extensions: { code: 'SUBGRAPH_UNAVAILABLE', subgraph: this.name } });
  }

  override willSendRequest({ request, context }: Parameters<NonNullable<RemoteGraphQLDataSource<GatewayContext>['willSendRequest']>>[0]) {
    const headers = request.http?.headers;
    if (!headers || !context.authorization) return;
    headers.set('authorization', context.authorization);
    headers.set('x-request-id', context.requestId);
    headers.set(CALL_HEADER, context.callKey);
    // What is left of the query, but never more than this gateway waits for one subgraph answer.
    headers.set(DEADLINE_HEADER, String(Math.max(0, Math.min(context.deadline - Date.now(), context.subgraphTimeoutMs))));
    if (context.operationHash) headers.set('x-lgnet-operation-hash', context.operationHash);
    if (context.operationName) headers.set('x-lgnet-operation-name', context.operationName);
  }
}

/** Keeps the client's operation hash and name in the context, for the subgraphs' audit trail. */
const operationPlugin: ApolloServerPlugin<GatewayContext> = {
  async requestDidStart() {
    return {
      async didResolveOperation({ contextValue, queryHash, operationName, operation }) {
        // The gateway would otherwise answer an operation name the document lacks with a 500.
        if (!operation) {
          throw new GraphQLError('The document has no operation of that name, or several operations and no operationName', {
            extensions: { code: 'OPERATION_RESOLUTION_FAILURE', http: { status: 400 } },
          });
        }
        // The graph reads and never writes: a mutation or subscription is the client's mistake, not a failure of the plan.
        if (operation.operation !== 'query') {
          throw new GraphQLError(`This graph answers queries only: it has no ${operation.operation} type`, {
            extensions: { code: 'GRAPHQL_VALIDATION_FAILED', http: { status: 400 } },
          });
        }
        contextValue.operationHash = queryHash;
        if (operationName) contextValue.operationName = operationName;
      },
    };
  },
};

/**
 * What a client may see of an error: the gateway attaches a failed subgraph
 * call's response (its internal URL, status and headers) to the error, which
 * tells a client where the subgraphs run. Messages are cut short too.
 */
function withoutInternals(formatted: GraphQLFormattedError): GraphQLFormattedError {
  const shortened = shortMessage(formatted);
  if (!shortened.extensions || !('response' in shortened.extensions)) return shortened;
  const { response: _, ...extensions } = shortened.extensions;
  return { ...shortened, extensions };
}

export async function startGateway(options: GatewayOptions): Promise<RunningHttpServer> {
  const { subgraphUrls, logger, healthTimeoutMs = 2_000, subgraphTimeoutMs = defaultSubgraphTimeoutMs, queryDeadlineMs = defaultQueryDeadlineMs } = options;
  /** Each query's signal, by request id: the fetcher is handed only the request's headers. */
  const signals = new Map<string, AbortSignal>();
  /**
   * Calls one subgraph, within both its own time limit and the query's
   * signal; a failure names the subgraph, with a code, rather than surfacing
   * as a bare "fetch failed".
   */
  const metrics = createMetrics('gateway');
  const fetcherFor = (name: string): Fetcher => async (url, init) => {
    const stopTimer = metrics.subgraphSeconds.startTimer({ subgraph: name });
    try {
      const res = await callSubgraph(name, url, init);
      metrics.subgraphCalls.inc({ subgraph: name, outcome: res.ok ? 'ok' : `status_${res.status}` });
      return res;
    } catch (e) {
      metrics.subgraphCalls.inc({ subgraph: name, outcome: String((e as GraphQLError).extensions?.code ?? 'error') });
      throw e;
    } finally {
      stopTimer();
    }
  };
  const callSubgraph = async (name: string, url: string, init: Parameters<Fetcher>[1]): Promise<FetcherResponse> => {
    const timeout = AbortSignal.timeout(subgraphTimeoutMs);
    const requestId = (init?.headers as Record<string, string> | undefined)?.['x-request-id'];
    const callKey = (init?.headers as Record<string, string> | undefined)?.[CALL_HEADER];
    const query = callKey ? signals.get(callKey) : undefined;
    try {
      return (await fetch(url, { ...init, body: init?.body as string | undefined, signal: query ? AbortSignal.any([timeout, query]) : timeout })) as unknown as FetcherResponse;
    } catch (e) {
      if (timeout.aborted || query?.aborted) {
        const why = timeout.aborted ? `no answer within ${subgraphTimeoutMs} ms` : 'the query was given up on (its deadline passed, or its client left)';
        throw new GraphQLError(`Subgraph ${name} did not answer: ${why}`, { extensions: { code: 'SUBGRAPH_TIMEOUT', subgraph: name } });
      }
      const cause = (e as { cause?: { code?: string } }).cause?.code;
      logger.error('subgraph unreachable', { subgraph: name, cause: cause ?? (e as Error).message, ...(requestId ? { requestId } : {}) });
      throw new GraphQLError(`Subgraph ${name} is unavailable${cause ? ` (${cause})` : ''}`, { extensions: { code: 'SUBGRAPH_UNAVAILABLE', subgraph: name } });
    }
  };
  const gateway = new ApolloGateway({
    supergraphSdl: readFileSync(supergraphPath, 'utf8'),
    buildService: ({ name }) => new ForwardingDataSource(name, { url: subgraphUrls[name as SubgraphName], fetcher: fetcherFor(name) }),
    logger: apolloLogger(logger),
  });
  const limits = demandControl(options.limits);
  const allowList = loadAllowList();
  const apollo = (drain: ApolloServerPlugin<GatewayContext>) => new ApolloServer<GatewayContext>({
    gateway,
    plugins: [drain, operationPlugin, allowListPlugin<GatewayContext>(allowList), ...limits.plugins, ApolloServerPluginLandingPageDisabled()],
    validationRules: limits.validationRules,
    persistedQueries: { cache: persistedQueryCache(allowList) },
    introspection: options.introspection,
    includeStacktraceInErrorResponses: false,
    formatError: withoutInternals,
    // The process stops Apollo itself, after readiness and the drain (runtime/process.ts).
    stopOnTerminationSignals: false,
    logger: apolloLogger(logger),
  });

  async function subgraphHealth(name: SubgraphName): Promise<boolean> {
    try {
      const res = await request(new URL('/health', subgraphUrls[name]), { signal: AbortSignal.timeout(healthTimeoutMs) });
      await res.body.dump();
      return res.statusCode === 200;
    } catch {
      return false;
    }
  }

  // Built before the server starts: an IDE or a dashboard whose files are missing stops the gateway here.
  const ide = options.ide ? createIde({ introspection: options.introspection }) : null;
  const dashboard = options.dashboard ? createDashboard(allowList) : null;
  return serveGraphQL({
    apollo,
    context: async (req, res) => {
      const authorization = req.headers.authorization;
      const caller = await authenticate(options.verify, authorization);
      // The id the HTTP layer gave this request (the client's own x-request-id, when it sent a usable one).
      const requestId = requestScope.getStore()?.requestId ?? randomUUID();
      const gone = new AbortController();
      const signal = AbortSignal.any([AbortSignal.timeout(queryDeadlineMs), gone.signal]);
      const callKey = randomUUID();
      signals.set(callKey, signal);
      const forget = () => {
        signals.delete(callKey);
        if (!res.writableFinished) gone.abort(new Error('the client went away'));
      };
      res.once('close', forget);
      // The client may have left while its token was checked: then 'close' has already been.
      if (res.closed) forget();
      return { caller, authorization: authorization!, requestId, signal, deadline: Date.now() + queryDeadlineMs, subgraphTimeoutMs, callKey };
    },
    routes: {
      ...ide?.assets,
      ...dashboard?.assets,
      '/dashboard': dashboard ? dashboard.page : dashboardOff,
      '/health': async (_req, res) => {
        const checks = await Promise.all(subgraphNames.map(async (n) => [n, await subgraphHealth(n)] as const));
        const ok = checks.every(([, up]) => up);
        sendJson(res, ok ? 200 : 503, {
          status: ok ? 'ok' : 'unavailable',
          subgraphs: Object.fromEntries(checks.map(([n, up]) => [n, up ? 'ok' : 'unavailable'])),
        });
      },
      '/': (_req, res) =>
        sendJson(res, 200, {
          graphql: '/graphql',
          health: '/health',
          hint: 'POST a GraphQL query to /graphql with Authorization: Bearer <token>, e.g. { cities { code name } }',
        }),
    },
    // The same files as npm run query, each page asked of this gateway's own /graphql (gateway/export/).
    postRoutes: { '/export': exportRoute({ logger }) },
    browserPage: ide ? ide.page : ideOff,
    ...(options.corsOrigins?.length ? { cors: corsHandler(options.corsOrigins) } : {}),
    port: options.port,
    host: options.host,
    ...options.stop,
    metrics,
  });
}
