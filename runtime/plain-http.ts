/**
 * Plain HTTP helpers with no GraphQL in them, so that small servers (the
 * sandbox's identity provider, whose module `npm run token` loads) need not
 * load Apollo Server.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** The body as text, or null once it grows past `limit` bytes (the rest is left unread). */
export async function readBody(req: IncomingMessage, limit: number): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}
