/**
 * Gives a benchmark a Kubernetes API: the cluster of $KUBECONFIG when set, else a fresh local control plane
 * that is torn down afterwards.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import type { KubeClient } from '../lib/k8s/client';
import { installCrd } from '../lib/k8s/crd';
import { startLocalControlPlane } from '../scripts/testenv/local-plane';

const root = fileURLToPath(new URL('../', import.meta.url));

/**
 * @param full also kube-controller-manager, kube-scheduler and kwok (pods are created and run)
 * @returns a function that stops what was started (nothing when $KUBECONFIG was given)
 */
export function ensureControlPlane(full = false): () => void {
  if (process.env.KUBECONFIG) return () => undefined;
  console.error(
    `bench: starting a local control plane (etcd + kube-apiserver${full ? ', controller-manager, scheduler, kwok' : ''})...`,
  );
  return startLocalControlPlane(mkdtempSync(join(tmpdir(), 'bench-plane-')), { full });
}

/** Builds the bundles into dist/ (`scripts/build.ts --quiet`); throws when the build fails. */
export function buildBundles(stdio: 'ignore' | 'inherit' = 'ignore'): void {
  execFileSync(process.execPath, [`${root}node_modules/tsx/dist/cli.mjs`, `${root}scripts/build.ts`, '--quiet'], {
    stdio,
  });
}

/**
 * What the functions need to run against a cluster: the postgresql CRD (established), and `namespace` with an
 * operator ConfigMap `postgres-operator` watching it.
 */
export async function prepareOperatorNamespace(client: KubeClient, namespace: string): Promise<void> {
  await installCrd(client, parse(readFileSync(`${root}manifests/postgresql.crd.yaml`, 'utf8')));
  await client.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  await client.apply({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'postgres-operator', namespace },
    data: { watched_namespace: namespace },
  });
}
