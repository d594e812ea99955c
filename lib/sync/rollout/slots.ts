/**
 * Fleet-wide rollout slots: at most `rollout_clusters_at_once` clusters run disruptive rolling-update steps
 * (recreating pods, switching masters over) at the same time, and a slot freed by one cluster is taken by the next
 * only after `rollout_cluster_delay`. A change of `docker_image` in the operator ConfigMap thus rolls the fleet
 * at a bounded rate, with no process that coordinates it: every invocation takes or keeps its cluster's slot.
 *
 * Slots are Leases `postgres-operator-rollout-<i>` (i < `rollout_clusters_at_once`) in the operator namespace,
 * labelled so one LIST reads them all. A held slot has `holderIdentity` `<namespace>/<cluster>` and is renewed by
 * the holder's calls; `leaseDurationSeconds` is 600, so a rollout that stalls (its cluster deleted, the functions
 * gone) frees its slot after 10 minutes. A released slot has no holder and `renewTime` = the release time, from
 * which the delay counts. Every change of an existing slot is a JSON patch that first tests the `resourceVersion`
 * that was read, and a missing slot is created, so two takers never both win one slot.
 *
 * Not Zalando's: its single operator process rolls one cluster at a time. Source: Kubernetes API reference,
 * coordination.k8s.io/v1 Lease (holderIdentity, leaseDurationSeconds, acquireTime, renewTime, leaseTransitions;
 * MicroTime); JSON Patch (RFC 6902) `test`; see also `lease.ts`.
 */
import type { V1Lease } from '@kubernetes/client-node';
import { isStatus } from '../../k8s/errors';
import { nameOf, resourceVersionOf } from '../../k8s/meta';
import {
  chooseRolloutSlot,
  ROLLOUT_SLOT_DURATION_SECONDS,
  type SlotChoice,
  type SlotSpec,
  type SlotState,
} from '../../plan/rollout-slot';
import { microTime } from '../../k8s/lease';
import type { SyncContext } from '../context';

/** Name prefix of the slot Leases; slot i is `postgres-operator-rollout-<i>`. */
export const ROLLOUT_SLOT_PREFIX = 'postgres-operator-rollout-';

/** Labels of the slot Leases (and the selector that lists them). */
export const ROLLOUT_SLOT_LABELS: Readonly<Record<string, string>> = {
  'app.kubernetes.io/managed-by': 'postgres-operator-functions',
  'app.kubernetes.io/component': 'rollout-slot',
};

const SELECTOR = Object.entries(ROLLOUT_SLOT_LABELS)
  .map(([k, v]) => `${k}=${v}`)
  .join(',');

/** A cluster, by namespace and name. */
export interface ClusterRef {
  namespace: string;
  name: string;
}

/** The answer of {@link takeRolloutSlot}: the slot (Lease name, or `unlimited`), or why none is free. */
export type SlotGrant = { granted: true; slot: string } | { granted: false; reason: string };

/** A slot Lease as read: the JSON of its spec carries the times in RFC 3339 strings (client-node's model says Date). */
type SlotLease = Omit<V1Lease, 'spec'> & { spec?: SlotSpec };

interface Slot extends SlotState {
  lease: SlotLease;
}

/** @returns the holder identity of a cluster: `<namespace>/<name>` */
export const slotHolder = (cluster: ClusterRef) => `${cluster.namespace}/${cluster.name}`;

/** @returns the slot Lease name of index i */
export const slotName = (index: number) => `${ROLLOUT_SLOT_PREFIX}${index}`;

/** @returns the slot Leases in the operator namespace, by index (one LIST) */
async function readSlots(ctx: SyncContext, namespace: string): Promise<Slot[]> {
  const leases = await ctx.client.list<SlotLease>('Lease', namespace, SELECTOR, ctx.signal);
  const slots: Slot[] = [];
  for (const lease of leases) {
    const name = nameOf(lease);
    const index = Number(name.slice(ROLLOUT_SLOT_PREFIX.length));
    if (!name.startsWith(ROLLOUT_SLOT_PREFIX) || !Number.isInteger(index) || index < 0) continue;
    slots.push({ index, lease, spec: lease.spec ?? {} });
  }
  return slots.sort((a, b) => a.index - b.index);
}

