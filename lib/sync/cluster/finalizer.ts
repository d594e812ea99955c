/**
 * The finalizer on `postgresql` objects, with `enable_finalizers` (default false, as in Zalando's operator). With
 * it, deleting a cluster becomes an update that sets `deletionTimestamp`, so a lost DELETE event cannot leak
 * children: any later event or `periodicSync` sees the object still there and finishes the cleanup
 * (`finalizeCluster`), which removes the finalizer last. Without it, the cleanup runs on the delete event, from the
 * object the event carries; a delete event that never arrives leaves the children behind, as with Zalando. This
 * project's own ConfigMap (`manifests/configmap.yaml`) switches it on.
 *
 * As Zalando v1.15's `syncFinalizer` does, every sync adds it when the key is true and removes it when false, so a
 * cluster taken over from, or handed back to, an operator with the other setting follows the key in force.
 * The name is Zalando's (`postgres-operator.acid.zalan.do`, `finalizerName` in
 * https://github.com/zalando/postgres-operator/blob/v1.15.1/pkg/cluster/cluster.go), so a cluster that Zalando's
 * operator finalized keeps working.
 *
 * Source: Kubernetes "Finalizers"; JSON Patch (RFC 6902) `test` for optimistic concurrency.
 */
import type { V1ObjectMeta } from '@kubernetes/client-node';
import type { KubeClient } from '../../k8s/client';
import { POSTGRESQL } from '../../model/postgresql';

/** The finalizer on `postgresql` objects: Zalando's name, so clusters it finalized keep working. */
export const FINALIZER = 'postgres-operator.acid.zalan.do';

/** A `postgresql` object as read: its finalizers and the version they were read at. */
export interface FinalizerTarget {
  metadata: Pick<V1ObjectMeta, 'finalizers' | 'resourceVersion'> & { name: string; namespace: string };
}

const finalizersOf = (raw: { metadata?: Pick<V1ObjectMeta, 'finalizers'> }): string[] => raw.metadata?.finalizers ?? [];

/** @returns whether the object carries the operator's finalizer */
export const hasFinalizer = (raw: { metadata?: Pick<V1ObjectMeta, 'finalizers'> }): boolean =>
  finalizersOf(raw).includes(FINALIZER);

const ref = (raw: FinalizerTarget) => ({
  kind: POSTGRESQL.kind,
  namespace: raw.metadata.namespace,
  name: raw.metadata.name,
});

/**
 * Adds the finalizer unless present (no request then). The patch tests the list it read, so a concurrent change
 * to the finalizers fails with 422 instead of being overwritten (the caller retries on the next event).
 * @returns the updated object (as the API returns it), or the input when nothing had to change
 */
export async function ensureFinalizer<T extends FinalizerTarget>(
  client: KubeClient,
  raw: T,
  signal?: AbortSignal,
): Promise<T> {
  if (hasFinalizer(raw)) return raw;
  const current = raw.metadata.finalizers;
  const operations =
    current === undefined
      ? [
          { op: 'test', path: '/metadata/resourceVersion', value: raw.metadata.resourceVersion },
          { op: 'add', path: '/metadata/finalizers', value: [FINALIZER] },
        ]
      : [
          { op: 'test', path: '/metadata/finalizers', value: current },
          { op: 'add', path: '/metadata/finalizers/-', value: FINALIZER },
        ];
  return client.jsonPatch<T>(ref(raw), operations, signal);
}

/**
 * Removes the finalizer (no request when absent), testing the list it read.
 * @returns the updated object (as the API returns it), or the input when nothing had to change
 */
export async function removeFinalizer<T extends FinalizerTarget>(
  client: KubeClient,
  raw: T,
  signal?: AbortSignal,
): Promise<T> {
  if (!hasFinalizer(raw)) return raw;
  const current = finalizersOf(raw);
  return client.jsonPatch<T>(
    ref(raw),
    [
      { op: 'test', path: '/metadata/finalizers', value: current },
      { op: 'replace', path: '/metadata/finalizers', value: current.filter((f) => f !== FINALIZER) },
    ],
    signal,
  );
}
