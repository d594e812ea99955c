// testenv: full
/**
 * The operator UI on a cluster that runs for real: the full plane with real Patroni + PostgreSQL behind the pods
 * (scripts/testenv/patroni-pods.ts), this operator's functions as processes under their own ServiceAccounts, and
 * Chromium (test/integration/ui-browser.ts). The cluster page shows the pods with their Patroni role and lag; a
 * rollout (the operator ConfigMap's `docker_image` changed) held by the UI's Pause shows the pods on the old
 * template in the fleet table and recreates none; Resume lets it finish, and the page lists the rollout's steps.
 * Pod IPs must be local addresses: run-integration.sh runs this phase in scripts/testenv/netns.sh.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { KubeClient } from '../../lib/k8s/client';
import { findPatroniTools } from '../../scripts/testenv/patroni-process';
import { patroniPodsSkipReason, type PatroniPods } from '../../scripts/testenv/patroni-pods';
import { clusterPods, postgresImage, rolloutManifest, waitClustersUp } from '../../scripts/testenv/rollout-fleet';
import { startMembers } from './full-plane-cluster';
import { startOperator, type LocalOperator } from './local-operator';
import { applyManifest, installCrd, testClient } from './operator';
import { accountToken, grant } from './service-accounts';
import { launchBrowser, screenshot, signIn, uiUrl } from './ui-browser';
import { createNamespace, deleteNamespace } from './testenv';

const NAME = 'acid-ui-live';
const OLD_IMAGE = 'ghcr.io/zalando/spilo-17:4.0-p2';
const NEW_IMAGE = 'ghcr.io/zalando/spilo-17:4.0-p3';
const skip = await patroniPodsSkipReason();

describe('operator UI on a running cluster (real Patroni)', { skip, timeout: 600_000 }, () => {
  let client: KubeClient;
  let namespace: string;
  let dir: string;
  let members: PatroniPods | undefined;
  let operator: LocalOperator | undefined;
  let browser: Browser | undefined;
  let page: Page;

  const configMap = (image: string) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'postgres-operator', namespace },
    data: { watched_namespace: namespace, docker_image: image },
  });
  const up = (what: string, check?: Parameters<typeof waitClustersUp>[4]['check']) =>
    waitClustersUp(client, namespace, [NAME], 2, { what, timeoutMs: 240_000, ...(check ? { check } : {}) });
  const images = async () => (await clusterPods(client, namespace, NAME)).map(postgresImage);

  before(async () => {
    const tools = findPatroniTools();
    if (typeof tools === 'string') throw new Error(tools);
    await installCrd();
    client = testClient();
    namespace = await createNamespace('ui-live');
    dir = mkdtempSync(path.join(os.tmpdir(), 'ui-browser-full-'));
    await client.apply(configMap(OLD_IMAGE));
    members = startMembers(namespace, tools, dir, (line) => {
      if (process.env.PATRONI_PODS_LOG) console.error(line);
    });
    operator = await startOperator(client, namespace, dir, { FUNC_METRICS_PATH: '/function-metrics' });
    await applyManifest(rolloutManifest(NAME, 2), namespace);
    const token = await accountToken(namespace, 'dba');
    await grant(namespace, 'dba', 'get list patch', 'postgresqls.acid.zalan.do');
    await up('the cluster running');
    browser = await launchBrowser();
    page = await signIn(browser, uiUrl(operator), token);
  });

  after(async () => {
    await browser?.close();
    await operator?.deployment.stop();
    await members?.stop();
    if (namespace) await deleteNamespace(namespace);
    client?.close();
    if (dir && !process.env.KEEP_TEST_LOGS) rmSync(dir, { recursive: true, force: true });
  });

  /** Waits until the pods table shows every pod ready, with Patroni's state and a lag in bytes. */
  const podsReadyWithLag = () =>
    page.waitForFunction(
      () => {
        const cells = [...document.querySelectorAll('#pods tbody tr')].map((tr) =>
          [...tr.querySelectorAll('td')].map((td) => td.textContent ?? ''),
        );
        // Columns: pod, role, ready, phase, Patroni state, lag, node, template.
        return cells.length === 2 && cells.every((c) => c[2] === 'yes' && c[4] !== '-' && /^\d+$/.test(c[5] ?? ''));
      },
      undefined,
      { timeout: 60_000 },
    );

  test('the cluster page shows the pods with their Patroni role, state and lag', async () => {
    await page.locator(`#fleet a:text-is("${NAME}")`).click();
    const rows = page.locator('#pods tbody tr');
    await podsReadyWithLag();
    const cells = await Promise.all((await rows.all()).map((row) => row.locator('td').allTextContents()));
    assert.deepEqual(cells.map((c) => c[1]).sort(), ['master', 'replica']);
    const replica = cells.find((c) => c[1] === 'replica')!;
    assert.match(replica[4]!, /^(streaming|running)$/);
    assert.equal(await page.locator('#cluster .toolbar [data-status]').getAttribute('data-status'), 'Running');
    await screenshot(page, '09-cluster-running');
  });

  test('a paused rollout shows the pods on the old template and recreates none; resumed, it finishes', async () => {
    await page.locator('#pause').click();
    await page.locator('#cluster .toolbar [data-rollout="Paused"]').waitFor();
    await client.apply(configMap(NEW_IMAGE));
    await page.locator('a.brand').click();
    const row = page.locator(`#fleet tr[data-cluster="${namespace}/${NAME}"]`);
    await row.getByText('2 of 2 pods on the old template').waitFor({ timeout: 120_000 });
    await row.locator('[data-rollout="Paused"]').waitFor();
    await screenshot(page, '10-fleet-rollout-paused');
    assert.deepEqual(await images(), [OLD_IMAGE, OLD_IMAGE], 'no pod recreated while paused');

    await row.locator(`a:text-is("${NAME}")`).click();
    await page.locator('#resume').click();
    await up('the rollout finished', (pods) => pods.every((p) => postgresImage(p) === NEW_IMAGE));
    // The page follows: no pod left on the old template, and the rollout's steps listed.
    await page.waitForFunction(
      () => !document.querySelector('#pods')?.textContent?.includes('old (to be recreated)'),
      undefined,
      {
        timeout: 30_000,
      },
    );
    await page.locator('#steps tbody tr').first().waitFor({ timeout: 30_000 });
    await podsReadyWithLag();
    const steps = await page.locator('#steps tbody tr td:nth-child(3)').allTextContents();
    assert.ok(
      steps.some((reason) => /^RollingUpdate|^Switchover/.test(reason)),
      steps.join(', '),
    );
    await screenshot(page, '11-cluster-rolled');
  });
});
