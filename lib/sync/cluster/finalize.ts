/**
 * `finalizeCluster`: the cleanup of a deleted `postgresql` object, v2.0.1 semantics (as `Delete` in
 * https://github.com/zalando/postgres-operator/blob/v1.15.1/pkg/cluster/cluster.go).
 * Deletes the logical backup CronJob, the connection pooler's Deployments, the StatefulSet and its pods, the PVCs (when `enable_persistent_volume_claim_deletion`), the Secrets
 * (when `enable_secrets_deletion`; the system users' Secrets are always kept), the PodDisruptionBudgets, the
 * Services and Endpoints, and Patroni's objects (`<cluster>-config`, `-leader`, `-failover`, `-sync`, as Endpoints
 * or ConfigMaps). It lists again and removes the finalizer only when nothing is left; until then it reports what
 * is still there and asks to be called again. Calling it again is harmless: deleting is idempotent, and once the
 * finalizer is gone the object is gone too.
 *
 * Objects that are kept lose their owner reference to the cluster first, or the garbage collector would delete
 * them with it.
 *
 * The delete guard: when `delete_annotation_date_key` / `delete_annotation_name_key` are set, the object must carry
 * `<date key>: <today, YYYY-MM-DD UTC>` and `<name key>: <cluster name>`; otherwise nothing is deleted, the
 * finalizer stays (the object waits in Terminating) and a Warning Event says which annotation to add.
 */
import type { V1ObjectMeta } from '@kubernetes/client-node';
import { isRetryable, isStatus } from '../../k8s/errors';
import type { KubeObject } from '../../k8s/client';
import { POSTGRESQL } from '../../model/postgresql';
import { deleteGuardProblem, keptAfterDeletion } from '../../plan/cleanup';
import { storedStatus } from '../../plan/cluster-status';
import { removeFinalizer } from './finalizer';
import type { PostgresqlObject } from './read-cluster';
import { messageOf } from './result';
import type { SyncContext } from '../context';
import { childrenSelector } from '../../builders/labels';

/** How a finalization ended. */
export interface FinalizeResult {
  /**
   * `finalized`: cleanup done and the finalizer removed; `cleaning`: deletes were sent, some objects are still
   * there (call again); `blocked`: the delete guard holds; `not-deleting`: the object has no deletionTimestamp;
   * `not-found`: the object is gone; `failed`: an API error (see `retryable`)
   */
  outcome: 'finalized' | 'cleaning' | 'blocked' | 'not-deleting' | 'not-found' | 'failed';
  /** `Kind/name` of every object a delete request was sent for */
  deleted: string[];
  /** `Kind/name` of the objects still present (for `cleaning`) */
  remaining: string[];
  retryable?: boolean;
  error?: string;
}

/**
 * The kinds deleted by the cluster's selector labels, in Zalando's order (the logical backup CronJob, whose Jobs the
 * garbage collector removes with it, and the pooler's Deployments first).
 */
const CLEANUP_KINDS = [
  'CronJob',
  'Deployment',
  'StatefulSet',
  'Pod',
  'PersistentVolumeClaim',
  'Secret',
  'PodDisruptionBudget',
  'Endpoints',
  'Service',
  'ConfigMap',
] as const;

/** Patroni's DCS objects and the `-config` Service, which Patroni may create without the operator's labels. */
const PATRONI_SUFFIXES = ['-config', '-leader', '-failover', '-sync'];

/** A child as listed: its kind, and metadata with a name (children without one are not listed). */
type Child = { kind?: string; metadata: V1ObjectMeta & { name: string } };

/**
 * Cleans up a deleted cluster.
 * @param lastKnown the object as last seen (e.g. the body of a delete event), used when it is already gone, so
 *   children without owner references are still cleaned up
 * @returns what was done; never throws
 */
