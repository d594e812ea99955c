/**
 * The `SPILO_CONFIGURATION` env var: Patroni settings Spilo merges into its generated patroni.yml. Key order is
 * fixed (postgresql, then bootstrap; initdb before dcs) so the string is byte-for-byte stable between syncs.
 *
 * Source: Zalando postgres-operator docs, reference/cluster_manifest.md ("Patroni parameters",
 * "Postgres parameters"); Spilo's README (SPILO_CONFIGURATION); behaviour of Zalando v2.0.1.
 */
import type { OperatorConfig } from '../model/config';
import type { Postgresql } from '../model/postgresql';

/** Parameters Spilo writes into postgresql.conf locally; every other parameter goes to the DCS (bootstrap.dcs). */
export const LOCAL_PARAMETERS = new Set([
  'archive_command',
  'shared_buffers',
  'logging_collector',
  'log_destination',
  'log_directory',
  'log_filename',
  'log_file_mode',
  'log_rotation_age',
  'log_truncate_on_rotation',
  'ssl',
  'ssl_ca_file',
  'ssl_crl_file',
  'ssl_cert_file',
  'ssl_key_file',
  'shared_preload_libraries',
  'bg_mon.listen_address',
  'bg_mon.history_buckets',
  'pg_stat_statements.track_utility',
  'extwlist.extensions',
  'extwlist.custom_path',
]);

/** initdb options that are bare flags when their value is "true". */
const INITDB_FLAGS = new Set(['data-checksums', 'debug', 'no-locale', 'noclean', 'nosync', 'sync-only']);

const sortedEntries = <T>(record: Record<string, T>) =>
  Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

function initdb(cluster: Postgresql): Array<string | Record<string, string>> {
  // Zalando v1.15.1 (generateSpiloJSONConfiguration) starts from md5 whatever password_encryption says; pg_hba's
  // md5 method also accepts SCRAM-SHA-256 passwords, and the manifest's initdb options override it.
  const options: Array<string | Record<string, string>> = [{ 'auth-host': 'md5' }, { 'auth-local': 'trust' }];
  for (const [key, value] of sortedEntries(cluster.spec.patroni?.initdb ?? {})) {
    // Exactly "true" (Zalando compares case-sensitively; "True" stays a key: value option).
    if (INITDB_FLAGS.has(key) && value === 'true') {
      if (!options.includes(key)) options.push(key);
      continue;
    }
    const existing = options.find((o) => typeof o === 'object' && key in o) as Record<string, string> | undefined;
    if (existing) existing[key] = value;
    else options.push({ [key]: value });
  }
  return options;
}

function dcs(
  cluster: Postgresql,
  config: OperatorConfig,
  dcsParameters: Record<string, string>,
): Record<string, unknown> {
  const patroni = cluster.spec.patroni ?? {};
  const out: Record<string, unknown> = {};
  if (patroni.ttl) out.ttl = patroni.ttl;
  if (patroni.loop_wait) out.loop_wait = patroni.loop_wait;
  if (patroni.retry_timeout) out.retry_timeout = patroni.retry_timeout;
  if (patroni.maximum_lag_on_failover) out.maximum_lag_on_failover = patroni.maximum_lag_on_failover;
  if (patroni.synchronous_mode) out.synchronous_mode = true;
  if (patroni.synchronous_mode_strict) out.synchronous_mode_strict = true;
  if (patroni.synchronous_node_count) out.synchronous_node_count = patroni.synchronous_node_count;
  if (Object.keys(dcsParameters).length > 0) out.postgresql = { parameters: dcsParameters };
  if (patroni.slots && Object.keys(patroni.slots).length > 0)
    out.slots = Object.fromEntries(sortedEntries(patroni.slots));
  // Zalando v1.15.1 always has a value for the config key (default false), so failsafe_mode is always written.
  out.failsafe_mode = patroni.failsafe_mode ?? config.enable_patroni_failsafe_mode;
  return out;
}

/** The manifest's PostgreSQL parameters split the way Spilo splits them: postgresql.conf, or the DCS. */
function splitParameters(cluster: Postgresql): { local: Record<string, string>; shared: Record<string, string> } {
  const local: Record<string, string> = {};
  const shared: Record<string, string> = {};
  for (const [name, value] of sortedEntries(cluster.spec.postgresql.parameters ?? {})) {
    (LOCAL_PARAMETERS.has(name) ? local : shared)[name] = value;
  }
  return { local, shared };
}

/**
 * @returns the Patroni dynamic configuration the manifest asks for (`bootstrap.dcs` of SPILO_CONFIGURATION): only
 *   the keys it sets (`ttl`, `loop_wait`, `retry_timeout`, `maximum_lag_on_failover`, `synchronous_mode`,
 *   `synchronous_mode_strict`, `synchronous_node_count`, `postgresql.parameters` kept in the DCS, `slots`,
 *   `failsafe_mode`)
 */
export function patroniDynamicConfiguration(cluster: Postgresql, config: OperatorConfig): Record<string, unknown> {
  return dcs(cluster, config, splitParameters(cluster).shared);
}

/** @returns the compact JSON text of SPILO_CONFIGURATION for the cluster */
export function spiloConfiguration(cluster: Postgresql, config: OperatorConfig): string {
  const { local, shared } = splitParameters(cluster);
  const postgresql: Record<string, unknown> = {};
  if (!config.enable_pgversion_env_var)
    postgresql.bin_dir = `/usr/lib/postgresql/${cluster.spec.postgresql.version}/bin`;
  if (Object.keys(local).length > 0) postgresql.parameters = local;
  if (cluster.spec.patroni?.pg_hba && cluster.spec.patroni.pg_hba.length > 0)
    postgresql.pg_hba = cluster.spec.patroni.pg_hba;
  return JSON.stringify({ postgresql, bootstrap: { initdb: initdb(cluster), dcs: dcs(cluster, config, shared) } });
}
