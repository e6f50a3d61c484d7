/**
 * Runs an export's query over GraphQL, through whatever `post` is given (the
 * command line's HTTP client, or the gateway's call to its own /graphql), and
 * gathers the rows and the coverage. A paged list is walked to its end:
 * `endCursor` passed as the query's own `after` variable until `hasNextPage`
 * is false. Nothing here reaches the data but by asking the graph, so every
 * rule, limit and audit entry applies to an export as to any query.
 */
import type { GraphQLFormattedError, GraphQLSchema } from 'graphql';
import { CoverageCollector, sortErrors } from './coverage.ts';
import type { ExportResult } from './formats.ts';
import { ExportRequestError, shapeOf, supergraphSchema, type QueryShape } from './shape.ts';
import { chooseRows, outsideRows, rowsAt, shapeAt, tabulate } from './table.ts';

export { ExportRequestError };

export interface ExportRequest {
  query: string;
  variables?: Record<string, unknown>;
  operationName?: string;
  /** Dotted path of the list to take as rows, when the query has several (`report.cities`). */
  rows?: string;
}

/** One GraphQL request's outcome: its HTTP status and its parsed JSON body. */
export interface GraphQLExchange {
  status: number;
  body: unknown;
}
export type Post = (request: { query: string; variables: Record<string, unknown>; operationName?: string }) => Promise<GraphQLExchange>;

export interface Progress {
  rows: number;
  /** The walk's totalCount, when the query asks for it. */
  totalCount: number | null;
  pages: number;
}

export interface CollectOptions {
  post: Post;
  /** Types the query's leaves (dates); default the supergraph. */
  schema?: GraphQLSchema;
  /** Largest number of rows taken; past it the export is refused (ExportRequestError, code EXPORT_TOO_LARGE). */
  maxRows?: number;
  onProgress?: (progress: Progress) => void;
  signal?: AbortSignal;
  now?: () => Date;
}

/** The graph answered with errors the export cannot stand on (a refused token, a forbidden field, a bad argument). */
export class GraphQLFailure extends Error {
  override name = 'GraphQLFailure';
  /** The HTTP status of the answer. */
  readonly status: number;
  readonly errors: GraphQLFormattedError[];
  constructor(status: number, errors: GraphQLFormattedError[]) {
    super(errors.map(describeError).join('\n'));
    this.status = status;
    this.errors = errors;
  }
}

/** The graph could not be asked, or did not answer in GraphQL. */
export class UpstreamError extends Error {
  override name = 'UpstreamError';
}

/** One error in a line: its code, the city and subgraph it names, where, and what. */
export function describeError(e: GraphQLFormattedError): string {
  const x = e.extensions ?? {};
  const about = [typeof x.city === 'string' ? `city ${x.city}` : '', typeof x.subgraph === 'string' ? `subgraph ${x.subgraph}` : ''].filter(Boolean).join(', ');
  return `${typeof x.code === 'string' ? x.code : 'ERROR'}${about ? ` (${about})` : ''}${e.path?.length ? ` at ${e.path.join('.')}` : ''}: ${e.message}`;
}

interface Answer {
  data?: Record<string, unknown> | null;
  errors?: GraphQLFormattedError[];
}

