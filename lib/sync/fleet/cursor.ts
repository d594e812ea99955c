/**
 * Where the last fleet sync stopped. A run that reaches its deadline with clusters left records the first cluster
 * it did not start (`namespace/name`) in the ConfigMap `postgres-operator-fleet-sync` in the operator namespace;
 * the next run starts its work list there (the list is sorted by `namespace/name` and rotated at the cursor), so
 * the clusters at the end of the order are not starved when every run runs out of time. A run that finishes
 * everything deletes the ConfigMap. A run with nothing left and no cursor writes nothing.
 *
 * The cursor is a hint, not a lock: the work list is recomputed from a fresh in-memory diff every run, so a lost
 * or stale cursor only changes the order.
 */
import type { KubeObject } from '../../k8s/client';
import type { SyncContext } from '../context';

/** Name of the ConfigMap holding the cursor. */
export const FLEET_CURSOR_CONFIGMAP = 'postgres-operator-fleet-sync';

/** @returns the stored cursor (`namespace/name`), or undefined; throws KubeApiError when the API fails */
export async function readCursor(ctx: SyncContext, namespace: string): Promise<string | undefined> {
  const configMap = await ctx.client.get<KubeObject>({ kind: 'ConfigMap', namespace, name: FLEET_CURSOR_CONFIGMAP }, ctx.signal);
  const cursor = configMap?.data?.cursor as string | undefined;
  return cursor || undefined;
}

/**
 * Records the cursor (server-side apply), or deletes the ConfigMap when `cursor` is undefined and one was stored.
 * @param left how many clusters were left (recorded for people looking at the ConfigMap)
 */
export async function writeCursor(ctx: SyncContext, namespace: string, previous: string | undefined, cursor: string | undefined,
  left: number): Promise<void> {
  if (cursor === undefined) {
    if (previous !== undefined) await ctx.client.delete({ kind: 'ConfigMap', namespace, name: FLEET_CURSOR_CONFIGMAP }, undefined, ctx.signal);
    return;
  }
  await ctx.client.apply({
    apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: FLEET_CURSOR_CONFIGMAP, namespace },
    data: { cursor, left: String(left), stoppedAt: ctx.now().toISOString() },
  }, ctx.signal);
}

/**
 * @param keys the work list's keys
 * @returns the keys sorted, starting at the first key at or after the cursor (wrapping around)
 */
export function orderFromCursor(keys: readonly string[], cursor: string | undefined): string[] {
  const sorted = [...keys].sort();
  if (!cursor) return sorted;
  const start = sorted.findIndex((k) => k >= cursor);
  return start <= 0 ? sorted : [...sorted.slice(start), ...sorted.slice(0, start)];
}
