/**
 * Starts one domain subgraph: its schema from schema/subgraphs, its
 * resolvers, the fleet of city adapters it reads, and the HTTP endpoint.
 */
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema, type GraphQLResolverMap } from '@apollo/subgraph';
import { parse } from 'graphql';
import type { IncomingHttpHeaders } from 'node:http';
import type { Fleet } from '../../adapters/fleet.ts';
import type { Caller } from '../../access/caller.ts';
import type { Logger } from '../../runtime/logger.ts';
import { apolloLogger } from '../../runtime/logger.ts';
import { serveGraphQL, sendJson, type RunningHttpServer } from '../../runtime/http.ts';
import { subgraphSdl, type SubgraphName } from '../../schema/sdl.ts';
import { createSubgraphContext, type SubgraphContext } from './context.ts';
import { DateScalar, DateTimeScalar } from './scalars.ts';

/**
 * Who is asking. Authentication is not in place yet: every caller is
 * anonymous, and anonymous callers see no personal data. The gateway already
 * forwards the caller's Authorization header, so verifying it here is the
 * only change to make.
 */
export function callerFromHeaders(_headers: IncomingHttpHeaders): Caller | null {
  return null;
}

/** Sends the city errors met while resolving beside the data, one per city and code. */
const cityErrorsPlugin: ApolloServerPlugin<SubgraphContext> = {
  async requestDidStart() {
    return {
      async willSendResponse({ response, contextValue }) {
        if (response.body.kind !== 'single' || contextValue.cityErrors.size === 0) return;
        const result = response.body.singleResult;
        const extra = [...contextValue.cityErrors.values()].map((e) => ({
          message: e.message,
          extensions: { code: e.code, city: e.city },
        }));
        result.errors = [...(result.errors ?? []), ...extra];
      },
    };
  },
};

export interface SubgraphOptions {
  name: SubgraphName;
  resolvers: GraphQLResolverMap<SubgraphContext>;
  fleet: Fleet;
  port: number;
  host?: string;
  logger: Logger;
}

export async function startSubgraph(options: SubgraphOptions): Promise<RunningHttpServer> {
  const schema = buildSubgraphSchema([
    {
      typeDefs: parse(subgraphSdl(options.name)),
      resolvers: { Date: DateScalar, DateTime: DateTimeScalar, ...options.resolvers } as GraphQLResolverMap<unknown>,
    },
  ]);
  const apollo = new ApolloServer<SubgraphContext>({
    schema,
    plugins: [cityErrorsPlugin, ApolloServerPluginLandingPageDisabled()],
    includeStacktraceInErrorResponses: false,
    logger: apolloLogger(options.logger),
  });
  await apollo.start();
  return serveGraphQL({
    apollo,
    context: async (req) => createSubgraphContext(options.fleet, callerFromHeaders(req.headers), options.logger),
    routes: { '/health': (_req, res) => sendJson(res, 200, { status: 'ok', subgraph: options.name }) },
    port: options.port,
    host: options.host,
    onClose: () => apollo.stop(),
  });
}
