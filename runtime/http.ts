/**
 * Serves an Apollo Server through its maintained Express 5 integration, with
 * a few plain routes beside GraphQL (health), and stops it gracefully: on
 * close, `/health` answers 503 first, then Apollo's drain plugin lets the
 * requests in flight finish (within a grace period) before the server goes.
 */
import type { ApolloServer, ApolloServerPlugin, BaseContext } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { GraphQLFormattedError } from 'graphql';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Metrics } from './metrics.ts';
import { sendJson } from './plain-http.ts';
import { acceptableRequestId, requestScope } from './request-scope.ts';
import { randomUUID } from 'node:crypto';

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
  /** Builds the Apollo Server, given the plugin that drains this server's requests when it stops. */
  apollo: (drain: ApolloServerPlugin<TContext>) => ApolloServer<TContext>;
  /** The request's context; `res` tells when the client has gone (its 'close' before the answer is finished). */
  context: (req: IncomingMessage, res: ServerResponse) => Promise<TContext>;
  /** Extra GET routes by path, e.g. `/health`. */
  routes?: Record<string, RouteHandler>;
  /** Extra POST routes by path, e.g. `/export`; each reads its own body. */
  postRoutes?: Record<string, RouteHandler>;
  /**
   * What a browser opening /graphql receives (a GET that prefers HTML): a
   * page, or a word on why there is none. Without it, such a GET is a GraphQL
   * request like any other, refused by Apollo's CSRF prevention.
   */
  browserPage?: RouteHandler;
  /**
   * Runs first on every request to /graphql: sets the CORS headers its answer
   * may carry, and may answer it itself (a preflight), ending the response.
   */
  cors?: RouteHandler;
  port: number;
  host?: string;
  /** Largest request body accepted, in bytes. */
  maxBodyBytes?: number;
  /**
   * On close: how long `/health` answers 503 before the server stops taking
   * requests, so that a load balancer stops sending new ones, in milliseconds.
   */
  drainDelayMs?: number;
  /** On close: how long requests in flight may take to finish, in milliseconds. */
  gracePeriodMs?: number;
  /** Called once the server has stopped (e.g. to close files). */
  onClose?: () => Promise<void>;
  /** The process's metrics: served at `/metrics`, and every answer counted. */
  metrics?: Metrics;
}

export interface RunningHttpServer {
  server: Server;
  url: string;
  port: number;
  /** Stops gracefully: readiness first, then the requests in flight finish, then the server closes. */
  close(): Promise<void>;
}

function graphqlError(res: ServerResponse, status: number, code: string, message: string): void {
  sendJson(res, status, { errors: [{ message, extensions: { code } }] });
}

/**
 * A browser navigating to the URL: HTML is what it asks for first. A client
 * asking for JSON, or for any type alike, or sending no Accept at all, is not one.
 */
function prefersHtml(req: Request): boolean {
  return req.accepts(['application/json', 'application/graphql-response+json', 'multipart/mixed', 'text/html']) === 'text/html';
}

export async function serveGraphQL<TContext extends BaseContext>(options: GraphQLHttpOptions<TContext>): Promise<RunningHttpServer> {
  const { routes = {}, maxBodyBytes = 1_000_000, drainDelayMs = 0, gracePeriodMs = 10_000 } = options;
  const app = express();
  app.disable('x-powered-by');
  const server = createServer(app);
  const apollo = options.apollo(ApolloServerPluginDrainHttpServer({ httpServer: server, stopGracePeriodMillis: gracePeriodMs }) as ApolloServerPlugin<TContext>);
  await apollo.start();
  let stopping = false;
  const metrics = options.metrics;
  if (metrics) {
    app.use((_req: Request, res: Response, next: NextFunction) => {
      res.once('finish', () => metrics.requests.inc({ status: `${Math.floor(res.statusCode / 100)}xx` }));
      next();
    });
    app.get('/metrics', metrics.route);
  }

  for (const [path, handler] of Object.entries(routes)) {
    app.get(path, async (req, res) => {
      // Readiness: a process that is stopping takes no new work.
      if (stopping && path === '/health') return sendJson(res, 503, { status: 'stopping' });
      await handler(req, res);
    });
  }
  for (const [path, handler] of Object.entries(options.postRoutes ?? {})) {
    app.post(path, async (req, res) => {
      if (stopping) return sendJson(res, 503, { errors: [{ message: 'The server is stopping', extensions: { code: 'UNAVAILABLE' } }] });
      await handler(req, res);
    });
  }
  const { cors, browserPage } = options;
  if (cors) {
    app.use('/graphql', async (req: Request, res: Response, next: NextFunction) => {
      await cors(req, res);
      if (!res.writableEnded) next();
    });
  }
  if (browserPage) {
    app.get('/graphql', async (req: Request, res: Response, next: NextFunction) => (prefersHtml(req) ? browserPage(req, res) : next()));
  }
  app.use(
    '/graphql',
    // The request's id (the gateway's, or a new one) follows everything the request does.
    (req: Request, _res: Response, next: NextFunction) => requestScope.run({ requestId: acceptableRequestId(req.headers['x-request-id']) ?? randomUUID() }, next),
    express.json({ limit: maxBodyBytes }),
    (req: Request, res: Response, next: NextFunction) => {
      const name = (req.query.operationName as unknown) ?? (req.body as { operationName?: unknown } | undefined)?.operationName;
      if (name !== undefined && name !== null && (typeof name !== 'string' || !GRAPHQL_NAME.test(name))) {
        return graphqlError(res, 400, 'BAD_REQUEST', `operationName must be a GraphQL name of at most ${MAX_NAME_LENGTH} characters`);
      }
      next();
    },
    expressMiddleware(apollo, { context: async ({ req, res }) => options.context(req, res) }),
  );
  app.use((req: Request, res: Response) => graphqlError(res, 404, 'NOT_FOUND', `No route ${req.path.slice(0, 100)}: GraphQL is served at /graphql`));
  // Client mistakes in the body are 4xx with a code, never a 500.
  app.use((err: { type?: string; status?: number; message?: string }, _req: Request, res: Response, _next: NextFunction) => {
    if (res.headersSent) return res.destroy();
    if (err.type === 'entity.too.large') {
      // The rest of the body is left unread: the connection cannot carry another request.
      res.setHeader('connection', 'close');
      return graphqlError(res, 413, 'BAD_REQUEST', `Request body larger than ${maxBodyBytes} bytes`);
    }
    if (err.type === 'entity.parse.failed') return graphqlError(res, 400, 'BAD_REQUEST', 'The request body is not valid JSON');
    if (err.status && err.status >= 400 && err.status < 500) return graphqlError(res, err.status, 'BAD_REQUEST', 'The request cannot be read');
    return graphqlError(res, 500, 'INTERNAL_ERROR', 'The server failed on this request');
  });

  // Keep-alive sockets from the gateway would otherwise hold close() open.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  let closed: Promise<void> | null = null;
  return {
    server,
    port,
    url: `http://${options.host ?? '127.0.0.1'}:${port}/graphql`,
    close: () =>
      (closed ??= (async () => {
        stopping = true;
        if (drainDelayMs > 0) await sleep(drainDelayMs);
        // The drain plugin stops new connections, waits for requests in flight, then closes the rest.
        await apollo.stop();
        await options.onClose?.();
      })()),
  };
}
