/**
 * The single endpoint: @apollo/gateway over the checked-in supergraph (no
 * introspection of subgraphs at run time), served by Apollo Server.
 */
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer, type BaseContext } from '@apollo/server';
import type { Fetcher, FetcherResponse } from '@apollo/utils.fetcher';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { readFileSync } from 'node:fs';
import { request } from 'undici';
import type { Logger } from '../runtime/logger.ts';
import { apolloLogger } from '../runtime/logger.ts';
import { serveGraphQL, sendJson, type RunningHttpServer } from '../runtime/http.ts';
import { subgraphNames, supergraphPath, type SubgraphName } from '../schema/sdl.ts';

export interface GatewayContext extends BaseContext {
  /** The caller's Authorization header, forwarded to every subgraph, which checks it again. */
  authorization: string | null;
}

export interface GatewayOptions {
  /** Where each subgraph runs. */
  subgraphUrls: Record<SubgraphName, string>;
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
  override willSendRequest({ request, context }: Parameters<NonNullable<RemoteGraphQLDataSource<GatewayContext>['willSendRequest']>>[0]) {
    if (context.authorization) request.http?.headers.set('authorization', context.authorization);
  }
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
  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    plugins: [ApolloServerPluginLandingPageDisabled()],
    // Dashboards and analysts' tools read the schema and its descriptions, in production too.
    introspection: true,
    includeStacktraceInErrorResponses: false,
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
    context: async (req) => ({ authorization: req.headers.authorization ?? null }),
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
        sendJson(res, 200, { graphql: '/graphql', health: '/health', hint: 'POST a GraphQL query to /graphql, e.g. { cities { code name } }' }),
    },
    port: options.port,
    host: options.host,
    onClose: () => apollo.stop(),
  });
}
