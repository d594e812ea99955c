/**
 * Metadata shared by every child of a cluster: namespace, labels, annotations and, with `enable_owner_references`,
 * the controller owner reference to the `postgresql` object (then the API server's garbage collector also removes
 * what the cleanup on delete does not). As in Zalando's operator v1.15, without that key a child carries the owner
 * references of the `postgresql` object itself (usually none), and with it those plus the controller reference
 * (without `blockOwnerDeletion`).
 *
 * Source: Zalando postgres-operator docs, reference/operator_parameters.md (`enable_owner_references`, default
 * false); Zalando v1.15.1 `ownerReferences()` (pkg/cluster/k8sres.go); Kubernetes API reference, meta/v1
 * ObjectMeta and OwnerReference.
 */
import type { OperatorConfig } from '../model/config';
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

/**
 * @returns the owner references of a child: the `postgresql` object's own, plus (with `enable_owner_references`
 *   and a uid) the reference that makes it the child's controller; undefined when that leaves none
 */
export function ownerReferences(
  cluster: Postgresql,
  config: Pick<OperatorConfig, 'enable_owner_references'>,
): Array<Record<string, unknown>> | undefined {
  const own = cluster.metadata.ownerReferences;
  const inherited = Array.isArray(own) ? (own as Array<Record<string, unknown>>) : [];
  const uid = cluster.metadata.uid;
  const controller =
    config.enable_owner_references && uid && !inherited.some((ref) => ref.uid === uid)
      ? [
          {
            apiVersion: POSTGRESQL.apiVersion,
            kind: POSTGRESQL.kind,
            name: cluster.metadata.name,
            uid,
            controller: true,
          },
        ]
      : [];
  const refs = [...inherited, ...controller];
  return refs.length > 0 ? refs : undefined;
}

/** Metadata of a child object in the cluster's namespace; empty annotation maps are left out. */
export function childMetadata(
  cluster: Postgresql,
  config: Pick<OperatorConfig, 'enable_owner_references'>,
  name: string,
  labels: Record<string, string>,
  annotations?: Record<string, string>,
): DesiredObject['metadata'] {
  const metadata: DesiredObject['metadata'] = { name, namespace: cluster.metadata.namespace ?? 'default', labels };
  if (annotations && Object.keys(annotations).length > 0) metadata.annotations = annotations;
  const owners = ownerReferences(cluster, config);
  if (owners) metadata.ownerReferences = owners;
  return metadata;
}