export async function finalizeCluster(
  ctx: SyncContext,
  namespace: string,
  name: string,
  lastKnown?: KubeObject,
): Promise<FinalizeResult> {
  const log = ctx.log.with({ cluster: name, namespace });
  const result: FinalizeResult = { outcome: 'failed', deleted: [], remaining: [] };
  try {
    const raw = await ctx.client.get<PostgresqlObject>({ kind: POSTGRESQL.kind, namespace, name }, ctx.signal);
    if (raw && !raw.metadata.deletionTimestamp) return { ...result, outcome: 'not-deleting' };
    const subject: { metadata?: V1ObjectMeta } | undefined = raw ?? lastKnown;
    if (!subject) return { ...result, outcome: 'not-found' };
    const guard = deleteGuardProblem(subject.metadata ?? {}, ctx.config, ctx.now());
    if (guard) {
      if (raw) await reportDeleteBlocked(ctx, raw, guard);
      log.warn('Delete blocked', { reason: guard });
      return { ...result, outcome: 'blocked', error: guard };
    }

    const keeps = keptAfterDeletion(ctx.config, name);
    const present = await listChildren(ctx, namespace, name);
    for (const object of present) {
      const {
        kind = '',
        metadata: { name: childName },
      } = object;
      if (object.metadata.deletionTimestamp) continue;
      if (keeps(kind, childName)) {
        await dropOwnerReference(ctx, object, namespace, subject.metadata?.uid);
        continue;
      }
      if (await ctx.client.delete({ kind, namespace, name: childName }, undefined, ctx.signal)) {
        result.deleted.push(`${kind}/${childName}`);
        log.info(`Deleted ${kind}`, { name: childName });
      }
    }
    const left = (await listChildren(ctx, namespace, name)).filter((o) => !keeps(o.kind, o.metadata.name));
    result.remaining = left.map((o) => `${o.kind}/${o.metadata.name}`);
    if (result.remaining.length > 0) {
      log.info('Waiting for children to go', { remaining: result.remaining.join(', ') });
      return { ...result, outcome: 'cleaning', retryable: true };
    }
    if (raw) {
      if (result.deleted.length > 0) {
        await ctx.events.record(raw, 'Normal', 'Deleted', `Deleted ${result.deleted.join(', ')}`);
      }
      await removeFinalizer(ctx.client, raw, ctx.signal);
      log.info('Removed the finalizer');
    }
    return { ...result, outcome: 'finalized' };
  } catch (error) {
    log.error('Cleanup failed', { error: messageOf(error) });
    // A failed `test` of a patch (422: the object changed since it was listed) passes on the next call.
    return {
      ...result,
      outcome: 'failed',
      retryable: isRetryable(error) || isStatus(error, 422),
      error: messageOf(error),
    };
  }
}

/** Lists the cluster's children by its selector labels, plus Patroni's objects by name. */
async function listChildren(ctx: SyncContext, namespace: string, cluster: string): Promise<Child[]> {
  // The selector depends only on the name (and the config): the manifest may be gone or invalid.
  const selector = childrenSelector(ctx.config, cluster);
  const lists = await Promise.all(
    CLEANUP_KINDS.map((kind) => ctx.client.list<Child>(kind, namespace, selector, ctx.signal)),
  );
  const found = new Map<string, Child>();
  for (const object of lists.flat()) found.set(`${object.kind}/${object.metadata.name}`, object);
  const byName = PATRONI_SUFFIXES.flatMap((suffix) =>
    (['Endpoints', 'ConfigMap', 'Service'] as const)
      .filter((kind) => kind !== 'Service' || suffix === '-config')
      .map((kind) => ({ kind, name: `${cluster}${suffix}` })),
  ).filter(({ kind, name }) => !found.has(`${kind}/${name}`));
  const extra = await Promise.all(byName.map((ref) => ctx.client.get<Child>({ ...ref, namespace }, ctx.signal)));
  for (const object of extra) if (object) found.set(`${object.kind}/${object.metadata.name}`, object);
  return [...found.values()];
}

/** Removes the owner reference to the cluster from an object that is kept (JSON patch tested on the list read). */
async function dropOwnerReference(
  ctx: SyncContext,
  object: Child,
  namespace: string,
  uid: string | undefined,
): Promise<void> {
  const refs = object.metadata.ownerReferences ?? [];
  if (!uid || !refs.some((r) => r.uid === uid)) return;
  await ctx.client.jsonPatch(
    { kind: object.kind ?? '', namespace, name: object.metadata.name },
    [
      { op: 'test', path: '/metadata/ownerReferences', value: refs },
      { op: 'replace', path: '/metadata/ownerReferences', value: refs.filter((r) => r.uid !== uid) },
    ],
    ctx.signal,
  );
}

/** Records the guard's Warning Event and status message once per distinct message (status is the memory). */
async function reportDeleteBlocked(ctx: SyncContext, raw: PostgresqlObject, message: string): Promise<void> {
  if (storedStatus(raw)?.deletion === message) return;
  await ctx.client.mergePatch(
    { kind: POSTGRESQL.kind, namespace: raw.metadata.namespace, name: raw.metadata.name },
    { status: { deletion: message } },
    'status',
    ctx.signal,
  );
  await ctx.events.record(raw, 'Warning', 'DeleteBlocked', message);
}
