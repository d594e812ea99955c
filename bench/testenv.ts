/**
 * Gives a benchmark a Kubernetes API: the cluster of $KUBECONFIG when set, else a fresh local control plane
 * that is torn down afterwards.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalControlPlane } from '../scripts/testenv/local-plane';

/** @returns a function that stops what was started (nothing when $KUBECONFIG was given) */
export function ensureControlPlane(): () => void {
  if (process.env.KUBECONFIG) return () => undefined;
  console.error('bench: starting a local control plane (etcd + kube-apiserver)...');
  return startLocalControlPlane(mkdtempSync(join(tmpdir(), 'bench-plane-')));
}
