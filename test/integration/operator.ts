/**
 * Shared set-up for integration tests of the operator on the test control plane: the CRD installed once, a
 * KubeClient on the plane's kubeconfig, reference manifests and a sync context.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { KubeClient } from '../../lib/k8s/client';
import { installCrd as installCrdObject } from '../../lib/k8s/crd';
import { silentLogger } from '../../lib/log/logger';
import { parseOperatorConfig, type OperatorConfig } from '../../lib/model/config';
import { derivedPasswords } from '../../lib/sync/operator/passwords';
import { kubectl, requireTestenv } from './testenv';
import { syncContext as newSyncContext, type SyncContext } from '../../lib/sync/context';

/** The repository root. */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
/** Zalando's published example manifests and ConfigMaps, vendored with their MIT licence (`test/fixtures/reference`). */
export const referenceDir = fileURLToPath(new URL('../fixtures/reference/zalando/', import.meta.url));

/** @returns a YAML file of the reference set parsed, e.g. `v2.0.1/minimal-postgres-manifest.yaml` */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function reference(path: string): Record<string, any> {
  return parse(readFileSync(referenceDir + path, 'utf8'));
}

/** @returns the operator config parsed from a reference ConfigMap (`v1.0.0` or `v2.0.1`) */
export function referenceConfig(version: 'v1.0.0' | 'v2.0.1'): OperatorConfig {
  const result = parseOperatorConfig(reference(`${version}/configmap.yaml`).data);
  if (!result.ok) throw new Error(`reference config ${version} is invalid: ${JSON.stringify(result.errors)}`);
  return result.config;
}

/** Passwords derived from a fixed test key. */
export const testPasswords = derivedPasswords(Buffer.from('integration-test-password-key'));

let crdInstalled = false;

/** Installs the generated CRD (once per process) and waits until it is established. */
export async function installCrd(): Promise<void> {
  if (crdInstalled) return;
  const client = testClient();
  try {
    await installCrdObject(client, parse(readFileSync(`${repoRoot}manifests/postgresql.crd.yaml`, 'utf8')));
  } finally {
    client.close();
  }
  crdInstalled = true;
}

/** @returns a client on the test plane (close it when done) */
export function testClient(): KubeClient {
  requireTestenv();
  return KubeClient.fromDefault();
}

/** @returns a sync context on the test plane with the given config, a silent log and a clock (default the real one) */
export function syncContext(
  client: KubeClient,
  config: OperatorConfig,
  now: () => Date = () => new Date(),
): SyncContext {
  return newSyncContext({ client, config, log: silentLogger, now, newPassword: testPasswords });
}

/** Applies a manifest (object) into a namespace with kubectl; throws with kubectl's error text on failure. */
export async function applyManifest(object: unknown, namespace: string): Promise<void> {
  const result = await kubectl(['apply', '-n', namespace, '-f', '-'], JSON.stringify(object));
  if (result.code !== 0) throw new Error(result.stderr.trim());
}
