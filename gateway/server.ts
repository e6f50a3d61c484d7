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
import { subgraphNames, supergraphPath, type SubgraphName } from '../schema/sdl.ts';
import { allowListPlugin, loadAllowList, persistedQueryCache } from './allow-list.ts';

export interface GatewayContext extends BaseContext {
  caller: Caller;
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
  port: number;
  host?: string;
  logger: Logger;
  /** Time each subgraph's health check may take, in milliseconds. */
  healthTimeoutMs?: number;
  /**
   * Longest wait for one subgraph answer, in milliseconds. Subgraphs bound
   * each city call themselves; this only keeps a hung subgraph from holding a
   * query open for ever.
   */
  subgraphTimeoutMs?: number;
}

class ForwardingDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  /**
   * A subgraph that refuses a request with a 4xx says why, with a code (a bad
   * argument value, say): pass that on rather than a bare status that reads
   * as the gateway's own failure.
   */
  override async errorFromResponse(response: FetcherResponse): Promise<GraphQLError> {
    const error = await super.errorFromResponse(response);
    const body = (error.extensions.response as { body?: { errors?: Array<{ message?: unknown; extensions?: { code?: unknown } }> } } | undefined)?.body;
    const first = body?.errors?.[0];
    if (response.status >= 400 && response.status < 500 && typeof first?.message === 'string' && typeof first.extensions?.code === 'string') {
      return new GraphQLError(first.message, { extensions: { code: first.extensions.code } });
    }
    return error;
  }

  override willSendRequest({ request, context }: Parameters<NonNullable<RemoteGraphQLDataSource<GatewayContext>['willSendRequest']>>[0]) {
    const headers = request.http?.headers;
    if (!headers || !context.authorization) return;
    headers.set('authorization', context.authorization);
    headers.set('x-request-id', context.requestId);
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
  const { subgraphUrls, logger, healthTimeoutMs = 2_000, subgraphTimeoutMs = 60_000 } = options;
  const fetcher: Fetcher = (url, init) =>
    fetch(url, { ...init, body: init?.body as string | undefined, signal: AbortSignal.timeout(subgraphTimeoutMs) }) as unknown as Promise<FetcherResponse>;
  const gateway = new ApolloGateway({
    supergraphSdl: readFileSync(supergraphPath, 'utf8'),
    buildService: ({ name }) => new ForwardingDataSource({ url: subgraphUrls[name as SubgraphName], fetcher }),
    logger: apolloLogger(logger),
  });
  const limits = demandControl(options.limits);
  const allowList = loadAllowList();
  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    plugins: [operationPlugin, allowListPlugin<GatewayContext>(allowList), ...limits.plugins, ApolloServerPluginLandingPageDisabled()],
    validationRules: limits.validationRules,
    persistedQueries: { cache: persistedQueryCache(allowList) },
    introspection: options.introspection,
    includeStacktraceInErrorResponses: false,
    formatError: withoutInternals,
    logger: apolloLogger(logger),
  });
  await apollo.start();

  async function subgraphHealth(name: SubgraphName): Promise<boolean> {
    try {
      const res = await request(new URL('/health', subgraphUrls[name]), { signal: AbortSignal.timeout(healthTimeoutMs) });
      await res.body.dump();
      return res.statusCode === 200;
    } catch {
      return false;
    }
  }

  return serveGraphQL({
    apollo,
    context: async (req) => {
      const authorization = req.headers.authorization;
      const caller = await authenticate(options.verify, authorization);
      return { caller, authorization: authorization!, requestId: randomUUID() };
    },
    routes: {
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
    port: options.port,
    host: options.host,
    onClose: () => apollo.stop(),
  });
}
