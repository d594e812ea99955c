/**
 * Cluster outcomes as function outcomes, shared by onCreate, onUpdate, onDelete and the fleet functions.
 */
import { finalizeCluster, type FinalizeResult } from '../../lib/sync/cluster/finalize';
import type { PostgresqlObject } from '../../lib/sync/cluster/read-cluster';
import { firstSyncStarted } from '../../lib/sync/cluster/first-syncs';
import { isNewCluster, syncCluster, type SyncResult, type SyncStart } from '../../lib/sync/cluster/sync-cluster';
import { POSTGRESQL } from '../../lib/model/postgresql';
import { leaseName } from '../../lib/builders/lease';
import type { KubeClient } from '../../lib/k8s/client';
import { readLease, type LeaseSnapshot } from '../../lib/k8s/lease';
import { eventKey, type Outcome } from '../../lib/runtime/handler';
import type { NormalizedEvent } from '../../lib/runtime/envelope';
import type { SyncContext } from '../../lib/sync/context';

/**
 * @param readinessWatched the event source delivers the cluster's StatefulSet readiness changes (the bridge)
 * @returns a sync result as a function outcome: retryable failures, a Lease held by another invocation (`busy`)
 *   and pending work (e.g. roles waiting for the master pod, pods not Ready yet) become 503, so the event source
 *   calls again (after `Retry-After` when the sync knows what it waits for)
 */
export function syncOutcome(result: SyncResult, readinessWatched = false): Outcome {
  // The event source delivers the StatefulSet's readiness changes itself: no need to be called again for pods. A
  // wait for Patroni's state shows in no watched object: look again then, whoever the event source is.
  const podWait = readinessWatched ? undefined : result.waitingForPods?.retryAfterSeconds;
  const retryAfterSeconds =
    result.lookAgainSeconds === undefined ? podWait : Math.min(result.lookAgainSeconds, podWait ?? Infinity);
  return { result, retryable: result.retryable === true || retryAfterSeconds !== undefined, retryAfterSeconds };
}

/** @returns a finalize result as a function outcome: cleanup still running or retryable failures become 503 */
export function finalizeOutcome(result: FinalizeResult): Outcome {
  return {
    result,
    retryable: result.outcome === 'cleaning' || (result.outcome === 'failed' && result.retryable === true),
  };
}

/**
 * Syncs a cluster, or finalizes it when it is being deleted (a delete with the finalizer arrives as an update
 * that sets deletionTimestamp).
 * @param readinessWatched the event source delivers the cluster's StatefulSet readiness changes (the bridge)
 * @param start what the invocation read already (the Lease: {@link clusterLeasePrefetch}) or the add event carried
 */
export async function syncOrFinalize(
  ctx: SyncContext,
  namespace: string,
  name: string,
  readinessWatched = false,
  start: SyncStart = {},
): Promise<Outcome> {
  const result = await syncCluster(ctx, namespace, name, start);
  if (result.outcome === 'deleting') return finalizeOutcome(await finalizeCluster(ctx, namespace, name));
  return syncOutcome(result, readinessWatched);
}

/**
 * The `prefetch` of the functions that sync the cluster an event names: its Lease, read beside the operator config
 * (a sync reads the Lease before anything else of the cluster, see `syncCluster`), so an update waits one round
 * trip less.
 * @returns the read, or undefined when the event names no object or adds a new cluster (whose first sync creates
 *   the Lease without reading it)
 */
export function clusterLeasePrefetch(
  event: NormalizedEvent,
  client: KubeClient,
  signal: AbortSignal,
): Promise<LeaseSnapshot> | undefined {
  const key = eventKey(event);
  const kind = event.object?.kind ?? event.ref?.kind;
  if (!key || (kind && kind !== POSTGRESQL.kind)) return undefined;
  if (addedObject(event)) return undefined; // a new cluster's first sync creates its Lease unread
  return readLease(client, { namespace: key.namespace, name: leaseName(key.name) }, signal);
}

/**
 * @returns the object an add event carries when it is a new cluster's (`isNewCluster`: no operator synced it yet),
 *   for its first sync to use without reading it again; undefined otherwise, and when this process has started that
 *   first sync already (`firstSyncStarted`: the add is delivered again, carrying the object as it was)
 */
export function addedObject(event: NormalizedEvent): PostgresqlObject | undefined {
  const object = event.object;
  if (event.action !== 'add' || object?.kind !== POSTGRESQL.kind) return undefined;
  if (!object.metadata?.name || !object.metadata.namespace) return undefined;
  const raw = object as PostgresqlObject;
  // Delivered again after its first sync here (a retry): the object it carries is out of date; read it instead.
  return isNewCluster(raw) && !firstSyncStarted(raw.metadata.uid!) ? raw : undefined;
}
