/**
 * Starts (or reuses) a local control plane with scripts/testenv/testenv.sh and exports its environment
 * (KUBECONFIG, TESTENV_BIN, ...) into this process. Used by the main job and the benchmarks.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('./testenv.sh', import.meta.url));

/**
 * @param dir the plane's state directory (TESTENV_DIR)
 * @param options `full`: also kube-controller-manager, kube-scheduler, kwok and fake Nodes (`testenv.sh up --full`)
 * @returns a function that stops the plane and removes `dir`
 */
export function startLocalControlPlane(dir: string, options: { full?: boolean } = {}): () => void {
  const env = { ...process.env, TESTENV_DIR: dir };
  const args = [script, 'up', ...(options.full ? ['--full'] : [])];
  const out = execFileSync('bash', args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  for (const match of out.matchAll(/^export (\w+)=(.*)$/gm)) process.env[match[1]!] = match[2]!.replace(/^'|'$/g, '');
  return () => {
    execFileSync('bash', [script, 'down'], { env, stdio: 'inherit' });
  };
}