/** A JSON patch of a slot that first tests its resourceVersion. @returns false on a conflict (someone else wrote it) */
async function patchSlot(ctx: SyncContext, slot: Slot, operations: unknown[]): Promise<boolean> {
  try {
    await ctx.client.jsonPatch(
      { kind: 'Lease', namespace: slot.lease.metadata?.namespace, name: nameOf(slot.lease) },
      [{ op: 'test', path: '/metadata/resourceVersion', value: resourceVersionOf(slot.lease) }, ...operations],
      ctx.signal,
    );
    return true;
  } catch (error) {
    if (isStatus(error, 422) || isStatus(error, 409) || isStatus(error, 404)) return false;
    throw error;
  }
}

/** The slots as read and what this cluster may do with them. */
async function choose(
  ctx: SyncContext,
  namespace: string,
  holder: string,
): Promise<{ slots: Slot[]; choice: SlotChoice }> {
  const slots = await readSlots(ctx, namespace);
  const choice = chooseRolloutSlot(
    slots,
    holder,
    ctx.config.rollout_clusters_at_once,
    ctx.config.rollout_cluster_delay,
    ctx.now().getTime(),
  );
  return { slots, choice };
}

/**
 * Takes (or keeps) a rollout slot for a cluster before a disruptive rolling-update step.
 *
 * - No `ctx.operatorNamespace` (direct library use): granted, slot `unlimited`, no request.
 * - One LIST of the slot Leases, then at most one write, as {@link chooseRolloutSlot} decides: a held slot is kept
 *   (its `renewTime` patched only when due, so repeated calls make no write); a free one is taken (a missing slot
 *   Lease is created); otherwise not granted, saying why, e.g.
 *   `2 clusters are rolling out (rollout_clusters_at_once=2): ns/a, ns/b` or
 *   `next slot free in 25 s (rollout_cluster_delay)`;
 *   a conflict (another taker wrote the slot first): not granted, to be tried again on the next call.
 *
 * Time is `ctx.now()`.
 * @throws KubeApiError for API failures other than conflicts (the caller reports them)
 */
export async function takeRolloutSlot(ctx: SyncContext, cluster: ClusterRef): Promise<SlotGrant> {
  const namespace = ctx.operatorNamespace;
  if (!namespace) return { granted: true, slot: 'unlimited' };
  const holder = slotHolder(cluster);
  const time = microTime(ctx.now());
  const { slots, choice } = await choose(ctx, namespace, holder);
  switch (choice.kind) {
    case 'none':
      return { granted: false, reason: choice.reason };
    case 'mine': {
      const slot = slotName(choice.index);
      if (!choice.renew) return { granted: true, slot };
      return (await renew(
        ctx,
        slots.find((s) => s.index === choice.index)!,
        time,
      ))
        ? { granted: true, slot }
        : { granted: false, reason: `the rollout slot ${slot} was written by another invocation meanwhile` };
    }
    default: {
      if (!choice.exists) return createSlot(ctx, namespace, choice.index, holder, time);
      const slot = slots.find((s) => s.index === choice.index)!;
      const taken = await patchSlot(ctx, slot, [
        {
          op: 'add',
          path: '/spec',
          value: {
            holderIdentity: holder,
            leaseDurationSeconds: ROLLOUT_SLOT_DURATION_SECONDS,
            acquireTime: time,
            renewTime: time,
            leaseTransitions: (slot.spec.leaseTransitions ?? 0) + 1,
          },
        },
      ]);
      return taken
        ? { granted: true, slot: slotName(choice.index) }
        : {
            granted: false,
            reason: `the rollout slot ${slotName(choice.index)} was taken by another cluster meanwhile`,
          };
    }
  }
}

