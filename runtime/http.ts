/**
 * Serves an Apollo Server over node:http, with a few plain routes beside
 * GraphQL (health). Apollo Server 5 ships no HTTP framework integration of its
 * own beyond the standalone one, which has no room for extra routes.
 */
import { HeaderMap, type ApolloServer, type BaseContext } from '@apollo/server';
import type { GraphQLFormattedError } from 'graphql';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readBody, sendJson } from './plain-http.ts';

export { sendJson };

/** Longest operation name taken: names travel on to subgraphs and into logs. */
const MAX_NAME_LENGTH = 128;
const GRAPHQL_NAME = new RegExp(`^[_A-Za-z][_0-9A-Za-z]{0,${MAX_NAME_LENGTH - 1}}$`);

/** Longest error message sent, in characters: GraphQL's own messages quote the values a client sent, whatever their size. */
const MAX_MESSAGE_LENGTH = 400;

/** An error as sent, its message cut short (a `formatError` for Apollo Server). */
export function shortMessage(formatted: GraphQLFormattedError): GraphQLFormattedError {
  if (formatted.message.length <= MAX_MESSAGE_LENGTH) return formatted;
  return { ...formatted, message: `${formatted.message.slice(0, MAX_MESSAGE_LENGTH)}... (cut short)` };
}

export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface GraphQLHttpOptions<TContext extends BaseContext> {
  apollo: ApolloServer<TContext>;
  /** The request's context; `res` tells when the client has gone (its 'close' before the answer is finished). */
  context: (req: IncomingMessage, res: ServerResponse) => Promise<TContext>;
  /** Extra GET routes by path, e.g. `/health`. */
  routes?: Record<string, RouteHandler>;
  port: number;
  host?: string;
  /** Largest request body accepted, in bytes. */
  maxBodyBytes?: number;
  /** Called once the server has stopped listening (e.g. to stop Apollo). */
  onClose?: () => Promise<void>;
}

export interface RunningHttpServer {
  server: Server;
  url: string;
  port: number;
  close(): Promise<void>;
}

function graphqlError(res: ServerResponse, status: number, code: string, message: string): void {
  sendJson(res, status, { errors: [{ message, extensions: { code } }] });
}

export async function serveGraphQL<TContext extends BaseContext>(options: GraphQLHttpOptions<TContext>): Promise<RunningHttpServer> {
  const { apollo, routes = {}, maxBodyBytes = 1_000_000 } = options;
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      return graphqlError(res, 400, 'BAD_REQUEST', 'The request target is not a path this server can read');
    }
    const route = routes[url.pathname];
    if (route && (req.method === 'GET' || req.method === 'HEAD')) return route(req, res);
    if (url.pathname !== '/graphql') return graphqlError(res, 404, 'NOT_FOUND', `No route ${url.pathname}: GraphQL is served at /graphql`);

    const headers = new HeaderMap();
    for (const [k, v] of Object.entries(req.headers)) {
      if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
    }
    let body: unknown = undefined;
    if (req.method === 'POST') {
      const text = await readBody(req, maxBodyBytes);
      if (text === null) {
        // The rest of the body is left unread: the connection cannot carry another request.
        res.setHeader('connection', 'close');
        return graphqlError(res, 413, 'BAD_REQUEST', `Request body larger than ${maxBodyBytes} bytes`);
      }
      if ((headers.get('content-type') ?? '').includes('application/json')) {
        try {
          body = text === '' ? {} : JSON.parse(text);
        } catch {
          return graphqlError(res, 400, 'BAD_REQUEST', 'The request body is not valid JSON');
        }
      } else {
        body = text;
      }
    }
    const operationName = url.searchParams.get('operationName') ?? (body as { operationName?: unknown } | null)?.operationName;
    if (operationName !== undefined && operationName !== null && (typeof operationName !== 'string' || !GRAPHQL_NAME.test(operationName))) {
      return graphqlError(res, 400, 'BAD_REQUEST', `operationName must be a GraphQL name of at most ${MAX_NAME_LENGTH} characters`);
    }
    const response = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: req.method ?? 'GET', headers, search: url.search, body },
      context: () => options.context(req, res),
    });
    for (const [k, v] of response.headers) res.setHeader(k, v);
    res.statusCode = response.status ?? 200;
    if (response.body.kind === 'complete') {
      res.end(response.body.string);
    } else {
      for await (const chunk of response.body.asyncIterator) res.write(chunk);
      res.end();
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) graphqlError(res, 500, 'INTERNAL_SERVER_ERROR', (e as Error).message);
      else res.destroy();
    });
  });
  // Keep-alive sockets from the gateway would otherwise hold close() open.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    url: `http://${options.host ?? '127.0.0.1'}:${port}/graphql`,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await options.onClose?.();
    },
  };
}
