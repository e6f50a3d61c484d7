/**
 * Reading a source that pages (REST, SOAP, GraphQL): which requests cover a
 * slice of rows, and the reads of a slice and of everything, whatever the
 * protocol that fetches one page.
 */
import type { RawRow } from '../port.ts';
import { mapConcurrently } from './http.ts';

/** One page as a connector fetched it. */
export interface Chunk {
  rows: RawRow[];
  /** Rows the request selects in all; absent only where a look-up does not page. */
  total: number | undefined;
}

/** Fetches `size` rows from row `start`. */
export type FetchChunk = (start: number, size: number) => Promise<Chunk>;

/** Most page requests in flight at once for one read. */
export const maxConcurrentRequests = 4;

/**
 * The requests that cover rows `[offset, offset + limit)`: their size and the
 * row each starts at. `offset` style addresses any row; `page` style only
 * multiples of the page size, so the covering pages are fetched and sliced.
 * Of the two sizes worth trying (the limit, the largest page), the one that
 * takes fewer requests wins, then the one that reads fewer rows.
 */
export function planChunks(style: 'page' | 'offset', offset: number, limit: number, maxPageSize: number): { size: number; starts: number[] } {
  // A zero limit still asks for one row: the total comes with it.
  const want = Math.max(limit, 1);
  if (style === 'offset') {
    const size = Math.min(want, maxPageSize);
    const starts: number[] = [];
    for (let index = offset; index < offset + want; index += size) starts.push(index);
    return { size, starts };
  }
  let best: { size: number; starts: number[] } | undefined;
  for (const size of [Math.min(want, maxPageSize), maxPageSize]) {
    const starts: number[] = [];
    for (let page = Math.floor(offset / size); page * size < offset + want; page++) starts.push(page * size);
    if (!best || starts.length < best.starts.length) best = { size, starts };
  }
  return best!;
}

/** Rows `[offset, offset + limit)`, from the pages that cover them, with the total the first page gives. */
export async function readSlice(style: 'page' | 'offset', maxPageSize: number, offset: number, limit: number, fetch: FetchChunk): Promise<{ rows: RawRow[]; total: number | undefined }> {
  const plan = planChunks(style, offset, limit, maxPageSize);
  const chunks = await mapConcurrently(plan.starts, maxConcurrentRequests, (start) => fetch(start, plan.size));
  const skip = offset - plan.starts[0]!;
  return { rows: chunks.flatMap((c) => c.rows).slice(skip, skip + limit), total: chunks[0]!.total };
}

/**
 * Every row a request selects: the first page, then the others it says there
 * are, concurrently. `first` fetches the first page (it may insist on a total,
 * which later pages need not give).
 */
export async function readAll(maxPageSize: number, first: FetchChunk, next: FetchChunk = first): Promise<Chunk> {
  const head = await first(0, maxPageSize);
  if (head.total === undefined || head.rows.length >= head.total) return head;
  const starts: number[] = [];
  for (let start = maxPageSize; start < head.total; start += maxPageSize) starts.push(start);
  const rest = await mapConcurrently(starts, maxConcurrentRequests, (start) => next(start, maxPageSize));
  return { rows: [head, ...rest].flatMap((c) => c.rows), total: head.total };
}
