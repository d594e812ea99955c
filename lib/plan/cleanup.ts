/**
 * The decisions of `finalizeCluster` (the cleanup of a deleted cluster, Zalando v2.0.1 semantics, as in v1.15.1:
 * `Delete` in https://github.com/zalando/postgres-operator/blob/v1.15.1/pkg/cluster/cluster.go, and "Delete
 * protection via annotations" in docs/administrator.md): whether the delete guard holds, and which children
 * outlive the cluster. Pure: the config and the current time are passed in.
 */
import { secretName } from '../builders/names';
import type { OperatorConfig } from '../model/config';

/**
 * The delete guard: when `delete_annotation_date_key` / `delete_annotation_name_key` are set, the object must carry
 * `<date key>: <today, YYYY-MM-DD UTC>` and `<name key>: <cluster name>`.
 * @param object the `postgresql` object's name and annotations
 * @param now the current time (its UTC date is "today")
 * @returns why the guard holds (naming the annotations to add), or undefined when deletion may proceed
 */
export function deleteGuardProblem(
  object: { name?: string; annotations?: Readonly<Record<string, string>> },
  config: Pick<OperatorConfig, 'delete_annotation_date_key' | 'delete_annotation_name_key'>,
  now: Date,
): string | undefined {
  const { delete_annotation_date_key: dateKey, delete_annotation_name_key: nameKey } = config;
  const annotations = object.annotations ?? {};
  const today = now.toISOString().slice(0, 10);
  const missing: string[] = [];
  if (dateKey && annotations[dateKey] !== today) missing.push(`${dateKey}: "${today}"`);
  if (nameKey && annotations[nameKey] !== object.name) missing.push(`${nameKey}: "${object.name}"`);
  return missing.length > 0
    ? `deletion is blocked by the delete guard: annotate the postgresql object with ${missing.join(' and ')} to let it proceed`
    : undefined;
}

/**
 * What outlives a deleted cluster: the system users' Secrets (super_username, replication_username) always, every
 * Secret unless `enable_secrets_deletion`, the PersistentVolumeClaims unless `enable_persistent_volume_claim_deletion`.
 * @param cluster the cluster's name
 * @returns whether a child of that kind and name is kept (it then loses its owner reference instead)
 */
export function keptAfterDeletion(
  config: OperatorConfig,
  cluster: string,
): (kind: string | undefined, name: string) => boolean {
  const systemSecrets = new Set(
    [config.super_username, config.replication_username].map((user) => secretName(config, cluster, user)),
  );
  return (kind, name) => {
    if (kind === 'Secret') return !config.enable_secrets_deletion || systemSecrets.has(name);
    if (kind === 'PersistentVolumeClaim') return !config.enable_persistent_volume_claim_deletion;
    return false;
  };
}
