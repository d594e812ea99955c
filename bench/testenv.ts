/**
 * Gives a benchmark a Kubernetes API: the cluster of $KUBECONFIG when set, else a fresh local control plane
 * that is torn down afterwards.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalControlPlane } from '../scripts/testenv/local-plane';

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
