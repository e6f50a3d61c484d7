/**
 * Cross-origin calls to /graphql, for dashboards served from another site:
 * only the origins of LGNET_CORS_ORIGINS, none by default. A page of any
 * other origin gets no CORS header, so its browser keeps the answer from it.
 * The token travels in the Authorization header, never in a cookie, so no
 * credentials are allowed. Apollo's CSRF prevention still applies: a page of
 * an allowed origin sends JSON, which its browser checks with a preflight.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RouteHandler } from '../runtime/http.ts';

/** What a preflight from an allowed origin is told. */
export const corsPolicy = {
  methods: 'POST, GET',
  headers: 'content-type, authorization, apollo-require-preflight, x-request-id',
  /** How long a browser may reuse a preflight's answer, in seconds (Chromium keeps it at most 2 hours). */
  maxAgeSeconds: 7200,
} as const;

/** The CORS step of /graphql for these origins (each exactly as a browser sends it, see runtime/settings.ts corsOrigins). */
export function corsHandler(origins: readonly string[]): RouteHandler {
  const allowed = new Set(origins);
  return (req: IncomingMessage, res: ServerResponse) => {
    // Every answer depends on the Origin: a shared cache must not hand one origin's answer to another.
    res.appendHeader('vary', 'Origin');
    const origin = req.headers.origin;
    // Any other origin is answered as if there were no CORS at all: a preflight then fails in its browser.
    if (!origin || !allowed.has(origin)) return;
    res.setHeader('access-control-allow-origin', origin);
    const preflight = req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
    if (!preflight) return;
    res.writeHead(204, {
      'access-control-allow-methods': corsPolicy.methods,
      'access-control-allow-headers': corsPolicy.headers,
      'access-control-max-age': String(corsPolicy.maxAgeSeconds),
      'content-length': '0',
    });
    res.end();
  };
}
