/**
 * Function credentials for tests that run the functions as processes: the RBAC the deploy scripts generate, and a
 * kubeconfig per ServiceAccount with a fresh bound token, so each function runs with only its own verbs.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { FUNCTIONS } from '../../lib/registry/functions';
import type { KubeClient } from '../../lib/k8s/client';
import { commonObjects } from '../../scripts/deploy/common';
import { defaultOptions } from '../../scripts/deploy/options';
import { bridgeRbac } from '../../scripts/deploy/rbac';
import { kubectl, requireTestenv } from './testenv';

/** @returns a kubeconfig file in `dir` that authenticates as ServiceAccount `account` of `namespace` (1 h token) */
export async function serviceAccountKubeconfig(account: string, namespace: string, dir: string): Promise<string> {
  const token = await kubectl(['create', 'token', account, '-n', namespace, '--duration=1h']);
  assert.equal(token.code, 0, token.stderr);
  const admin = parse(readFileSync(requireTestenv().kubeconfig, 'utf8'));
  const file = path.join(dir, `${account}.kubeconfig`);
  writeFileSync(
    file,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: admin.clusters,
      'current-context': 'sa',
      contexts: [{ name: 'sa', context: { cluster: admin.clusters[0].name, user: account, namespace } }],
      users: [{ name: account, user: { token: token.stdout.trim() } }],
    }),
  );
  return file;
}

/**
 * Installs the generated RBAC of an operator living in `namespace` and watching only it, and writes one kubeconfig
 * per function and one for the bridge into `dir`.
 * @returns function name -> kubeconfig path, and the bridge's
 */
export async function installFunctionCredentials(
  client: KubeClient,
  namespace: string,
  dir: string,
): Promise<{ functions: Map<string, string>; bridge: string }> {
  const options = {
    ...defaultOptions(),
    namespace,
    configMap: { namespace, name: 'postgres-operator' },
    watchedNamespaces: [namespace],
    includeCrd: false,
  };
  const scope = { namespace, configNamespace: namespace, watchedNamespaces: [namespace] };
  for (const object of [...commonObjects(options), ...bridgeRbac(scope)]) await client.apply(object);
  const functions = new Map<string, string>();
  for (const spec of FUNCTIONS) functions.set(spec.name, await serviceAccountKubeconfig(spec.name, namespace, dir));
  return { functions, bridge: await serviceAccountKubeconfig('postgres-operator-bridge', namespace, dir) };
}

/** @returns a bound token (1 h) of a new ServiceAccount `name` in `namespace`: a caller of the operator API or UI */
export async function accountToken(namespace: string, name: string): Promise<string> {
  const created = await kubectl(['create', 'serviceaccount', name, '-n', namespace]);
  assert.equal(created.code, 0, created.stderr);
  const token = await kubectl(['create', 'token', name, '-n', namespace, '--duration=1h']);
  assert.equal(token.code, 0, token.stderr);
  return token.stdout.trim();
}

/** Lets ServiceAccount `account` of `namespace` do `verbs` (space-separated) on `resource` there (Role + RoleBinding). */
export async function grant(namespace: string, account: string, verbs: string, resource: string): Promise<void> {
  const name = `${account}-${resource.replace(/\W/g, '')}`;
  for (const args of [
    ['create', 'role', name, '-n', namespace, `--verb=${verbs.split(' ').join(',')}`, `--resource=${resource}`],
    ['create', 'rolebinding', name, '-n', namespace, `--role=${name}`, `--serviceaccount=${namespace}:${account}`],
  ]) {
    const result = await kubectl(args);
    assert.equal(result.code, 0, result.stderr);
  }
}
