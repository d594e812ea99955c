/**
 * Checks made before the main job, `npm run deploy` and `npm run psql` talk to a cluster or build one, so that what
 * is missing is said with its fix instead of surfacing as a client library's error (without a kubeconfig,
 * client-node falls back to http://localhost:8080 and reports "HTTP protocol is not allowed when skipTLSVerify is
 * not set or false").
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KubeClient } from '../../lib/k8s/client';
import { KubeApiError } from '../../lib/k8s/errors';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** A problem the user can fix; the message says how. */
export class PreflightError extends Error {
  override name = 'PreflightError';
}

/**
 * The kubeconfig client-node would load: $KUBECONFIG (a list of files), else ~/.kube/config, else the in-cluster
 * service account.
 * @throws PreflightError when there is none, naming where it looked and how to get one
 */
export function requireKubeconfig(what: string): void {
  const env = process.env.KUBECONFIG;
  if (env) {
    const files = env.split(':').filter(Boolean);
    if (files.some((f) => existsSync(f))) return;
    throw new PreflightError(
      `${what}: KUBECONFIG=${env} names no file that exists. Point it at your cluster's kubeconfig ` +
        '(kind: `kind get kubeconfig > kind.kubeconfig && export KUBECONFIG=$PWD/kind.kubeconfig`).',
    );
  }
  if (existsSync(join(homedir(), '.kube', 'config'))) return;
  if (process.env.KUBERNETES_SERVICE_HOST && existsSync('/var/run/secrets/kubernetes.io/serviceaccount/token')) return;
  throw new PreflightError(
    `${what}: no kubeconfig (KUBECONFIG is not set and ${join(homedir(), '.kube', 'config')} does not exist). ` +
      'Set KUBECONFIG to the kubeconfig of the cluster to use (kind: `kind get kubeconfig > kind.kubeconfig && ' +
      'export KUBECONFIG=$PWD/kind.kubeconfig`), or run `npm start` without one for a local control plane.',
  );
}

/**
 * Asks the API server for the namespace `default` within 10 s. Any HTTP answer (even 403 or 404) means it is
 * reachable.
 * @throws PreflightError when it does not answer, naming the server and the error
 */
export async function requireReachable(client: KubeClient): Promise<void> {
  const server = client.kubeConfig.getCurrentCluster()?.server ?? '(no server in the kubeconfig)';
  try {
    await client.get({ kind: 'Namespace', name: 'default' }, AbortSignal.timeout(10_000));
  } catch (error) {
    if (error instanceof KubeApiError && error.status !== 0) return;
    const detail =
      error instanceof KubeApiError ? `${error.reason}: ${error.message.split(': ').pop()}` : String(error);
    throw new PreflightError(
      `the API server at ${server} does not answer (${detail}). Is the cluster running, and is the kubeconfig's ` +
        `current context (${client.kubeConfig.getCurrentContext()}) the one you mean? \`kubectl cluster-info\` shows ` +
        'what it reaches.',
    );
  }
}

/** The directory scripts/testenv/build.sh builds the control plane binaries into (its CACHE/K8S_VERSION/bin). */
export function testenvBinDir(): string {
  const cache = process.env.TESTENV_CACHE ?? join(homedir(), '.cache/postgres-operator-functions/testenv');
  return join(cache, process.env.K8S_VERSION ?? 'v1.34.4', 'bin');
}

/** @returns the Go binary build.sh would use, or undefined */
function goBinary(): string | undefined {
  if (process.env.GO && existsSync(process.env.GO)) return process.env.GO;
  const found = spawnSync('sh', ['-c', 'command -v go'], { encoding: 'utf8' }).stdout.trim();
  if (found) return found;
  return existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined;
}

/**
 * The local control plane's binaries are there (KUBEBUILDER_ASSETS, or build.sh's cache), or Go can build them.
 * @param full also kube-controller-manager, kube-scheduler and kwok
 * @throws PreflightError when they are missing and there is no Go toolchain, with the ways out
 */
export function requirePlaneBinaries(full: boolean): void {
  const names = [
    'etcd',
    'kube-apiserver',
    'kubectl',
    ...(full ? ['kube-controller-manager', 'kube-scheduler', 'kwok'] : []),
  ];
  const dir = process.env.KUBEBUILDER_ASSETS ?? testenvBinDir();
  const missing = names.filter((n) => !existsSync(join(dir, n)));
  if (missing.length === 0 || goBinary()) return;
  throw new PreflightError(
    `no Go toolchain to build the local control plane (${missing.join(', ')} missing in ${dir}). Install Go >= 1.24 ` +
      '(https://go.dev/dl/, e.g. into /usr/local/go), or set KUBEBUILDER_ASSETS to a directory holding those ' +
      'binaries, or set KUBECONFIG to use an existing cluster instead of a local one.',
  );
}

/** @returns why Patroni + PostgreSQL cannot run behind the pods here, or undefined when they can */
export function databasePodsBlocker(): string | undefined {
  if (process.getuid?.() !== 0) {
    return 'not root: real Patroni + PostgreSQL behind the pods need a network namespace for the pod IPs (run as root)';
  }
  const check = spawnSync('bash', [`${root}scripts/testenv/netns.sh`, '--check'], { encoding: 'utf8' });
  if (check.status !== 0) return check.stderr.trim() || 'cannot make a network namespace here';
  if (!['/usr/bin/patroni', '/usr/local/bin/patroni'].some((p) => existsSync(p))) {
    return 'Patroni is not installed (Debian: apt-get install patroni postgresql-15)';
  }
  if (!process.env.PG_BIN && !existsSync('/usr/lib/postgresql')) {
    return 'no PostgreSQL server (Debian: apt-get install postgresql-15)';
  }
  return undefined;
}

/** The Debian packages `.ci/run` installs for the Patroni pods, by the file each provides. */
const DEBIAN_PACKAGES: Array<[file: string, pkg: string]> = [
  ['/usr/bin/patroni', 'patroni'],
  ['/usr/lib/postgresql', 'postgresql-15'],
  ['/usr/sbin/ip', 'iproute2'],
  ['/usr/bin/openssl', 'openssl'],
];

/**
 * As root on Debian, installs what the Patroni pods need and is missing (as `.ci/run` does).
 * @returns the packages installed (none when nothing was missing), or a reason it could not
 */
export function installDatabasePackages(say: (line: string) => void): string[] | string {
  const missing = DEBIAN_PACKAGES.filter(([file]) => !existsSync(file)).map(([, pkg]) => pkg);
  if (missing.length === 0) return [];
  if (process.getuid?.() !== 0) return `not root, cannot install ${missing.join(', ')}`;
  if (!existsSync('/usr/bin/apt-get')) return `no apt-get to install ${missing.join(', ')}`;
  say(`installing ${missing.join(', ')} with apt-get (as .ci/run does; --no-install skips this)`);
  try {
    execFileSync('apt-get', ['update', '-qq'], { stdio: ['ignore', 'ignore', 'inherit'] });
    execFileSync('apt-get', ['-o', 'DPkg::Lock::Timeout=300', 'install', '-y', '-qq', ...missing], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  } catch (error) {
    return `apt-get install ${missing.join(' ')} failed: ${(error as Error).message.split('\n')[0]}`;
  }
  return missing;
}
