/**
 * The observed side of a cluster: its children as they are, read by label (fleet sync lists the same kinds for
 * every cluster at once, see `fleet/inventory.ts`), and the passwords already in its Secrets. Reads only.
 * The desired side and the plan are `lib/plan/cluster.ts`.
 */
import type { V1Secret, V1StatefulSet } from '@kubernetes/client-node';
import { secretUsers } from '../../builders';
import { childrenSelector, selectorLabels } from '../../builders/labels';
import { secretName } from '../../builders/names';
import { buildPodServiceAccount } from '../../builders/service-account';
import type { KubeObject, ObjectRef } from '../../k8s/client';
import type { Postgresql } from '../../model/postgresql';
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
 * Reads everything the plan of a cluster needs: its children (`observeChildren`, or the read a caller started
 * earlier) and the passwords of its Secrets (`passwordsFor`).
 * @param children the children read, when the caller started it (`syncCluster` reads them beside the object)
 * @returns the observation; throws KubeApiError when a read fails
 */
export async function observeCluster(
  ctx: SyncContext,
  cluster: NamespacedPostgresql,
  children?: Promise<ObservedChildren>,
): Promise<Observation> {
  const observed = await (children ?? observeChildren(ctx, cluster.metadata.namespace, cluster.metadata.name));
  return { children: observed, passwords: await passwordsFor(ctx, cluster, observed) };
}

/**
 * Reads a cluster's children, all at once: one LIST per owned kind by the cluster's selector labels, one GET per
 * shared object (the pod ServiceAccount and RoleBinding, which are not labelled per cluster), and the StatefulSet
 * by name, for when the labels miss it (its labels were edited, or `cluster_labels` changed: applying over it
 * without knowing it would hit the fields Kubernetes refuses to change). Needs only the cluster's name, so it can
 * run beside the read of the `postgresql` object.
 * @param alsoByName more objects to read by name at the same time (a new cluster's Secrets, whose names its first
 *   sync knows from the event's object: `secretRefs`)
 * @returns the children by `Kind/name`; throws KubeApiError when a read fails
 */
export async function observeChildren(
  ctx: SyncContext,
  namespace: string,
  name: string,
  alsoByName: ObjectRef[] = [],
): Promise<ObservedChildren> {
  const selector = childrenSelector(ctx.config, name);
  const byName: ObjectRef[] = [
    ...buildPodServiceAccount(ctx.config, namespace).map((s) => ({ kind: s.kind, namespace, name: s.metadata.name })),
    { kind: 'StatefulSet', namespace, name },
    ...alsoByName,
  ];
  const [lists, named] = await Promise.all([
    Promise.all(
      OWNED_KINDS.map(async (kind) => ({ kind, items: await ctx.client.list(kind, namespace, selector, ctx.signal) })),
    ),
    Promise.all(byName.map(async (ref) => ({ ref, live: await ctx.client.get(ref, ctx.signal) }))),
  ]);
  const observed: ObservedChildren = new Map();
  for (const { kind, items } of lists) for (const item of items) observed.set(`${kind}/${item.metadata?.name}`, item);
  for (const { ref, live } of named) if (live) observed.set(`${ref.kind}/${ref.name}`, live);
  return observed;
}

/**
 * What the first sync of a new cluster assumes without reading (`create-children.ts`): no children, and each user's
 * derived password (`passwords.ts`), the one any sync of this cluster writes into a Secret that does not exist yet.
 * The writes made from it create only what is missing, so an object that does exist is never overwritten.
 */
export function newClusterObservation(ctx: SyncContext, cluster: NamespacedPostgresql): Observation {
  const passwords: Record<string, string> = {};
  for (const { user } of userSecrets(ctx, cluster)) passwords[user] = ctx.newPassword(cluster.metadata.uid ?? '', user);
  return { children: new Map(), passwords };
}

/** @returns each user with a Secret, and that Secret by name */
function userSecrets(ctx: SyncContext, cluster: NamespacedPostgresql): Array<{ user: string; ref: ObjectRef }> {
  const { namespace, name } = cluster.metadata;
  return secretUsers(cluster, ctx.config).users.map((user) => ({
    user,
    ref: { kind: 'Secret', namespace, name: secretName(ctx.config, name, user) },
  }));
}

/** @returns the Secrets of the cluster's users with a Secret, by name */
export function secretRefs(ctx: SyncContext, cluster: NamespacedPostgresql): ObjectRef[] {
  return userSecrets(ctx, cluster).map((s) => s.ref);
}

/**
 * Passwords for every user with a Secret: the one in the existing Secret when there is one (looked up by name, all
 * at once, when the label list missed it, e.g. after someone edited its labels, or on a cluster's first sync),
 * else a new derived one. Adds Secrets found by name to `observed`.
 */
async function passwordsFor(
  ctx: SyncContext,
  cluster: NamespacedPostgresql,
  observed: ObservedChildren,
): Promise<Record<string, string>> {
  const secrets = await Promise.all(
    userSecrets(ctx, cluster).map(async ({ user, ref }) => {
      const key = `Secret/${ref.name}`;
      const listed: V1Secret | undefined = observed.get(key);
      const secret = listed ?? (await ctx.client.get<V1Secret>(ref, ctx.signal));
      return { user, key, secret, found: secret !== undefined && !listed };
    }),
  );
  const passwords: Record<string, string> = {};
  for (const { user, key, secret, found } of secrets) {
    if (found) observed.set(key, secret!);
    const existing = secret?.data?.password;
    passwords[user] = existing
      ? Buffer.from(existing, 'base64').toString('utf8')
      : ctx.newPassword(cluster.metadata.uid ?? '', user);
  }
  return passwords;
}
