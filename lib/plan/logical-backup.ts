/**
 * What goes when the logical backup is turned off (or `logical_backup_job_prefix` renamed it): every CronJob listed
 * with the cluster's labels whose pods are logical backup pods (`application: spilo-logical-backup`) and that the
 * builders no longer make. Its Jobs and their pods go with it (the API server's garbage collector). Objects already
 * being deleted are left alone, so a second sync plans nothing. Pure.
 *
 * Source: Zalando postgres-operator v1.15.1 docs,
 * https://github.com/zalando/postgres-operator/blob/v1.15.1/docs/reference/cluster_manifest.md (enableLogicalBackup);
 * its Update deletes the CronJob when `enableLogicalBackup` turns false. Zalando leaves a CronJob of an old prefix
 * for the administrator to delete (operator_parameters.md, logical_backup_job_prefix); a sync here removes it.
 */
import { LOGICAL_BACKUP_APPLICATION } from '../builders/logical-backup';
import type { DesiredObject } from '../builders/object-meta';
import type { Postgresql } from '../model/postgresql';
import { objectKey, type Action, type LiveObject } from './plan';

/**
 * @param desired the owned objects the builders made
 * @param observed live children by `Kind/name`
 * @returns one `delete` action per logical backup CronJob that exists but is no longer wanted
 */
export function logicalBackupRemovals(
  cluster: Postgresql,
  desired: readonly DesiredObject[],
  observed: ReadonlyMap<string, LiveObject>,
): Action[] {
  const wanted = new Set(desired.map(objectKey));
  const actions: Action[] = [];
  for (const [key, live] of observed) {
    if (!key.startsWith('CronJob/') || wanted.has(key) || live.metadata?.deletionTimestamp) continue;
    const podLabels = (
      live as { spec?: { jobTemplate?: { spec?: { template?: { metadata?: { labels?: object } } } } } }
    ).spec?.jobTemplate?.spec?.template?.metadata?.labels as Record<string, string> | undefined;
    if (podLabels?.application !== LOGICAL_BACKUP_APPLICATION) continue;
    const name = key.slice('CronJob/'.length);
    actions.push({
      type: 'delete',
      change: 'deleted',
      object: {
        apiVersion: 'batch/v1',
        kind: 'CronJob',
        metadata: { name, namespace: cluster.metadata.namespace ?? 'default' },
      },
      reason:
        cluster.spec.enableLogicalBackup === true
          ? `CronJob ${name} is removed: logical_backup_job_prefix names the logical backup CronJob differently now`
          : `CronJob ${name} is removed: the logical backup is turned off`,
    });
  }
  return actions;
}
