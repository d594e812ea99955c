/**
 * Metadata shared by every child of a cluster: namespace, labels, annotations and the owner reference to the
 * `postgresql` object (so the API server's garbage collector removes what the finalizer does not).
 *
 * Source: Kubernetes API reference, meta/v1 ObjectMeta and OwnerReference.
 */
import { POSTGRESQL, type Postgresql } from '../model/postgresql';

/** A Kubernetes object as plain JSON. */
export interface DesiredObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: Array<Record<string, unknown>>;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/** The owner reference that makes the `postgresql` object the controller of a child; none without a uid. */
export function ownerReferences(cluster: Postgresql): Array<Record<string, unknown>> | undefined {
  if (!cluster.metadata.uid) return undefined;
  return [
    {
      apiVersion: POSTGRESQL.apiVersion,
      kind: POSTGRESQL.kind,
      name: cluster.metadata.name,
      uid: cluster.metadata.uid,
      controller: true,
      blockOwnerDeletion: true,
    },
  ];
}

/** Metadata of a child object in the cluster's namespace; empty annotation maps are left out. */
export function childMetadata(
  cluster: Postgresql,
  name: string,
  labels: Record<string, string>,
  annotations?: Record<string, string>,
): DesiredObject['metadata'] {
  const metadata: DesiredObject['metadata'] = { name, namespace: cluster.metadata.namespace ?? 'default', labels };
  if (annotations && Object.keys(annotations).length > 0) metadata.annotations = annotations;
  const owners = ownerReferences(cluster);
  if (owners) metadata.ownerReferences = owners;
  return metadata;
}
