/**
 * Pages the gateway serves to browsers (the query IDE, the programme
 * dashboard) and their files: scripts and styles streamed from the installed
 * packages and from this repository, under URLs holding a hash of their
 * bytes, so that they can be cached for good and an upgrade still reaches
 * every browser. Nothing is fetched from anywhere else: the pages work on a
 * network with no way out.
 */
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { RouteHandler } from '../runtime/http.ts';

export const JS = 'text/javascript; charset=utf-8';
export const CSS = 'text/css; charset=utf-8';

export interface PageFile {
  /** The name in its URL, e.g. `chart.umd.min.js`. */
  name: string;
  /** Where it is on disk. */
  file: string;
  type: typeof JS | typeof CSS;
}

/** What needs the files, for the error that stops the gateway when one is missing. */
export interface Feature {
  /** e.g. `The query IDE`. */
  label: string;
  /** The setting that turns it off, e.g. `LGNET_IDE`. */
  setting: string;
}

/**
 * Each file's URL (`<prefix>/assets/<hash>/<name>`) and route. Every file is
 * read once here, for its hash: a package missing from node_modules stops the
 * gateway at start, not a browser later.
 */
export function hashedAssets(prefix: string, files: readonly PageFile[], feature: Feature): { urls: Record<string, string>; routes: Record<string, RouteHandler> } {
  const urls: Record<string, string> = {};
  const routes: Record<string, RouteHandler> = {};
  for (const { name, file, type } of files) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch (e) {
      throw new Error(`${feature.label} (${feature.setting}=1) needs ${file}, which cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): install the packages, or set ${feature.setting}=0`);
    }
    const url = `${prefix}/assets/${createHash('sha256').update(bytes).digest('hex').slice(0, 16)}/${name}`;
    urls[name] = url;
    routes[url] = async (_req, res) => {
      // Streamed from the file as installed: nothing of a package's megabytes is held in memory.
      const { size } = await stat(file);
      res.writeHead(200, {
        'content-type': type,
        'content-length': String(size),
        'cache-control': 'public, max-age=31536000, immutable',
        'x-content-type-options': 'nosniff',
      });
      await pipeline(createReadStream(file), res);
    };
  }
  return { urls, routes };
}

/**
 * Only this origin's scripts, styles and calls, and no inline script or
 * style. `extra` adds sources to a directive (e.g. `img-src data:`).
 */
export function sameOriginCsp(extra: Partial<Record<'img-src' | 'font-src', string>> = {}): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src 'self'${extra['img-src'] ? ` ${extra['img-src']}` : ''}`,
    ...(extra['font-src'] ? [`font-src 'self' ${extra['font-src']}`] : []),
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** An HTML page under a Content-Security-Policy. The page names its files by hash: it is checked again on every visit, they never are. */
export function sendHtml(res: ServerResponse, status: number, html: string, csp: string): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-cache',
    'content-security-policy': csp,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'content-length': String(Buffer.byteLength(html)),
  });
  res.end(html);
}

/** Text for an HTML page: `&`, `<`, `>` and quotes escaped. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
