/**
 * Environment of the Spilo container, in Zalando's order. The first variable of a name wins (compared without
 * case), so the operator's own variables cannot be overridden by the manifest's `env`.
 *
 * Source: Zalando postgres-operator docs, reference/cluster_manifest.md (env, clone, standby) and
 * reference/operator_parameters.md; Spilo's ENVIRONMENT.rst for the variable meanings; behaviour of v2.0.1.
 */
import { desiredMajorVersion } from '../model/major-version';
import type { OperatorConfig } from '../model/config';
import type { Postgresql } from '../model/postgresql';
import { secretName } from './names';
import { spiloConfiguration } from './spilo-configuration';
import { tlsEnv } from './tls';

/** A core/v1 EnvVar. */
export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: Record<string, unknown>;
}

const secretRef = (name: string, key = 'password'): Record<string, unknown> => ({ secretKeyRef: { name, key } });
const fieldRef = (fieldPath: string): Record<string, unknown> => ({ fieldRef: { apiVersion: 'v1', fieldPath } });

/** Go's json.Marshal of a map: keys sorted. */
const sortedJson = (record: Record<string, string>) =>
  JSON.stringify(Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : 1))));

function coreEnv(cluster: Postgresql, config: OperatorConfig): EnvVar[] {
  const name = cluster.metadata.name;
  const env: EnvVar[] = [
    { name: 'SCOPE', value: name },
    { name: 'PGROOT', value: '/home/postgres/pgdata/pgroot' },
    { name: 'POD_IP', valueFrom: fieldRef('status.podIP') },
    { name: 'POD_NAMESPACE', valueFrom: fieldRef('metadata.namespace') },
    { name: 'PGUSER_SUPERUSER', value: config.super_username },
    { name: 'KUBERNETES_SCOPE_LABEL', value: config.cluster_name_label },
    { name: 'KUBERNETES_ROLE_LABEL', value: config.pod_role_label },
    { name: 'PGPASSWORD_SUPERUSER', valueFrom: secretRef(secretName(config, name, config.super_username)) },
    { name: 'PGUSER_STANDBY', value: config.replication_username },
    { name: 'PGPASSWORD_STANDBY', valueFrom: secretRef(secretName(config, name, config.replication_username)) },
    { name: 'PAM_OAUTH2', value: config.pam_configuration },
    { name: 'HUMAN_ROLE', value: config.pam_role_name },
  ];
  if (config.enable_spilo_wal_path_compat) env.push({ name: 'ENABLE_WAL_PATH_COMPAT', value: 'true' });
  // In major_version_upgrade_mode full, a version below minimal_major_version runs target_major_version.
  if (config.enable_pgversion_env_var) {
    env.push({ name: 'PGVERSION', value: desiredMajorVersion(cluster.spec.postgresql.version, config) });
  }
  env.push({ name: 'KUBERNETES_LABELS', value: sortedJson(config.cluster_labels) });
  env.push({ name: 'SPILO_CONFIGURATION', value: spiloConfiguration(cluster, config) });
  if (config.etcd_host) env.push({ name: 'ETCD_HOST', value: config.etcd_host });
  else {
    env.push({ name: 'DCS_ENABLE_KUBERNETES_API', value: 'true' });
    if (config.enable_pod_disruption_budget) {
      env.push({ name: 'KUBERNETES_BOOTSTRAP_LABELS', value: '{"critical-operation":"true"}' });
    }
  }
  if (config.kubernetes_use_configmaps) env.push({ name: 'KUBERNETES_USE_CONFIGMAPS', value: 'true' });
  return env;
}

