/**
 * The observed side of a cluster: its children as they are, read by label (fleet sync lists the same kinds for
 * every cluster at once, see `fleet/inventory.ts`), and the passwords already in its Secrets. Reads only.
 * The desired side and the plan are `lib/plan/cluster.ts`.
 */
import type { V1Secret, V1StatefulSet } from '@kubernetes/client-node';
import { secretUsers, type DesiredObject } from '../../builders';
import { childrenSelector, selectorLabels } from '../../builders/labels';
import { secretName } from '../../builders/names';
import { buildPodServiceAccount } from '../../builders/service-account';
import type { KubeObject } from '../../k8s/client';
import type { Postgresql } from '../../model/postgresql';
import { objectKey } from '../../plan/plan';
import type { SyncContext } from '../context';

/** The kinds a cluster owns, listed by the cluster's selector labels (the pooler's included: `childrenSelector`). */
export const OWNED_KINDS = [
  'Endpoints',
  'Service',
  'Secret',
  'PodDisruptionBudget',
  'StatefulSet',
  'Deployment',
  'CronJob',
] as const;

/** Observed children by `Kind/name`. */
export type ObservedChildren = Map<string, KubeObject>;

/** A validated cluster with the namespace it was read from (a sync always knows it). */
export type NamespacedPostgresql = Postgresql & { metadata: { namespace: string } };

/**
 * @param statefulSet the live StatefulSet, if any
 * @returns the labels that select the cluster's pods: the live StatefulSet's selector (the pods it runs), else the
 *   cluster's selector labels (what a new StatefulSet gets)
 */
export function podSelector(
  ctx: SyncContext,
  cluster: Postgresql,
  statefulSet: V1StatefulSet | undefined,
): Record<string, string> {
  return statefulSet?.spec?.selector?.matchLabels ?? selectorLabels(cluster, ctx.config);
}

/** What a sync reads of a cluster before it plans. */
export interface Observation {
  /** the children, by `Kind/name`, shared objects included; the sync adds what it writes */
  children: ObservedChildren;
  /** username -> password for every user with a Secret (existing ones, or new derived ones) */
  passwords: Record<string, string>;
}

/**
 * Reads everything the plan of a cluster needs: its children (`observeChildren`), its StatefulSet by name when the
 * labels missed it, and the passwords of its Secrets (`passwordsFor`).
 * @returns the observation; throws KubeApiError when a read fails
 */
export async function observeCluster(ctx: SyncContext, cluster: NamespacedPostgresql): Promise<Observation> {
  const children = await observeChildren(ctx, cluster, buildPodServiceAccount(ctx.config, cluster.metadata.namespace));
  await findStatefulSetByName(ctx, cluster, children);
  return { children, passwords: await passwordsFor(ctx, cluster, children) };
}

/**
 * Reads a cluster's children: one LIST per owned kind by the cluster's selector labels, one GET per shared object
 * (the pod ServiceAccount and RoleBinding, which are not labelled per cluster).
 */
async function observeChildren(
  ctx: SyncContext,
  cluster: NamespacedPostgresql,
  shared: DesiredObject[],
): Promise<ObservedChildren> {
  const namespace = cluster.metadata.namespace;
  const selector = childrenSelector(ctx.config, cluster.metadata.name);
  const observed: ObservedChildren = new Map();
  const lists = await Promise.all(
    OWNED_KINDS.map(async (kind) => ({ kind, items: await ctx.client.list(kind, namespace, selector, ctx.signal) })),
  );
  for (const { kind, items } of lists) for (const item of items) observed.set(`${kind}/${item.metadata?.name}`, item);
  const sharedObjects = await Promise.all(
    shared.map(async (s) => ({
      key: objectKey(s),
      live: await ctx.client.get({ kind: s.kind, namespace, name: s.metadata.name }, ctx.signal),
    })),
  );
  for (const { key, live } of sharedObjects) if (live) observed.set(key, live);
  return observed;
}

/**
 * The StatefulSet is looked up by name when the label list missed it (its labels were edited, or `cluster_labels`
 * changed): applying over it without knowing it would hit the fields Kubernetes refuses to change.
 */
async function findStatefulSetByName(
  ctx: SyncContext,
  cluster: NamespacedPostgresql,
  observed: ObservedChildren,
): Promise<void> {
  const key = `StatefulSet/${cluster.metadata.name}`;
  if (observed.has(key)) return;
  const found = await ctx.client.get<V1StatefulSet>(
    { kind: 'StatefulSet', namespace: cluster.metadata.namespace, name: cluster.metadata.name },
    ctx.signal,
  );
  if (found) observed.set(key, found);
}

/**
 * Passwords for every user with a Secret: the one in the existing Secret when there is one (looked up by name
 * when the label list missed it, e.g. after someone edited its labels), else a new derived one.
 * Adds Secrets found by name to `observed`.
 */
async function passwordsFor(
  ctx: SyncContext,
  cluster: NamespacedPostgresql,
  observed: ObservedChildren,
): Promise<Record<string, string>> {
  const passwords: Record<string, string> = {};
  for (const user of secretUsers(cluster, ctx.config).users) {
    const name = secretName(ctx.config, cluster.metadata.name, user);
    const listed: V1Secret | undefined = observed.get(`Secret/${name}`);
    const secret =
      listed ??
      (await ctx.client.get<V1Secret>({ kind: 'Secret', namespace: cluster.metadata.namespace, name }, ctx.signal));
    if (secret && !listed) observed.set(`Secret/${name}`, secret);
    const existing = secret?.data?.password;
    passwords[user] = existing
      ? Buffer.from(existing, 'base64').toString('utf8')
      : ctx.newPassword(cluster.metadata.uid ?? '', user);
  }
  return passwords;
}
