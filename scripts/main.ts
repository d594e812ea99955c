/**
 * The main job (`npm start`). On a machine with no KUBECONFIG it builds (once) and starts a local control plane;
 * with KUBECONFIG set it uses that cluster. Then it builds the bundles, installs the CRD, the RBAC objects and the
 * operator ConfigMap, starts every function and the event bridge in one local process (`--per-function`: a host
 * process per function and a bridge process, as before issue 14), applies
 * manifests/minimal-postgres-manifest.yaml, waits for the cluster's objects and status while printing progress,
 * and prints a summary (objects created, status, seconds taken). The operator then keeps running; Ctrl-C stops
 * every process this job started (and the local control plane, if it started one).
 *
 * Options: --manifest FILE, --namespace NS, --once (stop after the summary), --timeout SECONDS (default 120),
 * --full (the local plane also runs kube-controller-manager, kube-scheduler and kwok, so the StatefulSet's pods
 * exist and run: the status reaches Running), --per-function.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse } from 'yaml';
import { KubeClient, type KubeObject } from '../lib/k8s/client';
import { installCrd } from '../lib/k8s/crd';
import { operatorObjects } from './deploy/operator-objects';
import { startLocal, type LocalDeployment } from './deploy/local';
import { startLocalControlPlane } from './testenv/local-plane';

const root = fileURLToPath(new URL('../', import.meta.url));
const started = Date.now();
const seconds = () => ((Date.now() - started) / 1000).toFixed(1);
const step = (text: string) => console.log(`[${seconds()}s] ${text}`);

const { values } = parseArgs({
  options: {
    manifest: { type: 'string' },
    namespace: { type: 'string', default: 'default' },
    once: { type: 'boolean', default: false },
    timeout: { type: 'string', default: '120' },
    full: { type: 'boolean', default: false },
    'per-function': { type: 'boolean', default: false },
  },
});

let stopPlane: (() => void) | undefined;
let deployment: LocalDeployment | undefined;
let stopping = false;

async function shutdown(code: number): Promise<never> {
  if (stopping) process.exit(code);
  stopping = true;
  if (deployment) {
    step('stopping the function hosts and the bridge');
    await deployment.stop();
  }
  if (stopPlane) {
    step('stopping the local control plane');
    stopPlane();
  }
  process.exit(code);
}

process.on('SIGINT', () => {
  console.log('');
  void shutdown(130);
});
process.on('SIGTERM', () => void shutdown(143));

/** The objects the operator should make for a cluster (Zalando's names), to wait for and report. */
function expectedChildren(cluster: string, namespace: string, client: KubeClient) {
  const selector = `application=spilo,cluster-name=${cluster}`;
  return async () => {
    const kinds = ['StatefulSet', 'Service', 'Endpoints', 'Secret', 'PodDisruptionBudget'];
    const lists = await Promise.all(kinds.map((kind) => client.list(kind, namespace, selector)));
    return lists
      .flat()
      .map((o: KubeObject) => `${o.kind}/${o.metadata!.name}`)
      .sort();
  };
}

