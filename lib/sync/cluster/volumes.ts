/**
 * Growing the `pgdata` volumes: each PersistentVolumeClaim `pgdata-<cluster>-<n>` whose request is below the new
 * size gets `spec.resources.requests.storage` patched (Zalando's `storage_resize_mode: pvc`, its default); the
 * storage driver grows the volume and the filesystem. Claims are never shrunk. The claim template of the
 * StatefulSet is changed afterwards (by re-creating the StatefulSet), so a claim created later gets the new size.
 *
 * Kubernetes accepts a larger request only for a bound claim whose StorageClass has `allowVolumeExpansion: true`;
 * its refusal is reported with the claim's name.
 *
 * Source: Zalando postgres-operator docs, reference/operator_parameters.md (storage_resize_mode); Kubernetes
 * "Persistent Volumes", "Expanding Persistent Volumes Claims".
 */
import type { V1PersistentVolumeClaim } from '@kubernetes/client-node';
import { selectorLabels } from '../../builders/labels';
import { isRetryable } from '../../k8s/errors';
import { claimsToGrow, type ClaimSize } from '../../plan/volume-resize';
import { type NamespacedPostgresql } from './observe';
import type { SyncContext } from '../context';
import { labelSelector } from '../../builders/labels';

/** A claim that could not be grown. */
export class VolumeResizeError extends Error {
  constructor(
    readonly claim: string,
    override readonly cause: Error,
  ) {
    super(`could not resize PersistentVolumeClaim ${claim}: ${cause.message}`);
    this.name = 'VolumeResizeError';
  }
}

/**
 * @param size the new size (a quantity, e.g. `2Gi`)
 * @returns the names of the claims patched (none when all are at least that large); throws VolumeResizeError
 */
export async function growVolumeClaims(
  ctx: SyncContext,
  cluster: NamespacedPostgresql,
  size: string,
): Promise<string[]> {
  const namespace = cluster.metadata.namespace;
  const claims = await ctx.client.list<V1PersistentVolumeClaim>(
    'PersistentVolumeClaim',
    namespace,
    labelSelector(selectorLabels(cluster, ctx.config)),
    ctx.signal,
  );
  const sizes: ClaimSize[] = claims.flatMap((claim) =>
    claim.metadata?.name === undefined
      ? []
      : [
          {
            name: claim.metadata.name,
            storage: claim.spec?.resources?.requests?.storage,
            deleting: Boolean(claim.metadata.deletionTimestamp),
          },
        ],
  );
  const grown: string[] = [];
  for (const name of claimsToGrow(cluster.metadata.name, sizes, size)) {
    try {
      await ctx.client.mergePatch(
        { kind: 'PersistentVolumeClaim', namespace, name },
        { spec: { resources: { requests: { storage: size } } } },
        undefined,
        ctx.signal,
      );
    } catch (error) {
      if (isRetryable(error)) throw error;
      throw new VolumeResizeError(name, error instanceof Error ? error : new Error(String(error)));
    }
    grown.push(name);
  }
  return grown;
}