function cloneEnv(cluster: Postgresql, config: OperatorConfig): EnvVar[] {
  const clone = cluster.spec.clone;
  if (!clone?.cluster) return [];
  const env: EnvVar[] = [{ name: 'CLONE_SCOPE', value: clone.cluster }];
  if (!clone.timestamp) {
    return [
      ...env,
      { name: 'CLONE_METHOD', value: 'CLONE_WITH_BASEBACKUP' },
      { name: 'CLONE_HOST', value: clone.cluster },
      { name: 'CLONE_PORT', value: '5432' },
      { name: 'CLONE_USER', value: config.replication_username },
      { name: 'CLONE_PASSWORD', valueFrom: secretRef(secretName(config, clone.cluster, config.replication_username)) },
    ];
  }
  // Zalando v1.15.1 (generateCloneEnvironment): the manifest's WAL path, or the config's bucket (S3, then GCS with
  // its credentials, then Azure) followed by the uid suffix; then the method, the target time and an empty prefix.
  if (clone.s3_wal_path) env.push({ name: 'CLONE_WALE_S3_PREFIX', value: clone.s3_wal_path });
  else {
    if (config.wal_s3_bucket) env.push({ name: 'CLONE_WAL_S3_BUCKET', value: config.wal_s3_bucket });
    else if (config.wal_gs_bucket) {
      env.push({ name: 'CLONE_WAL_GS_BUCKET', value: config.wal_gs_bucket });
      if (config.gcp_credentials)
        env.push({ name: 'CLONE_GOOGLE_APPLICATION_CREDENTIALS', value: config.gcp_credentials });
    } else if (config.wal_az_storage_account)
      env.push({ name: 'CLONE_AZURE_STORAGE_ACCOUNT', value: config.wal_az_storage_account });
    env.push({ name: 'CLONE_WAL_BUCKET_SCOPE_SUFFIX', value: clone.uid ? `/${clone.uid}` : '' });
  }
  env.push(
    { name: 'CLONE_METHOD', value: 'CLONE_WITH_WALE' },
    { name: 'CLONE_TARGET_TIME', value: clone.timestamp },
    { name: 'CLONE_WAL_BUCKET_SCOPE_PREFIX', value: '' },
  );
  if (clone.s3_endpoint) {
    env.push(
      { name: 'CLONE_AWS_ENDPOINT', value: clone.s3_endpoint },
      { name: 'CLONE_WALE_S3_ENDPOINT', value: clone.s3_endpoint },
    );
  }
  if (clone.s3_access_key_id) env.push({ name: 'CLONE_AWS_ACCESS_KEY_ID', value: clone.s3_access_key_id });
  if (clone.s3_secret_access_key) env.push({ name: 'CLONE_AWS_SECRET_ACCESS_KEY', value: clone.s3_secret_access_key });
  if (clone.s3_force_path_style !== undefined) {
    env.push({ name: 'CLONE_AWS_S3_FORCE_PATH_STYLE', value: clone.s3_force_path_style ? '1' : '0' });
  }
  return env;
}

function standbyEnv(cluster: Postgresql): EnvVar[] {
  const standby = cluster.spec.standby;
  if (!standby) return [];
  const env: EnvVar[] = [];
  if (standby.standby_host) env.push({ name: 'STANDBY_HOST', value: standby.standby_host });
  if (standby.standby_port) env.push({ name: 'STANDBY_PORT', value: standby.standby_port });
  if (standby.standby_primary_slot_name)
    env.push({ name: 'STANDBY_PRIMARY_SLOT_NAME', value: standby.standby_primary_slot_name });
  const walPath = standby.s3_wal_path ?? standby.gs_wal_path;
  if (walPath) {
    env.push(
      { name: standby.s3_wal_path ? 'STANDBY_WALE_S3_PREFIX' : 'STANDBY_WALE_GS_PREFIX', value: walPath },
      { name: 'STANDBY_METHOD', value: 'STANDBY_WITH_WALE' },
      { name: 'STANDBY_WAL_BUCKET_SCOPE_PREFIX', value: '' },
    );
  }
  return env;
}

function bucketEnv(cluster: Postgresql, config: OperatorConfig): EnvVar[] {
  const env: EnvVar[] = [];
  const suffix = cluster.metadata.uid ? `/${cluster.metadata.uid}` : '';
  if (config.wal_s3_bucket) {
    env.push(
      { name: 'WAL_S3_BUCKET', value: config.wal_s3_bucket },
      { name: 'WAL_BUCKET_SCOPE_SUFFIX', value: suffix },
      { name: 'WAL_BUCKET_SCOPE_PREFIX', value: '' },
    );
  }
  if (config.wal_gs_bucket) {
    env.push(
      { name: 'WAL_GS_BUCKET', value: config.wal_gs_bucket },
      { name: 'WAL_BUCKET_SCOPE_SUFFIX', value: suffix },
      { name: 'WAL_BUCKET_SCOPE_PREFIX', value: '' },
    );
  }
  if (config.wal_az_storage_account) env.push({ name: 'AZURE_STORAGE_ACCOUNT', value: config.wal_az_storage_account });
  if (config.gcp_credentials) env.push({ name: 'GOOGLE_APPLICATION_CREDENTIALS', value: config.gcp_credentials });
  if (config.log_s3_bucket) {
    env.push(
      { name: 'LOG_S3_BUCKET', value: config.log_s3_bucket },
      { name: 'LOG_BUCKET_SCOPE_SUFFIX', value: suffix },
      { name: 'LOG_BUCKET_SCOPE_PREFIX', value: '' },
    );
  }
  return env;
}

/**
 * @returns the Spilo container env: operator variables, SPILO_CONFIGURATION, DCS settings, then the manifest's
 *   `env`, clone and standby settings, WAL/log bucket settings, then the `tls` files; duplicates (case-insensitive)
 *   dropped
 */
export function spiloEnv(cluster: Postgresql, config: OperatorConfig): EnvVar[] {
  const manifestEnv = (cluster.spec.env ?? []) as EnvVar[];
  const all = [
    ...coreEnv(cluster, config),
    ...manifestEnv,
    ...cloneEnv(cluster, config),
    ...standbyEnv(cluster),
    ...bucketEnv(cluster, config),
    // Zalando v1.15.1 appends the TLS variables last (generateStatefulSet), each unless the name is there already.
    ...tlsEnv(cluster),
  ];
  const seen = new Set<string>();
  return all.filter((variable) => {
    const key = variable.name.toUpperCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
