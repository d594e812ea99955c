/**
 * Where the last fleet sync stopped. A run that reaches its deadline with clusters left records the first cluster
 * it did not start (`namespace/name`) in the ConfigMap `postgres-operator-fleet-sync` in the operator namespace;
 * the next run starts its work list there (the list is sorted by `namespace/name` and rotated at the cursor, see
 * `orderFromCursor` in `lib/plan/fleet-run.ts`), so
 * the clusters at the end of the order are not starved when every run runs out of time. A run that finishes
 * everything deletes the ConfigMap. A run with nothing left and no cursor writes nothing.
 *
 * The cursor is a hint, not a lock: the work list is recomputed from a fresh in-memory diff every run, so a lost
 * or stale cursor only changes the order.
 */
import type { V1ConfigMap } from '@kubernetes/client-node';
import type { SyncContext } from '../context';

/** Name of the ConfigMap holding the cursor. */
export const FLEET_CURSOR_CONFIGMAP = 'postgres-operator-fleet-sync';

/** @returns the stored cursor (`namespace/name`), or undefined; throws KubeApiError when the API fails */
export async function readCursor(ctx: SyncContext, namespace: string): Promise<string | undefined> {
  const configMap = await ctx.client.get<V1ConfigMap>(
    { kind: 'ConfigMap', namespace, name: FLEET_CURSOR_CONFIGMAP },
    ctx.signal,
  );
  return configMap?.data?.cursor || undefined;
}

/**
 * Records the cursor (server-side apply), or deletes the ConfigMap when `cursor` is undefined and one was stored.
 * @param left how many clusters were left (recorded for people looking at the ConfigMap)
 */
export async function writeCursor(
  ctx: SyncContext,
  namespace: string,
  previous: string | undefined,
  cursor: string | undefined,
  left: number,
): Promise<void> {
  if (cursor === undefined) {
    if (previous !== undefined)
      await ctx.client.delete({ kind: 'ConfigMap', namespace, name: FLEET_CURSOR_CONFIGMAP }, undefined, ctx.signal);
    return;
  }
  await ctx.client.apply(
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: FLEET_CURSOR_CONFIGMAP, namespace },
      data: { cursor, left: String(left), stoppedAt: ctx.now().toISOString() },
    },
    ctx.signal,
  );
}
