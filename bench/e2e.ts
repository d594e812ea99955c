/**
 * `npm run bench -- e2e [clusters]`: the operator as deployed locally (six function hosts and the bridge as
 * processes, from the built bundles) on a real control plane.
 *
 * - apply → children: time from applying a `postgresql` object (server-side apply, what `kubectl apply
 *   --server-side` sends) until all its children exist (StatefulSet, 2 Services, Endpoints, 3 Secrets, 2 PDBs),
 *   one cluster after another, polled every 20 ms;
 * - cold start: a new function-host process, from spawn to the reply to its first event (the event is resent every
 *   10 ms until the host answers), 5 times;
 * - RSS of each host and of the bridge after the run (VmRSS from /proc);
 * - bundle sizes from dist/size-report.json.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUNDLE_MODULE, functionSpec } from '../lib/registry/functions';
import { KubeClient } from '../lib/k8s/client';
import { freePort, startLocal } from '../scripts/deploy/local';
import { rssMiB, summarize } from './stats';
import { buildBundles, prepareOperatorNamespace } from './testenv';

const root = fileURLToPath(new URL('../', import.meta.url));
const CHILD_KINDS = ['StatefulSet', 'Service', 'Endpoints', 'Secret', 'PodDisruptionBudget'];
/** StatefulSet, 2 Services, Endpoints, 3 Secrets (app, postgres, standby), 2 PDBs */
const EXPECTED_CHILDREN = 9;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function coldStart(dist: string, env: NodeJS.ProcessEnv, namespace: string): Promise<number> {
  const spec = functionSpec('on-create');
  const port = await freePort();
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, [path.join(dist, 'host/host.js')], {
    env: {
      ...env,
      MOD_NAME: BUNDLE_MODULE,
      FUNC_HANDLER: spec.export,
      FUNC_PORT: String(port),
      FUNC_HOST: '127.0.0.1',
      KUBELESS_INSTALL_VOLUME: path.join(dist, 'functions', spec.name),
      LOG_LEVEL: 'warn',
    },
    stdio: 'ignore',
  });
  try {
    for (;;) {
      try {
        const response = await fetch(`http://127.0.0.1:${port}/`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            type: 'ADDED',
            object: {
              apiVersion: 'acid.zalan.do/v1',
              kind: 'postgresql',
              metadata: { name: 'bench-e2e-0', namespace },
            },
          }),
        });
        if (response.ok) return Number(process.hrtime.bigint() - started) / 1e6;
        throw new Error(`cold start: the host answered ${response.status}: ${await response.text()}`);
      } catch (error) {
        if ((error as Error).message.startsWith('cold start')) throw error;
        await sleep(10);
      }
    }
  } finally {
    child.kill('SIGKILL');
  }
}

/** Runs the benchmark on the cluster of $KUBECONFIG. */
export async function benchE2e(clusters: number): Promise<Record<string, unknown>> {
  const client = KubeClient.fromDefault();
  const namespace = `bench-e2e-${process.pid}`;
  buildBundles();
  await prepareOperatorNamespace(client, namespace);
  const env = {
    OPERATOR_NAMESPACE: namespace,
    WATCHED_NAMESPACE: namespace,
    PERIODIC_SYNC_SCHEDULE: 'off',
    LOG_LEVEL: 'warn',
  };
  const deployment = await startLocal({ logDir: mkdtempSync(path.join(tmpdir(), 'bench-e2e-logs-')), env });
  const samples: number[] = [];
  try {
    for (let i = 1; i <= clusters; i++) {
      const name = `bench-e2e-${i}`;
      const started = process.hrtime.bigint();
      await client.apply({
        apiVersion: 'acid.zalan.do/v1',
        kind: 'postgresql',
        metadata: { name, namespace },
        spec: {
          teamId: 'acid',
          numberOfInstances: 2,
          volume: { size: '1Gi' },
          postgresql: { version: '17' },
          users: { app: [] },
        },
      });
      for (;;) {
        const lists = await Promise.all(
          CHILD_KINDS.map((kind) => client.list(kind, namespace, `application=spilo,cluster-name=${name}`)),
        );
        if (lists.flat().length >= EXPECTED_CHILDREN) break;
        if (Number(process.hrtime.bigint() - started) > 60e9)
          throw new Error(`${name}: children missing after 60 s (${lists.flat().length} of ${EXPECTED_CHILDREN})`);
        await sleep(20);
      }
      samples.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    const rss = Object.fromEntries(
      [...deployment.functions, deployment.bridge!].map((p) => [p.name, rssMiB(p.child.pid)]),
    );
    const cold: number[] = [];
    for (let i = 0; i < 5; i++)
      cold.push(await coldStart(path.join(root, 'dist'), { ...process.env, ...env }, namespace));
    const sizes = (
      JSON.parse(readFileSync(`${root}dist/size-report.json`, 'utf8')) as Array<{
        file: string;
        bytes: number;
        gzipBytes: number;
      }>
    ).map((r) => ({ bundle: r.file, KiB: +(r.bytes / 1024).toFixed(1), 'gzip KiB': +(r.gzipBytes / 1024).toFixed(1) }));
    const applyToChildren = summarize(samples);
    const coldStartSummary = summarize(cold);
    console.table({ 'apply → all children': applyToChildren, 'cold start → first reply': coldStartSummary });
    console.table(Object.entries(rss).map(([process, MiB]) => ({ process, 'RSS MiB': MiB })));
    console.table(sizes);
    return { clusters, applyToChildren, coldStart: coldStartSummary, rssMiB: rss, bundles: sizes };
  } finally {
    await deployment.stop();
    client.close();
  }
}
