/**
 * The observed side of a cluster (its children as they are) and the desired side (what the manifest asks for),
 * shared by `syncCluster` (one cluster, read by label) and fleet sync (every cluster, from one list per kind).
 */
import { buildCluster, secretUsers, type DesiredObject } from '../../builders';
import { selectorLabels } from '../../builders/labels';
import { secretName } from '../../builders/names';
import type { KubeObject } from '../../k8s/client';
import type { Postgresql } from '../../model/postgresql';
import { objectKey, planChildren, withDesiredHash, type Action } from '../../plan/plan';
import { planStatefulSet, type StatefulSetChange } from '../../plan/statefulset';
import type { SyncContext } from '../context';

/** The kinds a cluster owns, listed by the cluster's selector labels. */
export const OWNED_KINDS = ['Endpoints', 'Service', 'Secret', 'PodDisruptionBudget', 'StatefulSet'] as const;

/** Observed children by `Kind/name`. */
export type ObservedChildren = Map<string, KubeObject>;

/** @returns a label selector string (`a=b,c=d`) for equality labels */
export const labelSelector = (labels: Record<string, string>) => Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',');

/**
 * Reads a cluster's children: one LIST per owned kind by the cluster's selector labels, one GET per shared object
 * (the pod ServiceAccount and RoleBinding, which are not labelled per cluster).
 */
export async function observeChildren(ctx: SyncContext, cluster: Postgresql, shared: DesiredObject[]): Promise<ObservedChildren> {
  const namespace = cluster.metadata.namespace!;
  const selector = labelSelector(selectorLabels(cluster, ctx.config));
  const observed: ObservedChildren = new Map();
  const lists = await Promise.all(OWNED_KINDS.map((kind) => ctx.client.list(kind, namespace, selector, ctx.signal)));
  lists.forEach((items, i) => items.forEach((item) => observed.set(`${OWNED_KINDS[i]}/${item.metadata?.name}`, item)));
  const sharedObjects = await Promise.all(shared.map((s) => ctx.client.get({ kind: s.kind, namespace, name: s.metadata.name }, ctx.signal)));
  sharedObjects.forEach((item, i) => { if (item) observed.set(objectKey(shared[i]!), item); });
  return observed;
}

/**
 * Passwords for every user with a Secret: the one in the existing Secret when there is one (looked up by name
 * when the label list missed it, e.g. after someone edited its labels), else a new derived one.
 * Adds Secrets found by name to `observed`.
 */
export async function passwordsFor(ctx: SyncContext, cluster: Postgresql, observed: ObservedChildren): Promise<Record<string, string>> {
  const passwords: Record<string, string> = {};
  for (const user of secretUsers(cluster, ctx.config).users) {
    const name = secretName(ctx.config, cluster.metadata.name, user);
    const secret = observed.get(`Secret/${name}`)
      ?? await ctx.client.get({ kind: 'Secret', namespace: cluster.metadata.namespace!, name }, ctx.signal);
    if (secret && !observed.has(`Secret/${name}`)) observed.set(`Secret/${name}`, secret);
    const existing = secret?.data?.password as string | undefined;
    passwords[user] = existing ? Buffer.from(existing, 'base64').toString('utf8') : ctx.newPassword(cluster.metadata.uid ?? '', user);
  }
  return passwords;
}

/** The desired children of a cluster and the actions that bring the observed ones there. */
export interface ClusterPlan {
  state: ReturnType<typeof buildCluster>;
  actions: Action[];
  /** how the StatefulSet change reaches the running cluster (see `lib/plan/statefulset.ts`) */
  statefulSet: StatefulSetChange;
}

/**
 * Builds the desired children (with the given passwords) and plans them against what was observed. The
 * StatefulSet is planned first (`planStatefulSet`): it gets its pod template hash, and refused changes (a smaller
 * volume) are reverted to what runs before the other actions are planned.
 * @param options.keepReplicas replicas to keep instead of the manifest's (a held scale-down)
 */
export function planCluster(ctx: SyncContext, cluster: Postgresql, observed: ObservedChildren, passwords: Record<string, string>,
  options: { keepReplicas?: number } = {}): ClusterPlan {
  const built = buildCluster(cluster, ctx.config, { passwords });
  let sts = built.objects.find((o) => o.kind === 'StatefulSet')!;
  // A held scale-down (see scale-down.ts) keeps the replicas that run.
  if (options.keepReplicas !== undefined) sts = { ...sts, spec: { ...(sts.spec as object), replicas: options.keepReplicas } };
  const statefulSet = planStatefulSet(sts, observed.get(objectKey(sts)), {
    lazySpiloUpgrade: ctx.config.enable_lazy_spilo_upgrade, fieldManager: ctx.client.fieldManager,
  });
  const state = { ...built, objects: built.objects.map((o) => (o.kind === 'StatefulSet' ? statefulSet.desired : o)) };
  return { state, actions: planChildren(state.objects.map(withDesiredHash), state.shared, observed), statefulSet };
}
