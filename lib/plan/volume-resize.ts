/**
 * Which `pgdata` claims of a cluster grow to a new volume size (Zalando's `storage_resize_mode: pvc`): each
 * PersistentVolumeClaim `pgdata-<cluster>-<n>` whose request is below the new size; claims are never shrunk, and a
 * claim being deleted is left alone. The patches are `lib/sync/cluster/volumes.ts`.
 *
 * Source: Zalando postgres-operator docs, reference/operator_parameters.md (storage_resize_mode); Kubernetes
 * "Expanding Persistent Volumes Claims".
 */
import { compareQuantities } from '../model/quantity';
import { podOrdinal } from './statefulset';

/** What the decision reads of a claim. */
export interface ClaimSize {
  name: string;
  /** `spec.resources.requests.storage`, a quantity (e.g. `1Gi`); none when unset */
  storage: string | undefined;
  /** the claim has a deletionTimestamp */
  deleting: boolean;
}

/**
 * @param clusterName the cluster's name (the claims are `pgdata-<cluster>-<ordinal>`)
 * @param size the new size (a quantity, e.g. `2Gi`)
 * @returns the names of the claims to grow, in name order (none when all are at least that large)
 */
export function claimsToGrow(clusterName: string, claims: readonly ClaimSize[], size: string): string[] {
  const prefix = `pgdata-${clusterName}`;
  return claims
    .filter(
      (c) =>
        podOrdinal(prefix, c.name) !== undefined &&
        !c.deleting &&
        !(c.storage && compareQuantities(c.storage, size) >= 0),
    )
    .map((c) => c.name)
    .sort((a, b) => (a < b ? -1 : 1));
}
