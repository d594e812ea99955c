/**
 * This operator as processes for integration tests (e2e.test.ts, takeover.test.ts): the six function hosts and the
 * event bridge from the built bundles (the `local` target), each function under its own ServiceAccount token with
 * only the RBAC the deploy scripts generate, for an operator living in one namespace and watching only it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { KubeClient } from '../../lib/k8s/client';
import type { FunctionSpec } from '../../lib/registry/functions';
import { startLocal, type LocalDeployment } from '../../scripts/deploy/local';
import { repoRoot } from './operator';
import { installFunctionCredentials } from './service-accounts';

/** Polls `check` every 100 ms until it returns a value that is not undefined; fails after `ms`. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Builds the bundles (`scripts/build.ts`) when the host, the bridge or the combined bundle is missing. */
export function ensureBundles(): void {
  const bundles = ['host/host.js', 'bridge/bridge.js', 'combined/combined.js'];
  if (bundles.every((file) => existsSync(`${repoRoot}dist/${file}`))) return;
  execFileSync(
    process.execPath,
    [`${repoRoot}node_modules/tsx/dist/cli.mjs`, `${repoRoot}scripts/build.ts`, '--quiet'],
    {
      stdio: 'inherit',
    },
  );
}

/** A running operator and the kubeconfig of each of its functions. */
export interface LocalOperator {
  deployment: LocalDeployment;
  /** function name -> kubeconfig file with that function's ServiceAccount token */
  kubeconfigs: Map<string, string>;
}

/**
 * Installs the RBAC and credentials of an operator in `namespace` (its ConfigMap `postgres-operator` there, watching
 * only `namespace`; the ConfigMap itself is the caller's), then starts the functions and the bridge with logs in
 * `<dir>/logs`. `env` is added to every process's environment (e.g. `LOG_LEVEL`).
 */
export async function startOperator(
  client: KubeClient,
  namespace: string,
  dir: string,
  env: Record<string, string> = {},
): Promise<LocalOperator> {
  ensureBundles();
  const credentials = await installFunctionCredentials(client, namespace, dir);
  const kubeconfigs = new Map(credentials.functions);
  const deployment = await startLocal({
    logDir: path.join(dir, 'logs'),
    env: {
      OPERATOR_NAMESPACE: namespace,
      WATCHED_NAMESPACE: namespace,
      KUBECONFIG: credentials.bridge,
      PERIODIC_SYNC_SCHEDULE: 'off',
      LOG_LEVEL: 'info',
      ...env,
    },
    functionEnv: (spec: FunctionSpec) => ({ KUBECONFIG: kubeconfigs.get(spec.name) }),
  });
  return { deployment, kubeconfigs };
}
