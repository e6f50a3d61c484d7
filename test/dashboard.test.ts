/**
 * The programme dashboard at /dashboard, end to end: the page and its files
 * as the gateway serves them, and, where a Chromium is installed, the page in
 * a headless browser with a pasted dashboard token: what it draws is what the
 * sandbox holds, with the published suppression, and a city that is down is
 * shown as missing.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, guardPage, hasChromium, launchChromium } from './browser.ts';
import { createTokenVerifier } from '../access/tokens.ts';
import { dashboardOperationsDir } from '../gateway/allow-list.ts';
import { startGateway } from '../gateway/server.ts';
import { demandLimitsFromEnv } from '../runtime/limits.ts';
import { silentLogger } from '../runtime/logger.ts';
import { ConfigError } from '../runtime/config-error.ts';
import { dashboard } from '../runtime/settings.ts';
import { editions } from '../schema/editions.ts';
import { startStack, type Stack } from '../scripts/stack.ts';
import { gql } from './helpers.ts';
import { housingTruth, peopleTruth } from './published-truth.ts';

const root = fileURLToPath(new URL('../', import.meta.url));
/** What a browser sends when a user opens a URL. */
const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
/** A city of LGNet3 whose system (SOAP) has no last snapshot to fall back on when it is down. */
const SASSARI = '090064';

let stack: Stack;
let base: string;
let token: string;

beforeAll(async () => {
  stack = await startStack({ port: 0 });
  base = new URL(stack.gatewayUrl).origin;
  token = await stack.token('dashboard');
});
afterAll(async () => {
  await stack?.close();
});

const operationFiles = () => readdirSync(dashboardOperationsDir).filter((f) => f.endsWith('.graphql'));

