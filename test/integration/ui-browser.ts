/**
 * The browser of the UI tests: Debian's Chromium (CHROMIUM, default /usr/bin/chromium), headless, driven by
 * playwright-core, which downloads no browser. Screenshots go to UI_SCREENSHOTS, default $TMPDIR/ui-screenshots,
 * each path printed as it is written.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { LocalOperator } from './local-operator';

export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOTS = process.env.UI_SCREENSHOTS ?? path.join(process.env.TMPDIR ?? os.tmpdir(), 'ui-screenshots');

/** @returns a headless Chromium (no sandbox: the tests run as root; /tmp instead of a small /dev/shm in containers); close it in `after` */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium (see .ci/run)`);
  mkdirSync(SCREENSHOTS, { recursive: true });
  console.log(`screenshots in ${SCREENSHOTS}`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
}

/** @returns the UI's address on a running operator: `/ui/` of its operator-api function */
export function uiUrl(operator: LocalOperator): string {
  const api = operator.deployment.functions.find((f) => f.name === 'operator-api');
  assert.ok(api, 'the operator runs operator-api');
  return new URL('ui/', api.url.endsWith('/') ? api.url : `${api.url}/`).href;
}

/** Saves a screenshot of the whole page as `<name>.png` and prints where. */
export async function screenshot(page: Page, name: string): Promise<void> {
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  console.log(`screenshot: ${file}`);
}

/**
 * Opens the UI on a new page and types the token into the sign-in form the page shows on its first 401.
 * @param submit also press the button (default true)
 */
export async function signIn(browser: Browser, url: string, token: string, submit = true): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on('pageerror', (error) => console.log(`page error: ${error.message}`));
  await page.goto(url);
  await page.locator('textarea[name=token]').fill(token);
  if (submit) await page.locator('form.token button[type=submit]').click();
  return page;
}
