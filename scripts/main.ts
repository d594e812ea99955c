/**
 * The main job (`npm start`): on a machine with no KUBECONFIG it builds (once) and starts a local control plane,
 * installs the CRD and the operator ConfigMap, applies manifests/minimal-postgres-manifest.yaml, syncs every
 * postgresql object in the watched namespaces, and prints what it created, the status and the time taken.
 * With KUBECONFIG set it uses that cluster instead. Options: --manifest FILE, --namespace NS.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse } from 'yaml';
import { KubeClient } from '../lib/k8s/client';
import { installCrd } from '../lib/k8s/crd';
import { createLogger } from '../lib/log/logger';
import { watchedNamespaces } from '../lib/model/config';
import { createOperatorContext } from '../lib/sync/operator-context';
import { syncCluster } from '../lib/sync/sync-cluster';
import { startLocalControlPlane } from './testenv/local-plane';

const root = fileURLToPath(new URL('../', import.meta.url));
const started = Date.now();
const step = (text: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${text}`);

function startMainControlPlane(): void {
  step('no KUBECONFIG: starting a local control plane (the first run builds kube-apiserver and etcd, ~7 min on 2 cores)');
  startLocalControlPlane(`${root}.testenv/main`); // kept running on purpose: the summary says how to stop it
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { manifest: { type: 'string' }, namespace: { type: 'string', default: 'default' } } });
  const local = !process.env.KUBECONFIG;
  if (local) startMainControlPlane();
  const client = KubeClient.fromDefault();
  step(`using the API server at ${client.kubeConfig.getCurrentCluster()?.server}`);
  const namespace = process.env.OPERATOR_NAMESPACE ?? 'default';

  step('installing the postgresql CRD');
  await installCrd(client, parse(readFileSync(`${root}manifests/postgresql.crd.yaml`, 'utf8')));
  step(`installing the operator ConfigMap in namespace ${namespace}`);
  await client.apply({ ...parse(readFileSync(`${root}manifests/configmap.yaml`, 'utf8')), metadata: { name: 'postgres-operator', namespace } });
  const manifestPath = values.manifest ?? `${root}manifests/minimal-postgres-manifest.yaml`;
  const manifest = parse(readFileSync(manifestPath, 'utf8'));
  step(`applying ${manifestPath} (postgresql ${manifest.metadata.name}) in namespace ${values.namespace}`);
  await client.apply({ ...manifest, metadata: { ...manifest.metadata, namespace: values.namespace } });

  const log = createLogger(undefined, process.env.LOG_LEVEL === 'debug' ? 'debug' : 'warn');
  const operator = await createOperatorContext(client, log, { ...process.env, OPERATOR_NAMESPACE: namespace });
  if (!operator.ok) {
    for (const error of operator.errors) console.error(`invalid operator config: ${error.message}`);
    process.exitCode = 1;
    return;
  }
  const scope = watchedNamespaces(operator.ctx.config, namespace);
  const clusters = scope === '*'
    ? await client.list('postgresql')
    : (await Promise.all(scope.map((ns) => client.list('postgresql', ns)))).flat();
  step(`syncing ${clusters.length} postgresql object(s) in ${scope === '*' ? 'all namespaces' : scope.join(', ')}`);
  const rows = [];
  for (const cluster of clusters) {
    const { name, namespace: ns } = cluster.metadata!;
    const t0 = Date.now();
    const result = await syncCluster(operator.ctx, ns, name);
    rows.push({ cluster: `${ns}/${name}`, outcome: result.outcome, status: result.status ?? '', written: result.actions.length,
      seconds: (Date.now() - t0) / 1000, error: result.error ?? '' });
    for (const action of result.actions) step(`  ${action.change} ${action.kind} ${action.name}`);
  }
  console.table(rows);
  step(`done: ${client.counter.total()} API requests (${JSON.stringify(client.counter.snapshot())})`);
  if (local) {
    console.log(`\nThe local control plane keeps running. Try:\n  export KUBECONFIG=${process.env.KUBECONFIG}\n` +
      `  ${process.env.TESTENV_BIN}/kubectl get postgresql,statefulset,service,secret -n ${values.namespace}\n` +
      `Stop it with: TESTENV_DIR=${root}.testenv/main npm run testenv -- down`);
  }
  client.close();
  if (rows.some((r) => r.outcome === 'failed' || r.outcome === 'invalid')) process.exitCode = 1;
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
