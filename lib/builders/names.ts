/**
 * Names of the objects of a cluster, from Zalando's name templates.
 *
 * Source: Zalando postgres-operator docs, reference/operator_parameters.md (secret_name_template, pdb_name_format,
 * master_dns_name_format, replica_dns_name_format, master_legacy_dns_name_format).
 */
import type { OperatorConfig } from '../model/config';
import type { Postgresql } from '../model/postgresql';

/** Name of the credentials Secret of a role: `{username}` has `_` turned into `-` (Secret names allow no `_`). */
export function secretName(config: OperatorConfig, clusterName: string, username: string): string {
  return config.secret_name_template
    .replaceAll('{username}', username.replaceAll('_', '-'))
    .replaceAll('{cluster}', clusterName)
    .replaceAll('{tprkind}', 'postgresql')
    .replaceAll('{tprgroup}', 'acid.zalan.do');
}

/** Name of the master PodDisruptionBudget (`pdb_name_format`, default `postgres-{cluster}-pdb`). */
export function pdbName(config: OperatorConfig, clusterName: string): string {
  return config.pdb_name_format.replaceAll('{cluster}', clusterName);
}

/** Name of the PodDisruptionBudget that protects pods during critical operations (Zalando v1.15+). */
export function criticalOpPdbName(clusterName: string): string {
  return `postgres-${clusterName}-critical-op-pdb`;
}

/** Name of the replica Service. */
export function replicaServiceName(clusterName: string): string {
  return `${clusterName}-repl`;
}

function formatDnsName(format: string, cluster: string, team: string, namespace: string, zone: string): string {
  return format
    .replaceAll('{cluster}', cluster)
    .replaceAll('{team}', team)
    .replaceAll('{namespace}', namespace)
    .replaceAll('{hostedzone}', zone)
    .toLowerCase();
}

/**
 * The external-dns host name(s) of a load balancer Service: the configured format with the full cluster name,
 * plus the legacy `{cluster}.{team}` name (cluster without the team prefix) when the name starts with `<team>-`,
 * comma separated.
 */
export function dnsName(cluster: Postgresql, config: OperatorConfig, role: 'master' | 'replica'): string {
  const name = cluster.metadata.name;
  const team = cluster.spec.teamId.toLowerCase();
  const namespace = cluster.metadata.namespace ?? 'default';
  const format = role === 'master' ? config.master_dns_name_format : config.replica_dns_name_format;
  const names = [formatDnsName(format, name, team, namespace, config.db_hosted_zone)];
  if (name.toLowerCase().startsWith(`${team}-`)) {
    const legacy = role === 'master' ? config.master_legacy_dns_name_format : config.replica_legacy_dns_name_format;
    if (legacy) names.push(formatDnsName(legacy, name.slice(team.length + 1), team, namespace, config.db_hosted_zone));
  }
  return names.join(',');
}

/**
 * The external-dns host name of a pooler load balancer: the master or replica DNS format with `<cluster>-pooler`
 * as the cluster name (the replica format adds its own `-repl`), without a legacy name (Zalando v1.15.1,
 * generatePoolerServiceAnnotations).
 */
export function poolerDnsName(cluster: Postgresql, config: OperatorConfig, role: 'master' | 'replica'): string {
  const format = role === 'master' ? config.master_dns_name_format : config.replica_dns_name_format;
  return formatDnsName(
    format,
    `${cluster.metadata.name}-pooler`,
    cluster.spec.teamId.toLowerCase(),
    cluster.metadata.namespace ?? 'default',
    config.db_hosted_zone,
  );
}
