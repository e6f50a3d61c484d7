/**
 * The operations the dashboard role may run: published figures are designed
 * as whole tables (with complementary suppression inside each), and a
 * client free to ask any combination of counts could subtract one from
 * another. So the dashboard runs only these persisted operations, sent as
 * their exact text or by their SHA-256 (Apollo's persisted-query extension).
 */
import { InMemoryLRUCache, type KeyValueCache } from '@apollo/utils.keyvaluecache';
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GraphQLError } from 'graphql';
import type { Caller } from '../access/caller.ts';

export const dashboardOperationsDir = fileURLToPath(new URL('./operations/dashboard/', import.meta.url));

export interface AllowList {
  /** Operation text by SHA-256 hex of the text. */
  byHash: ReadonlyMap<string, { name: string; text: string }>;
}

export function loadAllowList(dir: string = dashboardOperationsDir): AllowList {
  const byHash = new Map<string, { name: string; text: string }>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.graphql')).sort()) {
    const text = readFileSync(join(dir, file), 'utf8');
    byHash.set(createHash('sha256').update(text).digest('hex'), { name: file.replace(/\.graphql$/, ''), text });
  }
  return { byHash };
}

/** The prefix Apollo Server puts before a hash in its persisted-query cache. */
const APQ_PREFIX = 'apq:';

/** Apollo's persisted-query cache, answering the allow-listed operations by hash before anything else. */
export function persistedQueryCache(list: AllowList): KeyValueCache<string> {
  const registered = new InMemoryLRUCache<string>({ maxSize: 4 * 1024 * 1024 });
  return {
    get: async (key) => (key.startsWith(APQ_PREFIX) ? list.byHash.get(key.slice(APQ_PREFIX.length))?.text : undefined) ?? registered.get(key),
    set: (key, value, options) => registered.set(key, value, options),
    delete: (key) => registered.delete(key),
  };
}

/** Refuses any other operation from the dashboard role, before it is planned or any city is asked. */
export function allowListPlugin<C extends BaseContext & { caller: Caller }>(list: AllowList): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ contextValue, queryHash }) {
          if (contextValue.caller.role !== 'dashboard' || list.byHash.has(queryHash)) return;
          throw new GraphQLError(
            `The dashboard role may run only the published operations (${[...list.byHash.values()].map((o) => o.name).join(', ')}), sent as their exact text or by their SHA-256`,
            { extensions: { code: 'OPERATION_NOT_ALLOWED', http: { status: 403 } } },
          );
        },
      };
    },
  };
}
