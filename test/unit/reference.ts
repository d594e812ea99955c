/**
 * Shared helpers for unit tests: Zalando's reference manifests and ConfigMaps (vendored, MIT, in
 * `test/fixtures/reference/zalando/`) and a deterministic build of a reference manifest with fixed inputs.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { buildCluster, secretUsers, type DesiredState } from '../../lib/builders';
import { parseOperatorConfig, type OperatorConfig } from '../../lib/model/config';
import type { Postgresql } from '../../lib/model/postgresql';
import { validatePostgresql } from '../../lib/model/validate';

/** Zalando's published examples (v1.0.0 and v2.0.1). */
export const REFERENCE_DIR = fileURLToPath(new URL('../fixtures/reference/zalando/', import.meta.url));
/** The repository root. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The operator ConfigMap versions we have. */
export const CONFIG_VERSIONS = ['v1.0.0', 'v2.0.1'] as const;
export type ConfigVersion = (typeof CONFIG_VERSIONS)[number];

/** Every reference `postgresql` manifest, as `<version>/<file>`. */
export const REFERENCE_MANIFESTS = [
  'v1.0.0/minimal-postgres-manifest.yaml',
  'v1.0.0/complete-postgres-manifest.yaml',
  'v2.0.1/minimal-postgres-manifest.yaml',
  'v2.0.1/complete-postgres-manifest.yaml',
  'v2.0.1/minimal-postgres-lowest-version-manifest.yaml',
  'v2.0.1/standby-manifest.yaml',
] as const;
export type ReferenceManifest = (typeof REFERENCE_MANIFESTS)[number];

/** Namespace and uid every built cluster gets. */
export const NAMESPACE = 'default';
export const UID = '00000000-0000-4000-8000-000000000001';

/** @returns the parsed YAML of a file under the reference directory */
export function readReference(path: string): unknown {
  return parse(readFileSync(REFERENCE_DIR + path, 'utf8'));
}

/** @returns the `data` of a reference ConfigMap */
export function configMapData(version: ConfigVersion): Record<string, string> {
  const doc = readReference(`${version}/configmap.yaml`) as { data: Record<string, string> };
  return { ...doc.data };
}

/** @returns the parsed operator config of a reference ConfigMap, with optional overrides (ConfigMap syntax) */
export function referenceConfig(version: ConfigVersion, overrides: Record<string, string> = {}): OperatorConfig {
  const result = parseOperatorConfig({ ...configMapData(version), ...overrides });
  assert.ok(result.ok, `config ${version} does not parse: ${JSON.stringify(!result.ok && result.errors)}`);
  return result.config;
}

/** @returns a reference manifest as raw JSON with namespace `default` and the fixed uid */
export function rawManifest(
  path: ReferenceManifest,
): Record<string, unknown> & { metadata: Record<string, unknown>; spec: Record<string, unknown> } {
  const raw = readReference(path) as Record<string, unknown> & {
    metadata: Record<string, unknown>;
    spec: Record<string, unknown>;
  };
  raw.metadata = { ...raw.metadata, namespace: NAMESPACE, uid: UID };
  return raw;
}

/** @returns the validated cluster; fails the test when it is invalid */
export function validCluster(raw: unknown, config?: OperatorConfig): { cluster: Postgresql; warnings: string[] } {
  const result = validatePostgresql(raw, {
    enableTeamIdClusterNamePrefix: config?.enable_team_id_clustername_prefix ?? false,
  });
  assert.ok(result.ok, `manifest invalid: ${JSON.stringify(!result.ok && result.problems)}`);
  return { cluster: result.cluster, warnings: result.warnings };
}

/** Password of a user in every test build. */
export const passwordOf = (user: string): string => `${user}-password`;

/** @returns the desired state of a cluster built with passwords `<user>-password` */
export function build(cluster: Postgresql, config: OperatorConfig): DesiredState {
  const { users } = secretUsers(cluster, config);
  return buildCluster(cluster, config, { passwords: Object.fromEntries(users.map((u) => [u, passwordOf(u)])) });
}

/** @returns a validated cluster from a manifest edited by `edit`, built under `config` */
export function buildEdited(
  path: ReferenceManifest,
  config: OperatorConfig,
  edit: (raw: ReturnType<typeof rawManifest>) => void = () => {},
): DesiredState & { cluster: Postgresql } {
  const raw = rawManifest(path);
  edit(raw);
  const { cluster } = validCluster(raw, config);
  return { ...build(cluster, config), cluster };
}

/** The sidecar that Zalando's v2.0.1 complete-postgres-manifest.yaml shows in its comments (a fresh copy per call). */
export const telegrafSidecar = () => ({
  name: 'telegraf-sidecar',
  image: 'telegraf:latest',
  ports: [{ name: 'metrics', containerPort: 8094, protocol: 'TCP' }],
  resources: { limits: { cpu: '500m', memory: '500Mi' }, requests: { cpu: '100m', memory: '100Mi' } },
  env: [{ name: 'USEFUL_VAR', value: 'perhaps-true' }],
});

/** A TLS section as Zalando's complete manifest comments describe it, with a CA from a Secret of its own. */
export const tlsWithCa = () => ({
  tls: {
    secretName: 'pg-tls',
    certificateFile: 'tls.crt',
    privateKeyFile: 'tls.key',
    caFile: 'ca.crt',
    caSecretName: 'pg-ca',
  },
  spiloFSGroup: 103,
});
