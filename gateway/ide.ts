/**
 * The query IDE a browser gets at /graphql (LGNET_IDE=1): GraphiQL 3 with
 * React, served from the installed packages by this gateway, so that it works
 * on a network with no way out and loads nothing from anywhere else. The
 * page allows only its own origin's scripts and styles (the fonts and images
 * GraphiQL's stylesheet carries inline as data: URLs aside). Each asset's
 * URL holds a hash of its bytes, so it can be cached for good and an upgrade
 * is still picked up.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RouteHandler } from '../runtime/http.ts';
import { settingsEnv } from '../runtime/settings.ts';
import { CSS, hashedAssets, JS, sameOriginCsp, sendHtml } from './assets.ts';

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
export const IDE_CSP = sameOriginCsp({ 'img-src': 'data:', 'font-src': 'data:' });

export interface Ide {
  /** The page, for a browser's GET of /graphql. */
  page: RouteHandler;
  /** Each asset's route, by path (`/ide/assets/<hash>/<name>`). */
  assets: Record<string, RouteHandler>;
}

/** The IDE's page and asset routes (see gateway/assets.ts). */
export function createIde(options: { introspection: boolean }): Ide {
  const { urls, routes: assets } = hashedAssets('/ide', ideFiles, { label: 'The query IDE', setting: settingsEnv.ide });
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
  return { page: (_req, res) => sendHtml(res, 200, html, IDE_CSP), assets };
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
    IDE_CSP,
  );
