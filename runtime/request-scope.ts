/**
 * What a request carries through every call it makes, without passing it by
 * hand: its id, so that one query can be followed from the gateway to each
 * subgraph and on to every city system it asks (`x-request-id`).
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface RequestScope {
  requestId: string;
}

export const requestScope = new AsyncLocalStorage<RequestScope>();

/** An id a client or the gateway may hand on: short, and plain characters only (it goes into headers and logs). */
export function acceptableRequestId(value: unknown): string | undefined {
  return typeof value === 'string' && /^[\w-]{1,100}$/.test(value) ? value : undefined;
}