function asAnswer(exchange: GraphQLExchange): Answer {
  const body = exchange.body as Answer | null;
  if (typeof body !== 'object' || body === null || (!('data' in body) && !Array.isArray(body.errors))) {
    throw new UpstreamError(`The graph answered status ${exchange.status} with no GraphQL in it`);
  }
  return body;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The data of an answer the export can use, or a GraphQLFailure: an error
 * other than a city's missing data or an empty value, or no data at all
 * (every root field null: nothing to export, whatever the reason).
 */
function usable(exchange: GraphQLExchange, answer: Answer, coverage: CoverageCollector): Record<string, unknown> {
  const errors = answer.errors ?? [];
  const sorted = sortErrors(errors);
  const data = answer.data;
  if (sorted.fatal.length > 0) throw new GraphQLFailure(exchange.status, sorted.fatal);
  if (!isObject(data) || (errors.length > 0 && Object.values(data).every((v) => v === null))) {
    throw new GraphQLFailure(exchange.status, errors.length ? errors : [{ message: 'The answer holds no data' }]);
  }
  coverage.addErrors(sorted);
  return data;
}

function tooLarge(rows: number, max: number): ExportRequestError {
  return new ExportRequestError(`The export would hold ${rows} rows, more than the ${max} one export may: narrow the query's filter`, 'EXPORT_TOO_LARGE');
}

export async function collect(request: ExportRequest, options: CollectOptions): Promise<ExportResult> {
  const { post, maxRows = Infinity, onProgress, signal, now = () => new Date() } = options;
  const shape: QueryShape = shapeOf(request.query, request.operationName, options.schema ?? supergraphSchema());
  const walk = shape.walk;
  if (walk && request.rows !== undefined && request.rows !== [...walk.path, walk.nodesKey].join('.')) {
    throw new ExportRequestError(`The query pages through ${walk.path.join('.')}: its rows are ${[...walk.path, walk.nodesKey].join('.')}`);
  }
  const coverage = new CoverageCollector(now());
  const variables: Record<string, unknown> = { ...request.variables };
  const ask = async () => {
    signal?.throwIfAborted();
    const exchange = await post({ query: request.query, variables, ...(request.operationName ? { operationName: request.operationName } : {}) });
    const data = usable(exchange, asAnswer(exchange), coverage);
    coverage.addAnswer(shape.root, data);
    return data;
  };

  if (!walk) {
    const data = await ask();
    const choice = chooseRows(shape.root, data, request.rows);
    const items = rowsAt(data, choice.path);
    if (items.length > maxRows) throw tooLarge(items.length, maxRows);
    onProgress?.({ rows: items.length, totalCount: null, pages: 1 });
    return {
      rowsFrom: choice.path.join('.'),
      otherLists: choice.others,
      items,
      table: tabulate(choice.shape, items),
      outside: outsideRows(shape.root, data, choice.shape),
      coverage: coverage.result(),
      pages: 1,
    };
  }

  const where = walk.path.join('.');
  const items: unknown[] = [];
  const cursors = new Set<string>();
  let pages = 0;
  let data: Record<string, unknown>;
  for (;;) {
    data = await ask();
    pages++;
    const [connection] = rowsAt(data, walk.path);
    if (!isObject(connection)) throw new GraphQLFailure(200, [{ message: `${where} is null on page ${pages}: the list cannot be walked` }]);
    const nodes = connection[walk.nodesKey];
    if (Array.isArray(nodes)) items.push(...nodes);
    const total = walk.totalCountKey ? connection[walk.totalCountKey] : null;
    const totalCount = typeof total === 'number' ? total : null;
    if (Math.max(items.length, totalCount ?? 0) > maxRows) throw tooLarge(Math.max(items.length, totalCount ?? 0), maxRows);
    onProgress?.({ rows: items.length, totalCount, pages });
    const pageInfo = connection[walk.pageInfoKey];
    if (!isObject(pageInfo) || pageInfo[walk.hasNextPageKey] !== true) break;
    const cursor = pageInfo[walk.endCursorKey];
    // A cursor seen before would walk in a circle: the graph never gives one, but a walk must end.
    if (typeof cursor !== 'string' || cursors.has(cursor)) {
      throw new GraphQLFailure(200, [{ message: `${where} says more pages follow page ${pages} but gives no new endCursor` }]);
    }
    cursors.add(cursor);
    variables[walk.afterVariable] = cursor;
  }
  const nodesShape = shapeAt(shape.root, [...walk.path, walk.nodesKey])!;
  return {
    rowsFrom: [...walk.path, walk.nodesKey].join('.'),
    otherLists: [],
    items,
    table: tabulate(nodesShape, items),
    outside: outsideRows(shape.root, data, nodesShape),
    coverage: coverage.result(),
    pages,
  };
}
