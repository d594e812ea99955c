/**
 * The operator UI (lib/api/ui) in a real browser: Debian's Chromium, headless, driven by playwright-core (no browser
 * download: CHROMIUM or /usr/bin/chromium), against the real API server and this operator's functions as processes
 * (each under its own ServiceAccount, operator-api serving the UI). The user signs in with a ServiceAccount token,
 * sees the fleet, creates a cluster from the form (the functions then create its children), scales it, pauses and
 * resumes its rolling update and asks for a sync; a second user who may only read is refused the same write by
 * Kubernetes RBAC, because the UI writes with the user's own token. Every page is photographed: the test prints the
 * directory ($TMPDIR/ui-screenshots, or UI_SCREENSHOTS).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { KubeClient, KubeObject } from '../../lib/k8s/client';
import { ROLLING_UPDATE_PAUSED_ANNOTATION, SYNC_NOW_ANNOTATION } from '../../lib/model/annotations';
import { eventually, startOperator, type LocalOperator } from './local-operator';
import { applyManifest, installCrd, repoRoot, testClient } from './operator';
import { clusterManifest, secretOf } from './roles-helpers';
import { accountToken, grant } from './service-accounts';
import { launchBrowser, screenshot, signIn, uiUrl } from './ui-browser';
import { createNamespace, deleteNamespace } from './testenv';

const EXISTING = 'acid-listed';
const MADE = 'acid-from-form';

describe('operator UI in Chromium, on the real API server and functions', { timeout: 240_000 }, () => {
  let client: KubeClient;
  let namespace: string;
  let dir: string;
  let operator: LocalOperator;
  let browser: Browser;
  let page: Page;
  let url: string;
  const tokens = { editor: '', viewer: '' };

  const cluster = (name: string) => client.get<KubeObject>({ kind: 'postgresql', namespace, name });

  before(async () => {
    await installCrd();
    client = testClient();
    namespace = await createNamespace('ui');
    dir = mkdtempSync(path.join(os.tmpdir(), 'ui-browser-'));
    await client.apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'postgres-operator', namespace },
      data: { watched_namespace: namespace, resource_check_interval: '1s' },
    });
    operator = await startOperator(client, namespace, dir, { FUNC_METRICS_PATH: '/function-metrics' });
    url = uiUrl(operator);
    tokens.editor = await accountToken(namespace, 'dba');
    tokens.viewer = await accountToken(namespace, 'viewer');
    await grant(namespace, 'dba', 'get list create patch', 'postgresqls.acid.zalan.do');
    await grant(namespace, 'viewer', 'get list', 'postgresqls.acid.zalan.do');
    await applyManifest(
      clusterManifest(EXISTING, { volume: { size: '2Gi' }, postgresql: { version: '16' } }),
      namespace,
    );
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await operator?.deployment.stop();
    if (namespace) await deleteNamespace(namespace);
    client?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the page asks for a token, then lists the clusters the user may read', async () => {
    page = await signIn(browser, url, tokens.editor, false);
    await screenshot(page, '01-sign-in');
    await page.locator('form.token button[type=submit]').click();
    const row = page.locator(`#fleet tr[data-cluster="${namespace}/${EXISTING}"]`);
    await row.waitFor();
    const cells = await row.locator('td').allTextContents();
    assert.deepEqual(cells.slice(0, 6), ['acid', namespace, EXISTING, '16', '0/1', '2Gi']);
    // The functions sync it: its status comes from them, whatever this plane (no kubelet) lets it reach.
    await page.waitForFunction(
      (key) => !document.querySelector(`tr[data-cluster="${key}"] [data-status="No status yet"]`),
      `${namespace}/${EXISTING}`,
      { timeout: 30_000 },
    );
    await screenshot(page, '02-fleet');
  });

  test('a cluster created from the form is a postgresql object the functions bring up', async () => {
    await page.locator('#nav-new').click();
    const form = page.locator('#create-form');
    await form.locator('input[name=teamId]').fill('acid');
    await form.locator('input[name=name]').fill(MADE);
    await form.locator('input[name=namespace]').fill(namespace);
    await form.locator('select[name=version]').selectOption('17');
    await form.locator('input[name=numberOfInstances]').fill('2');
    await form.locator('input[name=volumeSize]').fill('1Gi');
    await form.locator('textarea[name=users]').fill('app_owner: createdb');
    await form.locator('textarea[name=databases]').fill('orders: app_owner');
    await page.locator('#preview').click();
    await page.locator('#manifest').waitFor();
    // The API's plan preview of the new cluster: every child created, the StatefulSet among them.
    await page.locator(`#plan li[data-action="created StatefulSet/${MADE}"]`).waitFor();
    await page.locator(`#plan li[data-action="created Service/${MADE}"]`).waitFor();
    await screenshot(page, '03-create-preview');
    assert.equal(await cluster(MADE), undefined, 'the preview writes nothing');

    await page.locator('#create').click();
    await page.waitForURL(new RegExp(`#/clusters/${namespace}/${MADE}$`));
    const made = await cluster(MADE);
    assert.deepEqual(made?.spec, {
      teamId: 'acid',
      numberOfInstances: 2,
      volume: { size: '1Gi' },
      postgresql: { version: '17' },
      users: { app_owner: ['createdb'] },
      databases: { orders: 'app_owner' },
    });
    // The functions bring it up: the page shows the children they create and the status they write.
    await page.locator(`#children tr[data-child="StatefulSet/${MADE}"]`).waitFor({ timeout: 60_000 });
    await page.locator(`#children tr[data-child="Service/${MADE}"]`).waitFor();
    await page.locator('#connection').getByText(secretOf('app_owner', MADE)).waitFor();
    await page.waitForFunction(() => !document.querySelector('#cluster [data-status="No status yet"]'), undefined, {
      timeout: 30_000,
    });
    assert.ok(await client.get({ kind: 'StatefulSet', namespace, name: MADE }), 'the StatefulSet exists');
    const status = await page.locator('#cluster .toolbar [data-status]').getAttribute('data-status');
    console.log(`status shown for ${MADE}: ${status}`);
    await screenshot(page, '04-cluster');
  });

  test('scale, pause, sync now and resume are written with the user token', async () => {
    await page.locator('#scale-form input[name=numberOfInstances]').fill('3');
    await page.locator('#scale-form button[type=button]').click();
    // The plan preview says which field of the StatefulSet the scale changes, from what to what.
    const replicas = page.locator(`#plan li[data-action="updated StatefulSet/${MADE}"] li:has-text("spec.replicas")`);
    await replicas.waitFor();
    assert.match(await replicas.innerText(), /spec\.replicas: 2 → 3/);
    await screenshot(page, '05-scale-preview');
    await page.locator('#scale').click();
    await eventually('numberOfInstances 3', async () =>
      (await cluster(MADE))?.spec?.numberOfInstances === 3 ? true : undefined,
    );

    await page.locator('#pause').click();
    await page.locator('#cluster .toolbar [data-rollout="Paused"]').waitFor();
    assert.equal((await cluster(MADE))?.metadata?.annotations?.[ROLLING_UPDATE_PAUSED_ANNOTATION], 'true');
    await screenshot(page, '06-paused');
    await page.locator('a.brand').click();
    await page.locator(`#fleet tr[data-cluster="${namespace}/${MADE}"] [data-rollout="Paused"]`).waitFor();
    await screenshot(page, '07-fleet-paused');

    await page.locator(`#fleet a:text-is("${MADE}")`).click();
    await page.locator('#sync-now').click();
    await page.locator('#cluster .outcome:has-text("sync-now: done")').waitFor();
    // The operator honours the annotation and removes it (onUpdate); the request's own value was the time.
    await eventually(
      'the sync-now annotation honoured',
      async () => ((await cluster(MADE))?.metadata?.annotations?.[SYNC_NOW_ANNOTATION] ? undefined : true),
      60_000,
    );
    await page.locator('#resume').click();
    await page.locator('#pause').waitFor();
    assert.equal((await cluster(MADE))?.metadata?.annotations?.[ROLLING_UPDATE_PAUSED_ANNOTATION], undefined);
  });

  test('the one-process bundle (npm start, plain target) carries the same page script', async () => {
    const script = await (await fetch(new URL('app.js', url))).text();
    assert.ok(script.length > 10_000, 'the page script is served');
    // A stretch of the script that any string quoting leaves as it is (no quotes, backslashes or line breaks).
    const plain = script.match(/[^'"`\\\n]{200}/)?.[0];
    assert.ok(plain, 'the script has a plain stretch');
    assert.ok(readFileSync(`${repoRoot}dist/combined/combined.js`, 'utf8').includes(plain));
  });

  test('a user who may only read is refused the write by RBAC, and sees why', async () => {
    const viewer = await signIn(browser, url, tokens.viewer);
    await viewer.locator(`#fleet a:text-is("${MADE}")`).click();
    await viewer.locator('#pause').click();
    const refusal = viewer.locator('#cluster .outcome.bad');
    await refusal.waitFor();
    assert.match(await refusal.innerText(), /forbidden|cannot patch/i);
    assert.equal((await cluster(MADE))?.metadata?.annotations?.[ROLLING_UPDATE_PAUSED_ANNOTATION], undefined);
    await screenshot(viewer, '08-viewer-refused');
    await viewer.close();
  });
});