async function main(): Promise<void> {
  const local = !process.env.KUBECONFIG;
  if (local) {
    step(
      values.full
        ? 'no KUBECONFIG: starting a full local control plane with kwok nodes (the first run builds it, ~12 min on 2 cores)'
        : 'no KUBECONFIG: starting a local control plane (the first run builds kube-apiserver and etcd, ~7 min on 2 cores)',
    );
    stopPlane = startLocalControlPlane(`${root}.testenv/main`, { full: values.full });
  }
  const client = KubeClient.fromDefault();
  step(`using the API server at ${client.kubeConfig.getCurrentCluster()?.server}`);
  const operatorNamespace = process.env.OPERATOR_NAMESPACE ?? 'default';

  step('building the function bundles (npm run build)');
  execFileSync(process.execPath, [`${root}node_modules/tsx/dist/cli.mjs`, `${root}scripts/build.ts`, '--quiet'], {
    stdio: 'inherit',
  });

  step('installing the postgresql CRD');
  await installCrd(client, parse(readFileSync(`${root}manifests/postgresql.crd.yaml`, 'utf8')));
  step(
    `installing RBAC (a ServiceAccount and role per function, ClusterRole postgres-pod) and the operator ConfigMap in ${operatorNamespace}`,
  );
  for (const object of operatorObjects(operatorNamespace)) await client.apply(object);

  const logDir = `${root}.testenv/main-logs`;
  const mode = values['per-function'] ? 'per-function' : 'single';
  step(
    mode === 'single'
      ? `starting the 6 functions and the event bridge in one process (logs in ${logDir})`
      : `starting 6 function hosts and the event bridge (logs in ${logDir})`,
  );
  deployment = await startLocal({ logDir, env: { OPERATOR_NAMESPACE: operatorNamespace }, mode });
  for (const f of deployment.functions) step(`  ${f.name} at ${f.url}`);
  step(`  bridge at ${deployment.bridge?.url} (metrics at ${deployment.bridge?.url}metrics)`);

  const manifestPath = values.manifest ?? `${root}manifests/minimal-postgres-manifest.yaml`;
  const manifest = parse(readFileSync(manifestPath, 'utf8'));
  const name = manifest.metadata.name as string;
  const namespace = values.namespace!;
  const applied = Date.now();
  if (!(await client.get({ kind: 'Namespace', name: namespace }))) {
    step(`creating namespace ${namespace}`);
    await client.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  }
  step(`applying ${manifestPath} (postgresql ${name}) in namespace ${namespace}`);
  await client.apply({ ...manifest, metadata: { ...manifest.metadata, namespace } });

  const children = expectedChildren(name, namespace, client);
  const deadline = Date.now() + Number(values.timeout) * 1000;
  let found: string[] = [];
  let status: string | undefined;
  let last = '';
  for (;;) {
    found = await children();
    const live = await client.get({ kind: 'postgresql', namespace, name });
    status = live?.status?.PostgresClusterStatus as string | undefined;
    const progress = `${found.length} objects, status ${status ?? '(none yet)'}`;
    if (progress !== last) step(`  waiting for the operator: ${progress}`);
    last = progress;
    const hasAll = ['StatefulSet', 'Service', 'Secret', 'PodDisruptionBudget'].every((kind) =>
      found.some((f) => f.startsWith(`${kind}/`)),
    );
    if (hasAll && status && (!values.full || status === 'Running')) break;
    if (Date.now() > deadline)
      throw new Error(`the cluster's objects did not appear within ${values.timeout} s; see the logs in ${logDir}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const took = ((Date.now() - applied) / 1000).toFixed(1);
  console.log(
    `\nSummary: postgresql ${namespace}/${name} is ${status}; ${found.length} objects of the cluster present ${took} s after kubectl apply ` +
      `(${seconds()} s in all):`,
  );
  for (const object of found) console.log(`  ${object}`);
  if (status === 'Creating' && !values.full) {
    console.log(
      '  (status stays Creating while no pod runs: this plane has no controller-manager; `npm start -- --full` adds one, with kwok nodes)',
    );
  }
  if (values.once) return shutdown(0);
  console.log(
    `\nThe operator is running. Try:\n  export KUBECONFIG=${process.env.KUBECONFIG}\n` +
      `  kubectl -n ${namespace} edit postgresql ${name}      # e.g. numberOfInstances: 3\n` +
      `  kubectl -n ${namespace} delete postgresql ${name}\n` +
      `(kubectl is at ${process.env.TESTENV_BIN ?? 'your PATH'}). Press Ctrl-C to stop everything this job started.`,
  );
}

main().catch(async (error: Error) => {
  console.error(`error: ${error.message}`);
  await shutdown(1);
});
