/**
 * The query IDE a browser gets at /graphql (LGNET_IDE=1): GraphiQL 3 with
 * React, served from the installed packages by this gateway, so that it works
 * on a network with no way out and loads nothing from anywhere else. The
 * page allows only its own origin's scripts and styles (the fonts and images
 * GraphiQL's stylesheet carries inline as data: URLs aside). Each asset's
 * URL holds a hash of its bytes, so it can be cached for good and an upgrade
 * is still picked up.
 */
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import type { RouteHandler } from '../runtime/http.ts';
import { settingsEnv } from '../runtime/settings.ts';

const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';

const require = createRequire(import.meta.url);
/** A file of an installed package, found as Node finds the package (react does not export its UMD builds by name). */
const installed = (pkg: string, path: string) => join(dirname(require.resolve(`${pkg}/package.json`)), path);
const own = (name: string) => fileURLToPath(new URL(`./ide-page/${name}`, import.meta.url));

/** The page's files, in the order the page loads them: GraphiQL's bundle expects React and ReactDOM as globals. */
export const ideFiles = [
  { name: 'graphiql.min.css', file: installed('graphiql', 'graphiql.min.css'), type: CSS },
  { name: 'ide.css', file: own('ide.css'), type: CSS },
  { name: 'react.production.min.js', file: installed('react', 'umd/react.production.min.js'), type: JS },
  { name: 'react-dom.production.min.js', file: installed('react-dom', 'umd/react-dom.production.min.js'), type: JS },
  { name: 'graphiql.min.js', file: installed('graphiql', 'graphiql.min.js'), type: JS },
  { name: 'ide.js', file: own('ide.js'), type: JS },
] as const;

/**
 * Only this origin's scripts, styles and calls. GraphiQL's stylesheet embeds
 * its fonts and a few images as data: URLs, which load nothing from anywhere.
 */
export const IDE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const pageHeaders = {
  'content-type': 'text/html; charset=utf-8',
  // The page names the assets by hash: it is checked again on every visit, they never are.
  'cache-control': 'no-cache',
  'content-security-policy': IDE_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

function sendHtml(res: ServerResponse, status: number, html: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...pageHeaders, 'content-length': String(Buffer.byteLength(html)), ...headers });
  res.end(html);
}

export interface Ide {
  /** The page, for a browser's GET of /graphql. */
  page: RouteHandler;
  /** Each asset's route, by path (`/ide/assets/<hash>/<name>`). */
  assets: Record<string, RouteHandler>;
}

/**
 * The IDE's page and asset routes. Every file is read once here, for its
 * hash: a package missing from node_modules stops the gateway at start, not
 * a browser later.
 */
export function createIde(options: { introspection: boolean }): Ide {
  const assets: Record<string, RouteHandler> = {};
  const urls: Record<string, string> = {};
  for (const { name, file, type } of ideFiles) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch (e) {
      throw new Error(`The query IDE (${settingsEnv.ide}=1) needs ${file}, which cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): install the packages, or set ${settingsEnv.ide}=0`);
    }
    const url = `/ide/assets/${createHash('sha256').update(bytes).digest('hex').slice(0, 16)}/${name}`;
    urls[name] = url;
    assets[url] = async (_req: IncomingMessage, res: ServerResponse) => {
      // Streamed from the file as installed: nothing of GraphiQL's 3.5 MB is held in memory.
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
  const styles = ideFiles.filter((f) => f.type === CSS).map((f) => `<link rel="stylesheet" href="${urls[f.name]}">`);
  const scripts = ideFiles.filter((f) => f.type === JS).map((f) => `<script src="${urls[f.name]}"></script>`);
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>LGNet graph: query IDE</title>
${styles.join('\n')}
</head>
<body>
<noscript>The query IDE needs JavaScript. Without it, POST GraphQL queries to this address with the header Authorization: Bearer &lt;token&gt;.</noscript>
<div id="ide" data-introspection="${options.introspection ? 'on' : 'off'}"></div>
${scripts.join('\n')}
</body>
</html>
`;
  return { page: (_req, res) => sendHtml(res, 200, html), assets };
}

/** What a browser opening /graphql gets when the IDE is off: why, and how to ask the graph instead. Never a GraphQL error it cannot act on. */
export const ideOff: RouteHandler = (_req, res) =>
  sendHtml(
    res,
    404,
    `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>LGNet graph: no query IDE here</title></head>
<body>
<h1>The query IDE is off on this gateway</h1>
<p>It is served only where ${settingsEnv.ide}=1 (as in the sandbox, <code>npm start</code>).
GraphQL is answered here all the same: POST a query to this address, as JSON, with the header
<code>Authorization: Bearer &lt;token&gt;</code>, from curl or a GraphQL client.</p>
</body>
</html>
`,
  );
