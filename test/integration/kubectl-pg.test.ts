/**
 * The kubectl plugin (`bin/kubectl-pg`, scripts/kubectl-pg.ts) as a user runs it: the real kubectl finds it on PATH
 * and runs it with the current kubeconfig against the real API server. status lists and describes clusters, pause,
 * resume, sync and scale write the annotations and the spec, plan previews a manifest with the API's plan code and
 * writes nothing, bad usage exits 2.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { KubeClient, KubeObject } from '../../lib/k8s/client';
import { ROLLING_UPDATE_PAUSED_ANNOTATION, SYNC_NOW_ANNOTATION } from '../../lib/model/annotations';
import { applyManifest, installCrd, repoRoot, testClient } from './operator';
import { clusterManifest } from './roles-helpers';
import { createNamespace, deleteNamespace, requireTestenv, type KubectlResult } from './testenv';

const NAME = 'acid-plugin';

/** Runs `kubectl pg ...args` with the plugin's directory on PATH and the admin kubeconfig as the current one. */
function kubectlPg(args: string[], env: Record<string, string> = {}): Promise<KubectlResult> {
  const testenv = requireTestenv();
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(testenv.bin, 'kubectl'), ['pg', ...args], {
      env: {
        ...process.env,
        KUBECONFIG: testenv.kubeconfig,
        PATH: `${repoRoot}bin${path.delimiter}${process.env.PATH}`,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ stdout, stderr, code: code ?? 1 }));
  });
}

describe('kubectl pg', { timeout: 120_000 }, () => {
  let client: KubeClient;
  let namespace: string;
  let dir: string;
  const cluster = () => client.get<KubeObject>({ kind: 'postgresql', namespace, name: NAME });
  const ok = async (args: string[], env?: Record<string, string>) => {
    const result = await kubectlPg(args, env);
    assert.equal(result.code, 0, `kubectl pg ${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  };

  before(async () => {
    await installCrd();
    client = testClient();
    namespace = await createNamespace('pg-plugin');
    dir = mkdtempSync(path.join(os.tmpdir(), 'kubectl-pg-'));
    await applyManifest(clusterManifest(NAME), namespace);
  });

  after(async () => {
    if (namespace) await deleteNamespace(namespace);
    client?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('status lists the clusters of a namespace and describes one', async () => {
    const list = (await ok(['status', '-n', namespace])).split('\n');
    assert.match(list[0]!, /^NAMESPACE\s+NAME\s+TEAM\s+VERSION\s+PODS\s+VOLUME\s+STATUS\s+ROLLOUT$/);
    assert.deepEqual(list[1]!.split(/\s+/), [namespace, NAME, 'acid', '17', '0/1', '1Gi', '-', '-']);
    const one = await ok(['status', NAME, '-n', namespace]);
    assert.match(one, new RegExp(`^Name:\\s+${namespace}/${NAME}$`, 'm'));
    assert.match(one, /^Pods ready:\s+0\/1$/m);
    assert.match(one, /^No pods\.$/m);
  });

  test('pause, resume, sync and scale write the cluster', async () => {
    assert.match(await ok(['pause', NAME, '-n', namespace]), /rolling update paused/);
    assert.equal((await cluster())?.metadata?.annotations?.[ROLLING_UPDATE_PAUSED_ANNOTATION], 'true');
    assert.match(await ok(['status', NAME, '-n', namespace]), /^Rollout:\s+Paused$/m);
    await ok(['resume', NAME, '-n', namespace]);
    assert.equal((await cluster())?.metadata?.annotations?.[ROLLING_UPDATE_PAUSED_ANNOTATION], undefined);
    await ok(['sync', NAME, '-n', namespace]);
    assert.ok((await cluster())?.metadata?.annotations?.[SYNC_NOW_ANNOTATION]);
    await ok(['scale', NAME, '3', '-n', namespace]);
    assert.equal((await cluster())?.spec?.numberOfInstances, 3);
  });

  test('plan -f previews a new cluster with the API plan and writes nothing', async () => {
    await client.apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'postgres-operator', namespace },
      data: { watched_namespace: namespace },
    });
    const file = path.join(dir, 'new.yaml');
    writeFileSync(
      file,
      [
        'apiVersion: acid.zalan.do/v1',
        'kind: postgresql',
        'metadata:',
        '  name: acid-planned',
        'spec:',
        '  teamId: acid',
        '  numberOfInstances: 2',
        '  volume: {size: 1Gi}',
        '  postgresql: {version: "17"}',
      ].join('\n'),
    );
    const preview = JSON.parse(await ok(['plan', '-f', file, '-n', namespace], { OPERATOR_NAMESPACE: namespace }));
    assert.equal(preview.exists, false);
    const created = (preview.actions as Array<{ verb?: string; kind?: string; name?: string }>).map(
      (a) => `${a.kind}/${a.name}`,
    );
    assert.ok(created.includes('StatefulSet/acid-planned'), created.join(', '));
    assert.equal(await client.get({ kind: 'postgresql', namespace, name: 'acid-planned' }), undefined);
    assert.equal(await client.get({ kind: 'StatefulSet', namespace, name: 'acid-planned' }), undefined);
  });

  test('bad usage exits 2 with the usage; a missing cluster exits 1', async () => {
    const bad = await kubectlPg(['scale', NAME, '-n', namespace]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /usage: kubectl pg/);
    const missing = await kubectlPg(['status', 'acid-nothing', '-n', namespace]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /not found/);
  });
});
