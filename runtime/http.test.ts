import { ApolloServer } from '@apollo/server';
import { describe, expect, it } from 'vitest';
import { sendJson, serveGraphQL, type RunningHttpServer } from './http.ts';

/** A tiny graph whose one field answers after `ms` milliseconds. */
async function serve(options: { drainDelayMs?: number } = {}): Promise<RunningHttpServer> {
  return serveGraphQL({
    apollo: (drain) =>
      new ApolloServer({
        typeDefs: 'type Query { slow(ms: Int!): Int }',
        resolvers: { Query: { slow: async (_: unknown, a: { ms: number }) => new Promise((r) => setTimeout(() => r(a.ms), a.ms)) } },
        plugins: [drain],
      }),
    context: async () => ({}),
    routes: { '/health': (_req, res) => sendJson(res, 200, { status: 'ok' }) },
    port: 0,
    maxBodyBytes: 1000,
    ...options,
  });
}

const post = (s: RunningHttpServer, body: string) => fetch(s.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

describe('serving GraphQL over HTTP', () => {
  it('answers client mistakes with coded 4xx, never a 500', async () => {
    const s = await serve();
    try {
      const bad = await post(s, '{"query": ');
      expect([bad.status, ((await bad.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0]!.extensions.code]).toEqual([400, 'BAD_REQUEST']);
      const big = await post(s, JSON.stringify({ query: `{ slow(ms: 1) } #${'x'.repeat(2000)}` }));
      expect(big.status).toBe(413);
      expect(big.headers.get('connection')).toBe('close');
      const name = await post(s, JSON.stringify({ query: '{ slow(ms: 1) }', operationName: 'x'.repeat(200) }));
      expect(name.status).toBe(400);
      for (const path of ['/nowhere', '//', '//:99999/graphql']) {
        const res = await fetch(new URL(s.url).origin + path);
        expect(res.status, path).toBe(404);
      }
      const ok = await post(s, JSON.stringify({ query: '{ slow(ms: 1) }' }));
      expect(await ok.json()).toEqual({ data: { slow: 1 } });
    } finally {
      await s.close();
    }
  });

  it('stops gracefully: readiness turns 503, the request in flight finishes, then the server is gone', async () => {
    const s = await serve({ drainDelayMs: 300 });
    const inFlight = post(s, JSON.stringify({ query: '{ slow(ms: 600) }' }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const closing = s.close();
    const health = await fetch(new URL('/health', s.url));
    expect(health.status).toBe(503);
    expect(await (await inFlight).json()).toEqual({ data: { slow: 600 } });
    await closing;
    await expect(fetch(new URL('/health', s.url))).rejects.toThrow();
  });
});
