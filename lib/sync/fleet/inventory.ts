/**
 * Everything fleet sync needs, read page by page so that memory stays bounded however large the fleet: the
 * `postgresql` objects in pages of `LIST_PAGE_SIZE`, and for each page the children of its clusters (one LIST per
 * owned kind, by the `cluster_labels` and `cluster_name_label in (<the page's clusters>)`, pooler objects included),
 * grouped by that label's value; plus, once per scope, the shared pod ServiceAccount and RoleBinding (by name, with a
 * field selector). Of each listed object only what the plan reads is kept (`keptOfListed`).
 *
 * Source: Kubernetes API concepts, "Retrieving large results sets in chunks" (`limit` / `continue`) and "List"
 * with `labelSelector` (set-based `in`) and `fieldSelector` (metadata.name is supported for every resource).
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { buildPodServiceAccount } from '../../builders/service-account';
import { POSTGRESQL } from '../../model/postgresql';
import { OWNED_KINDS, type ObservedChildren } from '../cluster/observe';
import type { SyncContext } from '../context';
import type { ListedCluster } from './diff';
import { childrenSelector } from '../../builders/labels';

/** A namespace scope: one namespace, or `undefined` for all namespaces. */
export type Scope = string | undefined;

/** One page of a scope: up to `LIST_PAGE_SIZE` clusters and the children of each. */
export interface InventoryPage {
  /** the `postgresql` objects */
  clusters: ListedCluster[];
  /** children by `namespace/cluster`, each a map `Kind/name` -> object */
  children: Map<string, ObservedChildren>;
}

/** The shared objects (pod ServiceAccount, RoleBinding) of a scope, by namespace, each a map `Kind/name` -> object. */
export type SharedObjects = Map<string, ObservedChildren>;

/** @returns `namespace/name`, the key fleet sync uses for a cluster */
export const clusterKey = (namespace: string, name: string) => `${namespace}/${name}`;

type ManagedFieldsEntry = { manager?: string; fieldsV1?: Record<string, unknown> };
type Listed = KubernetesObject & { metadata?: { managedFields?: ManagedFieldsEntry[] } };

/** @returns `value[key]` when both are objects */
const field = (value: unknown, key: string): unknown =>
  value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;

/**
 * @returns of one of the operator's managedFields entries of a StatefulSet, the only part the plan reads (the pod
 *   template annotations it applied, `lib/plan/statefulset.ts`): the entry's `fieldsV1` covers the whole object it
 *   applied, about as large as the StatefulSet's spec
 */
function ownTemplateAnnotationsEntry(entry: ManagedFieldsEntry): ManagedFieldsEntry {
  const annotations = field(field(field(field(entry.fieldsV1, 'f:spec'), 'f:template'), 'f:metadata'), 'f:annotations');
  return {
    manager: entry.manager,
    fieldsV1: annotations ? { 'f:spec': { 'f:template': { 'f:metadata': { 'f:annotations': annotations } } } } : {},
  };
}

/**
 * @returns the listed object without `metadata.managedFields`, which the plan does not read, except a
 *   StatefulSet's entries of the operator's own field manager, cut to the pod template annotations they set (the
 *   plan reads those there, see `lib/plan/statefulset.ts`). Managed fields are often as large as the rest of the
 *   object, and a page of 500 clusters' children is held while its clusters are diffed.
 */
export function keptOfListed<T extends Listed>(object: T, fieldManager: string): T {
  const { managedFields, ...metadata } = object.metadata ?? {};
  const own =
    object.kind === 'StatefulSet'
      ? managedFields?.filter((m) => m.manager === fieldManager).map(ownTemplateAnnotationsEntry)
      : undefined;
  return { ...object, metadata: own?.length ? { ...metadata, managedFields: own } : metadata };
}

/** Lists a kind page by page, keeping of each item what the plan reads. */
async function listKept<T extends Listed>(
  ctx: SyncContext,
  kind: string,
  scope: Scope,
  selectors: { labelSelector?: string; fieldSelector?: string },
): Promise<T[]> {
  const kept: T[] = [];
  for await (const page of ctx.client.listPages<T>(kind, scope, selectors, ctx.signal))
    for (const item of page) kept.push(keptOfListed(item, ctx.client.fieldManager));
  return kept;
}

/**
 * Reads the shared objects of a scope: 1 LIST per shared kind.
 * @returns them by namespace; throws KubeApiError when a list fails
 */
export async function readShared(ctx: SyncContext, scope: Scope): Promise<SharedObjects> {
  // The shared objects have the same names in every namespace; build them for any namespace to learn the names.
  const sharedKinds = buildPodServiceAccount(ctx.config, 'default').map((o) => ({
    kind: o.kind,
    name: o.metadata.name,
  }));
  const shared = await Promise.all(
    sharedKinds.map((s) => listKept(ctx, s.kind, scope, { fieldSelector: `metadata.name=${s.name}` })),
  );
  const byNamespace: SharedObjects = new Map();
  for (const item of shared.flat()) {
    const { namespace = '', name = '' } = item.metadata ?? {};
    let map = byNamespace.get(namespace);
    if (!map) byNamespace.set(namespace, (map = new Map()));
    map.set(`${item.kind}/${name}`, item);
  }
  return byNamespace;
}

/**
 * Reads a scope page by page: 1 LIST page of `postgresql`, then 1 LIST per owned kind for the clusters of that page
 * (in pages as well). A scope with up to `LIST_PAGE_SIZE` clusters costs one LIST per kind; a page's children are
 * read only when the caller asks for the next page, so at most one page is held at a time.
 * @returns the pages; throws KubeApiError when a list fails
 */
export async function* clusterPages(ctx: SyncContext, scope: Scope): AsyncGenerator<InventoryPage> {
  const nameLabel = ctx.config.cluster_name_label;
  for await (const page of ctx.client.listPages<ListedCluster>(POSTGRESQL.kind, scope, {}, ctx.signal)) {
    const clusters = page.map((raw) => keptOfListed(raw, ctx.client.fieldManager));
    const names = [...new Set(clusters.map((c) => c.metadata?.name ?? ''))].filter(Boolean).sort();
    const children = new Map<string, ObservedChildren>();
    if (names.length > 0) {
      const labelSelector = childrenSelector(ctx.config, names);
      const owned = await Promise.all(OWNED_KINDS.map((kind) => listKept(ctx, kind, scope, { labelSelector })));
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
    }
    yield { clusters, children };
  }
}