describe('the dashboard page', () => {
  it('is served with its own files and Chart.js from this gateway, under hashed URLs, with a strict Content-Security-Policy', async () => {
    const res = await fetch(`${base}/dashboard`, { headers: { accept: BROWSER_ACCEPT } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = res.headers.get('content-security-policy') ?? '';
    for (const directive of ["default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"]) expect(csp).toContain(directive);
    expect(csp).not.toMatch(/unsafe|\*|https?:/);
    const html = await res.text();
    const refs = [...html.matchAll(/\b(?:src|href)="([^"]*)"/g)].map((m) => m[1]!);
    expect(refs.map((r) => r.split('/').pop()).sort()).toEqual(['chart.umd.min.js', 'dashboard.css', 'dashboard.js']);
    const expected: Record<string, string> = {
      'chart.umd.min.js': 'node_modules/chart.js/dist/chart.umd.min.js',
      'dashboard.js': 'gateway/dashboard/dashboard.js',
      'dashboard.css': 'gateway/dashboard/dashboard.css',
    };
    for (const ref of refs) {
      expect(ref).toMatch(/^\/dashboard\/assets\/[0-9a-f]{16}\/[\w.-]+$/);
      const asset = await fetch(`${base}${ref}`);
      expect(asset.status, ref).toBe(200);
      expect(asset.headers.get('cache-control'), ref).toBe('public, max-age=31536000, immutable');
      const bytes = Buffer.from(await asset.arrayBuffer());
      expect(bytes.equals(readFileSync(join(root, expected[ref.split('/').pop()!]!))), ref).toBe(true);
      expect(ref).toContain(createHash('sha256').update(bytes).digest('hex').slice(0, 16));
    }
    // The page runs the published operations by the hashes the allow-list holds.
    const attribute = html.match(/data-operations="([^"]*)"/)![1]!.replace(/&#34;/g, '"');
    const operations = JSON.parse(attribute) as Record<string, string>;
    expect(Object.keys(operations).sort()).toEqual(operationFiles().map((f) => f.replace(/\.graphql$/, '')).sort());
    for (const file of operationFiles()) {
      expect(operations[file.replace(/\.graphql$/, '')]).toBe(createHash('sha256').update(readFileSync(join(dashboardOperationsDir, file), 'utf8')).digest('hex'));
    }
  });

  it('is off unless LGNET_DASHBOARD=1: a gateway without it answers /dashboard with a page saying so', async () => {
    expect(dashboard({})).toBe(false);
    expect(dashboard({ LGNET_DASHBOARD: '1' })).toBe(true);
    expect(() => dashboard({ LGNET_DASHBOARD: 'yes' })).toThrow(ConfigError);
    expect(() => dashboard({ LGNET_DASHBOARD: 'yes' })).toThrow(/LGNET_DASHBOARD must be 1 or 0/);
    const gateway = await startGateway({
      subgraphUrls: stack.subgraphUrls,
      verify: createTokenVerifier({ issuer: stack.issuer.issuer, audience: stack.issuer.audience, algorithms: stack.issuer.algorithms, jwksUrl: stack.issuer.jwksUrl }),
      limits: demandLimitsFromEnv({}),
      introspection: false,
      port: 0,
      host: '127.0.0.1',
      logger: silentLogger,
    });
    try {
      const res = await fetch(new URL('/dashboard', gateway.url), { headers: { accept: BROWSER_ACCEPT } });
      expect(res.status).toBe(404);
      expect(await res.text()).toContain('LGNET_DASHBOARD=1');
      expect((await fetch(new URL(`/dashboard/assets/0123456789abcdef/dashboard.js`, gateway.url))).status).toBe(404);
    } finally {
      await gateway.close();
    }
  });

  it("draws LGNet3's published figures in headless Chromium with a pasted dashboard token, shows a city that is down as missing, and saves a screenshot", { timeout: 240_000 }, async (ctx) => {
    ctx.skip(!hasChromium(), `no browser at ${CHROMIUM}: the dashboard was not tried in a browser`);
    const browser = await launchChromium();
    const shots = mkdtempSync(join(tmpdir(), 'lgnet-dashboard-'));
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      const guard = await guardPage(page, base);
      const sent: Array<Record<string, any>> = [];
      page.on('request', (r) => {
        if (r.url() === `${base}/graphql` && r.method() === 'POST') sent.push(JSON.parse(r.postData() ?? '{}'));
      });

      await page.goto(`${base}/dashboard`);
      await page.locator('input[name="token"]').fill(`Bearer ${token}`);
      await page.locator('input[name="token"]').press('Enter');
      await page.locator('body[data-ready="LGNET3"]').waitFor({ timeout: 60_000 });
      // The edition picker: another edition, then LGNet3 again.
      await page.selectOption('select[name="edition"]', 'LGNET2');
      await page.locator('body[data-ready="LGNET2"]').waitFor({ timeout: 60_000 });
      await page.selectOption('select[name="edition"]', 'LGNET3');
      await page.locator('body[data-ready="LGNET3"]').waitFor({ timeout: 60_000 });

      // Every request ran a published operation by its hash alone, with the pasted token.
      expect(sent.length).toBeGreaterThan(0);
      for (const body of sent) {
        expect(body.query).toBeUndefined();
        expect(body.extensions.persistedQuery.sha256Hash).toMatch(/^[0-9a-f]{64}$/);
      }
      expect(await page.evaluate(() => sessionStorage.getItem('lgnet:token'))).toBe(token);

      // What the published operations answer, asked here as any dashboard would.
      const op = (name: string) => readFileSync(join(dashboardOperationsDir, `${name}.graphql`), 'utf8');
      const ask = (name: string, variables?: Record<string, unknown>) => gql(stack.gatewayUrl, op(name), variables, { authorization: `Bearer ${token}` });
      const [report, trends, housing] = await Promise.all([ask('dashboard-report', { edition: 'LGNET3' }), ask('dashboard-trends', { edition: 'LGNET3' }), ask('dashboard-housing')]);
      const truth = peopleTruth(stack, 'LGNET3');
      const places = housingTruth(stack);
      const charts = () =>
        page.evaluate(() =>
          Object.fromEntries(
            ['chart-progress', 'chart-months', 'chart-housing'].map((id) => {
              const chart = (globalThis as unknown as { Chart: { getChart(id: string): { data: { labels: string[]; datasets: Array<{ data: Array<number | null> }> } } } }).Chart.getChart(id);
              return [id, { labels: chart.data.labels, data: chart.data.datasets.map((d) => d.data) }];
            }),
          ),
        );
      /** The values a table mirrors, by row key and series: a number, "withheld" or "missing". */
      const mirrored = (id: string, series: string) =>
        page.locator(`#${id} tbody tr`).evaluateAll(
          (rows, series) => rows.map((tr) => [tr.getAttribute('data-key'), tr.querySelector(`[data-series="${series}"]`)?.getAttribute('data-value')] as const),
          series,
        );
      const asDrawn = (v: string | null | undefined) => (v === 'withheld' || v === 'missing' ? null : Number(v));
      const small = (v: number | null) => v !== null && v >= 1 && v < 5;
      let drawn = await charts();

      // Progress per city: people taken in charge in LGNet3 (the edition's network target), city by city.
      const rows = report.data!.report.cities as Array<{ city: { code: string }; beneficiaries: number | null }>;
      expect(drawn['chart-progress']!.data[0]).toEqual(rows.map((r) => r.beneficiaries));
      rows.forEach((r, i) => {
        const value = drawn['chart-progress']!.data[0]![i]!;
        if (value !== null) expect(value, r.city.code).toBe(truth.cities.get(r.city.code)!.b);
        else expect(drawn['chart-progress']!.labels[i], r.city.code).toMatch(/\(n\.d\.\)$/);
        expect(small(value)).toBe(false);
      });
      expect((await mirrored('table-progress', 'value')).map(([k, v]) => [k, asDrawn(v)])).toEqual(rows.map((r) => [r.city.code, r.beneficiaries]));
      const target = editions.find((e) => e.edition === 'LGNET3')!.targets[0]!;
      expect(await page.locator(`.target[data-indicator="${target.indicator}"] [data-value]`).getAttribute('data-value')).toBe(String(truth.unique));

      // Intakes per month: every month of the edition, as the sandbox holds them where shown, and none of 1 to 4.
      const months = trends.data!.report.totals.intakesByMonth as Array<{ month: string; beneficiaries: number | null; takenInCharge: number | null }>;
      expect(drawn['chart-months']!.labels).toHaveLength(truth.months.length);
      expect(drawn['chart-months']!.data).toEqual([months.map((m) => m.beneficiaries), months.map((m) => m.takenInCharge)]);
      truth.months.forEach((m, i) => {
        for (const [series, want] of [[0, truth.byMonth.get(m)!.b], [1, truth.byMonth.get(m)!.t]] as const) {
          const value = drawn['chart-months']!.data[series]![i]!;
          if (value !== null) expect(value, m).toBe(want);
          expect(small(value), m).toBe(false);
        }
      });
      expect(months.some((m) => m.beneficiaries !== null)).toBe(true);

      // Housing occupancy of LGNet3's cities: places and occupied places, occupied counts of 1 to 4 withheld.
      const lgnet3 = new Set(rows.map((r) => r.city.code));
      const occupancy = (housing.data!.housingOccupancy.cities as Array<{ city: { code: string }; places: number | null; occupied: number | null }>).filter((c) => lgnet3.has(c.city.code));
      expect(drawn['chart-housing']!.data).toEqual([occupancy.map((c) => c.places), occupancy.map((c) => c.occupied)]);
      let withheld = 0;
      occupancy.forEach((c, i) => {
        const want = places.get(c.city.code)!;
        const [p, o] = [drawn['chart-housing']!.data[0]![i]!, drawn['chart-housing']!.data[1]![i]!];
        if (p !== null) expect(p, c.city.code).toBe(want.places);
        if (o !== null) expect(o, c.city.code).toBe(want.occupied);
        if (small(want.occupied)) {
          expect(o, c.city.code).toBeNull();
          expect(drawn['chart-housing']!.labels[i]).toMatch(/\(n\.d\.\)$/);
          withheld++;
        }
      });
      expect(withheld).toBeGreaterThan(0);
      expect((await mirrored('table-housing', 'occupied')).map(([k, v]) => [k, asDrawn(v)])).toEqual(occupancy.map((c) => [c.city.code, c.occupied]));
      expect(await page.locator('#table-housing [data-value="withheld"]').first().textContent()).toBe('n.d.');

      // Movers: the count; no pair of cities reaches 5 people in the sandbox, so none is listed.
      expect(await page.locator('#movers-count').getAttribute('data-value')).toBe(String(truth.movers));
      expect(Math.max(...truth.pairs.values())).toBeLessThan(5);
      expect(await page.locator('#table-movers tbody tr').count()).toBe(1);
      expect(await page.locator('#table-movers [data-value]').count()).toBe(0);

      // The period picker narrows the months drawn, within the edition's.
      await page.selectOption('select[name="from"]', '2025-01');
      await page.selectOption('select[name="to"]', '2025-06');
      drawn = await charts();
      const half = truth.months.filter((m) => m >= '2025-01' && m <= '2025-06');
      expect(drawn['chart-months']!.labels).toHaveLength(6);
      expect(drawn['chart-months']!.data[0]).toEqual(half.map((m) => months.find((x) => x.month === m)!.beneficiaries));
      expect(await page.locator('select[name="from"] option').count()).toBe(truth.months.length);

      // Italian and English.
      expect(await page.locator('h1').textContent()).toBe('LGNet: cruscotto del programma');
      await page.locator('[data-lang="en"]').click();
      expect(await page.locator('h1').textContent()).toBe('LGNet: programme dashboard');
      expect(await page.locator('html').getAttribute('lang')).toBe('en');
      expect(await page.locator('#table-housing [data-value="withheld"]').first().textContent()).toBe('n.d.');

      const shot = join(shots, 'dashboard-lgnet3.png');
      await page.screenshot({ path: shot, fullPage: true });
      const png = readFileSync(shot);
      expect(png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
      expect(statSync(shot).size).toBeGreaterThan(20_000);

      // A city that is down is listed as missing, in the coverage table and in the progress chart.
      await stack.sandbox.setFaults(`${SASSARI}=down`);
      try {
        await page.locator('button[name="refresh"]').click();
        await page.locator('body[data-ready="LGNET3"]').waitFor({ timeout: 60_000 });
        expect(await page.locator(`#table-coverage tr[data-key="${SASSARI}"]`).getAttribute('data-state')).toBe('missing');
        expect(await page.locator(`#table-coverage tr[data-key="${SASSARI}"]`).textContent()).toMatch(/missing: /);
        expect(await page.locator(`#table-progress tr[data-key="${SASSARI}"] [data-series="value"]`).getAttribute('data-value')).toBe('missing');
        expect(await page.locator(`#table-housing tr[data-key="${SASSARI}"] [data-series="occupied"]`).getAttribute('data-value')).toBe('missing');
        expect(await page.locator(`#table-coverage tr[data-state="missing"]`).count()).toBe(1);
        // Months without a city are not published: none is drawn, and the page says why.
        drawn = await charts();
        expect(drawn['chart-months']!.data.flat().every((v) => v === null)).toBe(true);
        expect(await page.locator('#months-note').textContent()).toMatch(/while a city is missing/);
        await page.screenshot({ path: join(shots, 'dashboard-lgnet3-city-down.png'), fullPage: true });
      } finally {
        await stack.sandbox.setFaults('');
      }

      expect(guard.elsewhere).toEqual([]);
      expect(guard.refused).toEqual([]);
    } finally {
      await browser.close();
      rmSync(shots, { recursive: true, force: true });
    }
  });
});
