/**
 * Everything fleet sync needs, read with one LIST per kind and namespace scope: the `postgresql` objects, the
 * children of every cluster (by the `cluster_labels`, pooler objects included, plus the presence of
 * `cluster_name_label`, grouped by that label's value), and the shared pod ServiceAccount and RoleBinding (by name, with a field selector).
 *
 * Source: Kubernetes API concepts, "List" with `labelSelector` and `fieldSelector` (metadata.name is supported
 * for every resource).
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { buildPodServiceAccount } from '../../builders/service-account';
import { resourceFor, resourcePath } from '../../k8s/resources';
import { POSTGRESQL } from '../../model/postgresql';
import { OWNED_KINDS, type ObservedChildren } from '../cluster/observe';
import type { SyncContext } from '../context';
import type { ListedCluster } from './diff';
import { childrenSelector } from '../../builders/labels';

/** A namespace scope: one namespace, or `undefined` for all namespaces. */
export type Scope = string | undefined;

/** What one scope holds. */
export interface Inventory {
  /** the `postgresql` objects */
  clusters: ListedCluster[];
  /** children by `namespace/cluster`, each a map `Kind/name` -> object */
  children: Map<string, ObservedChildren>;
  /** the shared objects (pod ServiceAccount, RoleBinding) found, by namespace, each a map `Kind/name` -> object */
  shared: Map<string, ObservedChildren>;
}

/** @returns `namespace/name`, the key fleet sync uses for a cluster */
export const clusterKey = (namespace: string, name: string) => `${namespace}/${name}`;

/** Lists one kind with a field selector (the client's `list` takes label selectors only). */
async function listByField(
  ctx: SyncContext,
  kind: string,
  namespace: Scope,
  fieldSelector: string,
): Promise<KubernetesObject[]> {
  const list = await ctx.client.request<{ items?: KubernetesObject[] }>({
    verb: 'list',
    kind,
    method: 'GET',
    path: resourcePath(kind, namespace),
    query: { fieldSelector },
    signal: ctx.signal,
  });
  const { apiVersion } = resourceFor(kind);
  return (list.items ?? []).map((item) => ({ apiVersion, kind, ...item }));
}

/**
 * Reads a scope: 1 LIST of `postgresql`, 1 LIST per owned kind, 1 LIST per shared kind.
 * @returns the inventory; throws KubeApiError when a list fails
 */
export async function readInventory(ctx: SyncContext, scope: Scope): Promise<Inventory> {
  const nameLabel = ctx.config.cluster_name_label;
  const selector = childrenSelector(ctx.config);
  // The shared objects have the same names in every namespace; build them for any namespace to learn the names.
  const sharedKinds = buildPodServiceAccount(ctx.config, 'default').map((o) => ({
    kind: o.kind,
    name: o.metadata.name,
  }));
  const [clusters, owned, shared] = await Promise.all([
    ctx.client.list<ListedCluster>(POSTGRESQL.kind, scope, undefined, ctx.signal),
    Promise.all(OWNED_KINDS.map((kind) => ctx.client.list<KubernetesObject>(kind, scope, selector, ctx.signal))),
    Promise.all(sharedKinds.map((s) => listByField(ctx, s.kind, scope, `metadata.name=${s.name}`))),
  ]);
  const children = new Map<string, ObservedChildren>();
  owned.forEach((items, i) => {
    for (const item of items) {
      const cluster = item.metadata?.labels?.[nameLabel];
      // Listed objects of a namespaced kind always carry a name and a namespace.
      const { namespace = '', name = '' } = item.metadata ?? {};
      if (!cluster) continue;
      const key = clusterKey(namespace, cluster);
      let map = children.get(key);
      if (!map) children.set(key, (map = new Map()));
      map.set(`${OWNED_KINDS[i]}/${name}`, item);
    }
  });
  const sharedByNamespace = new Map<string, ObservedChildren>();
  shared.flat().forEach((item) => {
    const { namespace = '', name = '' } = item.metadata ?? {};
    let map = sharedByNamespace.get(namespace);
    if (!map) sharedByNamespace.set(namespace, (map = new Map()));
    map.set(`${item.kind}/${name}`, item);
  });
  return { clusters, children, shared: sharedByNamespace };
}
