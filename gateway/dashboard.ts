/**
 * The programme dashboard a browser gets at /dashboard (LGNET_DASHBOARD=1):
 * per-city progress against targets, intakes per month, housing occupancy,
 * movers, and each city's coverage and freshness, drawn with Chart.js.
 *
 * It is a client like any other: it sends a pasted token and runs the
 * dashboard role's published operations (gateway/operations/dashboard/) by
 * their SHA-256, so it shows exactly what any dashboard built on the graph
 * may show, withheld counts included. Chart.js comes from node_modules and
 * the page's own files from gateway/dashboard/, served by this gateway under
 * hashed URLs (gateway/assets.ts), in a page that allows its own origin only.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RouteHandler } from '../runtime/http.ts';
import { settingsEnv } from '../runtime/settings.ts';
import type { AllowList } from './allow-list.ts';
import { CSS, escapeHtml, hashedAssets, JS, sameOriginCsp, sendHtml, type PageFile } from './assets.ts';

const require = createRequire(import.meta.url);
/** Chart.js exports no path but its entry points: its UMD bundle is found beside the CommonJS one. */
const chartJs = join(dirname(require.resolve('chart.js')), 'chart.umd.min.js');
const own = (name: string) => fileURLToPath(new URL(`./dashboard/${name}`, import.meta.url));

/** The page's files, in the order it loads them: the page's script expects Chart.js as a global. */
export const dashboardFiles: readonly PageFile[] = [
  { name: 'dashboard.css', file: own('dashboard.css'), type: CSS },
  { name: 'chart.umd.min.js', file: chartJs, type: JS },
  { name: 'dashboard.js', file: own('dashboard.js'), type: JS },
];

/** Chart.js draws on a canvas: no inline style, no image, nothing of another origin. */
export const DASHBOARD_CSP = sameOriginCsp();

export interface Dashboard {
  /** The page, for GET /dashboard. */
  page: RouteHandler;
  /** Each asset's route, by path (`/dashboard/assets/<hash>/<name>`). */
  assets: Record<string, RouteHandler>;
}

/**
 * The dashboard's page and asset routes. The page carries the published
 * operations' names and hashes, read from the allow-list itself, so the two
 * cannot drift apart.
 */
export function createDashboard(allowList: AllowList): Dashboard {
  const { urls, routes: assets } = hashedAssets('/dashboard', dashboardFiles, { label: 'The programme dashboard', setting: settingsEnv.dashboard });
  const operations = Object.fromEntries([...allowList.byHash].map(([hash, op]) => [op.name, hash]));
  const styles = dashboardFiles.filter((f) => f.type === CSS).map((f) => `<link rel="stylesheet" href="${urls[f.name]}">`);
  const scripts = dashboardFiles.filter((f) => f.type === JS).map((f) => `<script src="${urls[f.name]}"></script>`);
  const html = `<!doctype html>
<html lang="it">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>LGNet</title>
${styles.join('\n')}
</head>
<body data-operations="${escapeHtml(JSON.stringify(operations))}">
<noscript>Il cruscotto richiede JavaScript. / The dashboard needs JavaScript.</noscript>
<header class="bar">
  <h1 data-i18n="title"></h1>
  <div class="lang" role="group" data-i18n-label="language">
    <button type="button" data-lang="it">Italiano</button>
    <button type="button" data-lang="en">English</button>
  </div>
</header>
<section class="controls">
  <label class="token"><span data-i18n="token"></span> <input name="token" type="password" autocomplete="off" spellcheck="false"></label>
  <span id="token-status" role="status"></span>
  <label><span data-i18n="edition"></span> <select name="edition"></select></label>
  <label><span data-i18n="from"></span> <select name="from"></select></label>
  <label><span data-i18n="to"></span> <select name="to"></select></label>
  <button type="button" name="refresh" data-i18n="refresh"></button>
  <p class="note" data-i18n="periodNote"></p>
</section>
<p id="message" role="alert"></p>
<p id="legend" class="legend"></p>
<main>
  <section id="progress">
    <h2 data-i18n="progressTitle"></h2>
    <div id="targets"></div>
    <label><span data-i18n="indicator"></span> <select name="indicator"></select></label>
    <div class="chart"><canvas id="chart-progress"></canvas></div>
    <details><summary data-i18n="dataTable"></summary><table id="table-progress"></table></details>
  </section>
  <section id="months">
    <h2 data-i18n="monthsTitle"></h2>
    <p class="note" id="months-note"></p>
    <div class="chart"><canvas id="chart-months"></canvas></div>
    <details><summary data-i18n="dataTable"></summary><table id="table-months"></table></details>
  </section>
  <section id="housing">
    <h2 data-i18n="housingTitle"></h2>
    <p class="note" data-i18n="housingNote"></p>
    <div class="chart"><canvas id="chart-housing"></canvas></div>
    <details><summary data-i18n="dataTable"></summary><table id="table-housing"></table></details>
  </section>
  <section id="movers">
    <h2 data-i18n="moversTitle"></h2>
    <p id="movers-count"></p>
    <table id="table-movers"></table>
  </section>
  <section id="coverage">
    <h2 data-i18n="coverageTitle"></h2>
    <table id="table-coverage"></table>
  </section>
</main>
${scripts.join('\n')}
</body>
</html>
`;
  return { page: (_req, res) => sendHtml(res, 200, html, DASHBOARD_CSP), assets };
}

/** What a browser opening /dashboard gets when the dashboard is off: why, and what to do instead. */
export const dashboardOff: RouteHandler = (_req, res) =>
  sendHtml(
    res,
    404,
    `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>LGNet graph: no dashboard here</title></head>
<body>
<h1>The programme dashboard is off on this gateway</h1>
<p>It is served only where ${settingsEnv.dashboard}=1 (as in the sandbox, <code>npm start</code>).
The figures it shows are answered at <code>/graphql</code> all the same, to the published operations of the dashboard role.</p>
</body>
</html>
`,
    DASHBOARD_CSP,
  );
