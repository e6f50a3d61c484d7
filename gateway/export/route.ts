/**
 * `POST /export?format=csv|xlsx|json` with a JSON body `{ query, variables,
 * operationName?, rows? }`: the same file `npm run query` writes. The query
 * is sent, with the caller's own Authorization header, to this gateway's own
 * /graphql, page after page: the token check, the demand limits, the
 * dashboard's allow-list and the audit trail apply to each page exactly as
 * to any query, and nothing here reads data any other way.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../runtime/logger.ts';
import { readBody, sendJson } from '../../runtime/plain-http.ts';
import { acceptableRequestId } from '../../runtime/request-scope.ts';
import { collect, ExportRequestError, GraphQLFailure, UpstreamError, type ExportRequest, type Post } from './collect.ts';
import { formats, isExportFormat, render } from './formats.ts';

export interface ExportRouteOptions {
  logger: Logger;
  /** Largest number of rows one export holds (it is built in memory). */
  maxRows?: number;
  /** Largest request body, in bytes. */
  maxBodyBytes?: number;
}

export const DEFAULT_EXPORT_MAX_ROWS = 100_000;

function refuse(res: ServerResponse, status: number, code: string, message: string): void {
  sendJson(res, status, { errors: [{ message, extensions: { code } }] });
}

/** The HTTP status of an answer whose errors failed the export: the graph's own when it was a refusal, else by code. */
export function statusOf(failure: GraphQLFailure): number {
  if (failure.status >= 400 && failure.status < 500) return failure.status;
  const code = failure.errors[0]?.extensions?.code;
  switch (code) {
    case 'UNAUTHENTICATED':
      return 401;
    case 'FORBIDDEN':
    case 'FORBIDDEN_FIELD':
      return 403;
    case 'BAD_USER_INPUT':
    case 'BAD_REQUEST':
    case 'GRAPHQL_PARSE_FAILED':
    case 'GRAPHQL_VALIDATION_FAILED':
    case 'DEMAND_LIMIT_EXCEEDED':
    case 'PERSISTED_QUERY_NOT_FOUND':
    case 'OPERATION_RESOLUTION_FAILURE':
      return 400;
    case 'SUBGRAPH_TIMEOUT':
      return 504;
    default:
      // The graph, not the request, failed (a subgraph down, say): a bad gateway, never a client's mistake.
      return 502;
  }
}

/** What the request asks for, or why it cannot be read. */
function readRequest(text: string): ExportRequest | string {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return 'The request body is not valid JSON: send { "query": "...", "variables": { ... } }';
  }
  const b = body as Record<string, unknown> | null;
  if (typeof b !== 'object' || b === null || Array.isArray(b)) return 'The request body must be a JSON object: { "query": "...", "variables": { ... } }';
  if (typeof b.query !== 'string' || b.query.trim() === '') return 'The request body needs a query (a string)';
  if (b.variables !== undefined && b.variables !== null && (typeof b.variables !== 'object' || Array.isArray(b.variables))) return 'variables must be a JSON object';
  for (const key of ['operationName', 'rows'] as const) {
    if (b[key] !== undefined && b[key] !== null && typeof b[key] !== 'string') return `${key} must be a string`;
  }
  return {
    query: b.query,
    ...(b.variables ? { variables: b.variables as Record<string, unknown> } : {}),
    ...(typeof b.operationName === 'string' ? { operationName: b.operationName } : {}),
    ...(typeof b.rows === 'string' ? { rows: b.rows } : {}),
  };
}

/** This gateway's /graphql, at the address and port the request came in on: reachable, whatever HOST says. */
function ownGraphQL(req: IncomingMessage): string {
  const address = req.socket.localAddress ?? '127.0.0.1';
  return `http://${address.includes(':') ? `[${address}]` : address}:${req.socket.localPort}/graphql`;
}

/** A file name that says what and when, in plain characters. */
function fileName(rowsFrom: string, at: string, extension: string): string {
  const what = rowsFrom.replace(/\.nodes$/, '').replace(/[^\w.-]+/g, '-') || 'answer';
  return `lgnet-${what}-${at.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}.${extension}`;
}

export function exportRoute(options: ExportRouteOptions) {
  const { logger, maxRows = DEFAULT_EXPORT_MAX_ROWS, maxBodyBytes = 1_000_000 } = options;
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const format = new URL(req.url ?? '/', 'http://localhost').searchParams.get('format') ?? 'csv';
    if (!isExportFormat(format)) return refuse(res, 400, 'BAD_REQUEST', `format must be one of ${Object.keys(formats).join(', ')}`);
    const text = await readBody(req, maxBodyBytes);
    if (text === null) {
      // The rest of the body is left unread: the connection cannot carry another request.
      res.setHeader('connection', 'close');
      return refuse(res, 413, 'BAD_REQUEST', `Request body larger than ${maxBodyBytes} bytes`);
    }
    const request = readRequest(text);
    if (typeof request === 'string') return refuse(res, 400, 'BAD_REQUEST', request);

    const requestId = acceptableRequestId(req.headers['x-request-id']) ?? randomUUID();
    const gone = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) gone.abort(new Error('the client went away'));
    });
    const url = ownGraphQL(req);
    const post: Post = async (body) => {
      let response: Response;
      try {
        response = await fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-request-id': requestId,
            ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
          },
          body: JSON.stringify(body),
          signal: gone.signal,
        });
      } catch (e) {
        if (gone.signal.aborted) throw e;
        throw new UpstreamError(`The gateway's /graphql could not be reached (${(e as Error).message})`);
      }
      const answer = await response.text();
      try {
        return { status: response.status, body: JSON.parse(answer) };
      } catch {
        throw new UpstreamError(`The gateway's /graphql answered status ${response.status} with no JSON`);
      }
    };

    const started = Date.now();
    try {
      const result = await collect(request, { post, maxRows, signal: gone.signal });
      const file = await render(format, result);
      logger.info('export', { requestId, format, rows: result.table.rows.length, pages: result.pages, rowsFrom: result.rowsFrom, ms: Date.now() - started });
      res.writeHead(200, {
        'content-type': formats[format].contentType,
        'content-disposition': `attachment; filename="${fileName(result.rowsFrom, result.coverage.requestedAt, formats[format].extension)}"`,
        'content-length': file.length,
        // The file may hold personal data: no cache keeps a copy.
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
      });
      res.end(file);
    } catch (e) {
      if (gone.signal.aborted) return void res.destroy();
      if (e instanceof ExportRequestError) return refuse(res, 400, e.code, e.message);
      if (e instanceof GraphQLFailure) return sendJson(res, statusOf(e), { errors: e.errors });
      if (e instanceof UpstreamError) {
        logger.error('export failed', { requestId, error: e.message });
        return refuse(res, 502, 'BAD_GATEWAY', e.message);
      }
      logger.error('export failed', { requestId, error: (e as Error).stack ?? String(e) });
      return refuse(res, 500, 'INTERNAL_ERROR', 'The export failed on this request');
    }
  };
}
