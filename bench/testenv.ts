/**
 * Gives a benchmark a Kubernetes API: the cluster of $KUBECONFIG when set, else a fresh local control plane
 * (scripts/testenv/testenv.sh) that is torn down afterwards.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('../scripts/testenv/testenv.sh', import.meta.url));

/** @returns a function that stops what was started (nothing when $KUBECONFIG was given) */
export function ensureControlPlane(): () => void {
  if (process.env.KUBECONFIG) return () => undefined;
  const dir = mkdtempSync(join(tmpdir(), 'bench-plane-'));
  const env = { ...process.env, TESTENV_DIR: dir };
  console.error('bench: starting a local control plane (etcd + kube-apiserver)...');
  const out = execFileSync('bash', [script, 'up'], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  for (const match of out.matchAll(/^export (\w+)=(.*)$/gm)) process.env[match[1]!] = match[2]!.replace(/^'|'$/g, '');
  return () => { execFileSync('bash', [script, 'down'], { env, stdio: 'inherit' }); };
}
