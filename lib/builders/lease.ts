/**
 * The cluster's Lease `<cluster>-operator`, which every writer of a cluster (sync, rolling update, node drain)
 * holds while it writes (`lib/k8s/lease.ts`): labelled like the cluster's children and owned by its `postgresql`
 * object, so it goes with the cluster.
 *
 * Source: Kubernetes API reference, coordination.k8s.io/v1 Lease; meta/v1 OwnerReference.
 */
import type { OperatorConfig } from '../model/config';
import { POSTGRESQL, type Postgresql } from '../model/postgresql';
import { selectorLabels } from './labels';

/** @returns the Lease name of a cluster */
export const leaseName = (cluster: string) => `${cluster}-operator`;

/**
 * @param cluster the `postgresql` object's name, namespace and uid
 * @returns the `LeaseTarget` (`lib/k8s/lease.ts`) of the cluster's Lease `<cluster>-operator`, labelled like its
 *   children and owned by the object
 */
export function clusterLeaseTarget(cluster: { name: string; namespace: string; uid?: string }, config: OperatorConfig) {
  return {
    namespace: cluster.namespace,
    name: leaseName(cluster.name),
    labels: selectorLabels({ metadata: { name: cluster.name } } as Postgresql, config),
    ownerReferences: [
      {
        apiVersion: POSTGRESQL.apiVersion,
        kind: POSTGRESQL.kind,
        name: cluster.name,
        uid: cluster.uid,
        controller: true,
        blockOwnerDeletion: true,
      },
    ],
  };
}
