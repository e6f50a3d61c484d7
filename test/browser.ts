/**
 * Headless Chromium for the browser tests: Debian's build (a test tool's own
 * browser download is not reachable), kept from the internet, with a page
 * guard that records and refuses every request to another origin and every
 * Content-Security-Policy refusal or page error.
 */
import { existsSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** Whether the browser is installed (`.ci/run` installs it where it can). */
export const hasChromium = (): boolean => existsSync(CHROMIUM);

export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  // As root it needs --no-sandbox; the rest keep it from reaching for the internet.
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
}

/** What a page asked of other origins (refused), and the policy refusals and errors it met. */
export interface PageGuard {
  elsewhere: string[];
  refused: string[];
}

export async function guardPage(page: Page, origin: string): Promise<PageGuard> {
  const guard: PageGuard = { elsewhere: [], refused: [] };
  // Anything not of the gateway's origin is recorded and refused, so the test holds on a machine with internet access too.
  await page.route('**/*', (route) => {
    if (new URL(route.request().url()).origin === origin) return route.continue();
    guard.elsewhere.push(route.request().url());
    return route.abort();
  });
  page.on('console', (m) => {
    if (/Content.Security.Policy|Refused to/i.test(m.text())) guard.refused.push(m.text().slice(0, 200));
  });
  page.on('pageerror', (e) => guard.refused.push(`page error: ${e.message}`));
  return guard;
}
