/**
 * Helpers for integration tests that run against the real control plane started by
 * `scripts/testenv/testenv.sh up` (or `scripts/testenv/run-integration.sh`, which exports its env).
 * Dependency-free on purpose: only node built-ins.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** Where the running control plane is, as exported by `testenv.sh env`. */
export interface Testenv {
  /** Path of the admin kubeconfig (context `testenv`, user in `system:masters`). */
  kubeconfig: string;
  /** Directory holding `kubectl`, `kube-apiserver` and `etcd`. */
  bin: string;
  /** State directory of the plane, when exported. */
  dir: string | undefined;
  /** etcd client URL (`http://127.0.0.1:<port>`), when exported. */
  etcdEndpoint: string | undefined;
}

/**
 * Returns the running control plane's coordinates from `KUBECONFIG` and `TESTENV_BIN`.
 * @throws Error naming the missing piece and how to start the plane, when it is not up.
 */
export function requireTestenv(): Testenv {
  const kubeconfig = process.env.KUBECONFIG;
  const bin = process.env.TESTENV_BIN;
  const hint =
    'start it with `eval "$(bash scripts/testenv/testenv.sh up)"` or run `bash scripts/testenv/run-integration.sh`';
  if (!kubeconfig || !bin) {
    throw new Error(`testenv is not up: KUBECONFIG and TESTENV_BIN must be set; ${hint}`);
  }
  if (!existsSync(kubeconfig)) throw new Error(`testenv is not up: ${kubeconfig} does not exist; ${hint}`);
  if (!existsSync(join(bin, 'kubectl'))) throw new Error(`testenv is not up: no kubectl in ${bin}; ${hint}`);
  return { kubeconfig, bin, dir: process.env.TESTENV_DIR, etcdEndpoint: process.env.ETCD_ENDPOINT };
}

/** Outcome of one kubectl run. A non-zero `code` is returned, not thrown. */
export interface KubectlResult {
  stdout: string;
  stderr: string;
  code: number;
}

/**
 * Runs `$TESTENV_BIN/kubectl --kubeconfig $KUBECONFIG ...args` as the cluster admin.
 * @param args kubectl arguments, e.g. `['get', 'pods', '-n', ns, '-o', 'json']`.
 * @param input optional stdin, e.g. a manifest for `['apply', '-f', '-']`.
 */
export function kubectl(args: string[], input?: string): Promise<KubectlResult> {
  const env = requireTestenv();
  return new Promise((resolve, reject) => {
    const child = spawn(join(env.bin, 'kubectl'), ['--kubeconfig', env.kubeconfig, ...args], {
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ stdout, stderr, code: code ?? (signal ? 128 : 1) }));
    // kubectl may exit before reading all of stdin (e.g. on a usage error); that is reported via `code`.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(input);
  });
}

/**
 * Creates a namespace with a unique name `<prefix>-<random>` and returns the name.
 * @param prefix lowercased and reduced to DNS-label characters; keep it short.
 * @throws Error with kubectl's stderr when creation fails.
 */
export async function createNamespace(prefix: string): Promise<string> {
  const base =
    prefix
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 50) || 'test';
  const name = `${base}-${randomBytes(4).toString('hex')}`;
  const result = await kubectl(['create', 'namespace', name]);
  if (result.code !== 0) throw new Error(`kubectl create namespace ${name} failed: ${result.stderr.trim()}`);
  return name;
}

/**
 * Deletes a namespace without waiting. Without kube-controller-manager (whose namespace controller empties
 * and finalizes namespaces) it stays `Terminating`, which is harmless: every test uses its own namespace.
 * @throws Error with kubectl's stderr when the delete request fails; a missing namespace is fine.
 */
export async function deleteNamespace(name: string): Promise<void> {
  const result = await kubectl(['delete', 'namespace', name, '--wait=false', '--ignore-not-found']);
  if (result.code !== 0) throw new Error(`kubectl delete namespace ${name} failed: ${result.stderr.trim()}`);
}

/**
 * Waits until every named CustomResourceDefinition has the condition Established=True, polling `kubectl get` (not
 * `kubectl wait`, which fails with "accessor error" on a CRD created a moment ago that has no `status.conditions`
 * yet). Throws after `timeoutMs` naming the CRDs still not established.
 */
export async function waitCrdsEstablished(names: readonly string[], timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pending: string[] = [];
    for (const name of names) {
      const result = await kubectl([
        'get',
        'crd',
        name,
        '-o',
        'jsonpath={.status.conditions[?(@.type=="Established")].status}',
      ]);
      if (result.code !== 0 || result.stdout.trim() !== 'True') pending.push(name);
    }
    if (pending.length === 0) return;
    if (Date.now() > deadline) throw new Error(`CRDs not Established within ${timeoutMs} ms: ${pending.join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