const renew = (ctx: SyncContext, slot: Slot, time: string) =>
  patchSlot(ctx, slot, [
    { op: 'add', path: '/spec/renewTime', value: time },
    { op: 'add', path: '/spec/leaseDurationSeconds', value: ROLLOUT_SLOT_DURATION_SECONDS },
  ]);

/**
 * Whether {@link takeRolloutSlot} would grant a slot now, without taking one: one LIST, no write. A cluster waiting
 * for a slot asks this before reading Patroni, so a fleet waiting in line costs one read per cluster and call.
 * @returns the grant it would make (`slot` names the slot it holds or would take), or why not
 * @throws KubeApiError when the Leases cannot be listed
 */
export async function peekRolloutSlot(ctx: SyncContext, cluster: ClusterRef): Promise<SlotGrant> {
  const namespace = ctx.operatorNamespace;
  if (!namespace) return { granted: true, slot: 'unlimited' };
  const { choice } = await choose(ctx, namespace, slotHolder(cluster));
  return choice.kind === 'none'
    ? { granted: false, reason: choice.reason }
    : { granted: true, slot: slotName(choice.index) };
}

/**
 * Renews the slot a cluster holds when a third of its duration has passed, so a rollout step that takes long (a
 * replica catching up after its pod was recreated) keeps its slot; takes none. One LIST; a write only when due.
 * @returns whether the cluster holds a slot
 * @throws KubeApiError for API failures other than conflicts
 */
export async function keepRolloutSlot(ctx: SyncContext, cluster: ClusterRef): Promise<boolean> {
  const namespace = ctx.operatorNamespace;
  if (!namespace) return false;
  const { slots, choice } = await choose(ctx, namespace, slotHolder(cluster));
  if (choice.kind !== 'mine') return false;
  if (choice.renew)
    await renew(
      ctx,
      slots.find((s) => s.index === choice.index)!,
      microTime(ctx.now()),
    );
  return true;
}

async function createSlot(
  ctx: SyncContext,
  namespace: string,
  index: number,
  holder: string,
  time: string,
): Promise<SlotGrant> {
  try {
    await ctx.client.create(
      {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: slotName(index), namespace, labels: { ...ROLLOUT_SLOT_LABELS } },
        spec: {
          holderIdentity: holder,
          leaseDurationSeconds: ROLLOUT_SLOT_DURATION_SECONDS,
          acquireTime: time,
          renewTime: time,
          leaseTransitions: 0,
        },
      },
      ctx.signal,
    );
    return { granted: true, slot: slotName(index) };
  } catch (error) {
    if (isStatus(error, 409))
      return { granted: false, reason: `the rollout slot ${slotName(index)} was created by another cluster meanwhile` };
    throw error;
  }
}

/**
 * Frees the slot a cluster holds once its rollout is done: clears `holderIdentity` and sets `renewTime` to now,
 * from which `rollout_cluster_delay` counts. One LIST; no write when the cluster holds no slot (or without
 * `ctx.operatorNamespace`).
 * @returns whether a slot was released (false also when another invocation wrote it first: then it is not ours)
 * @throws KubeApiError for API failures other than conflicts
 */
export async function releaseRolloutSlot(ctx: SyncContext, cluster: ClusterRef): Promise<boolean> {
  const namespace = ctx.operatorNamespace;
  if (!namespace) return false;
  const holder = slotHolder(cluster);
  const mine = (await readSlots(ctx, namespace)).filter((s) => s.spec.holderIdentity === holder);
  let released = false;
  for (const slot of mine) {
    const ok = await patchSlot(ctx, slot, [
      { op: 'remove', path: '/spec/holderIdentity' },
      { op: 'add', path: '/spec/renewTime', value: microTime(ctx.now()) },
    ]);
    released ||= ok;
  }
  return released;
}
