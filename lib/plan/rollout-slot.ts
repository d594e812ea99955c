/**
 * Which fleet-wide rollout slot a cluster may use, decided from the slot Leases as read (`lib/sync/rollout/slots.ts`
 * reads and writes them). Pure: the Leases and the time come in as data.
 *
 * A held slot has a `holderIdentity` and expires `leaseDurationSeconds` after its `renewTime`; a released slot has
 * no holder and its `renewTime` is the release time. Slot i is the Lease `postgres-operator-rollout-<i>`.
 *
 * Source: Kubernetes API reference, coordination.k8s.io/v1 Lease (holderIdentity, leaseDurationSeconds, renewTime).
 */

/** Seconds a slot stays held without renewal. */
export const ROLLOUT_SLOT_DURATION_SECONDS = 600;

/** The fields of a slot Lease's `spec` read here. */
export interface SlotSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

/** One slot Lease as read: its index (from its name) and its spec. */
export interface SlotState {
  index: number;
  spec: SlotSpec;
}

/** What the cluster may do. */
export type SlotChoice =
  /** it holds slot `index`; `renew` when a third of the duration has passed since the last renewal (or it expired) */
  | { kind: 'mine'; index: number; renew: boolean }
  /** slot `index` is free for it: take it (`exists` false: create the Lease) */
  | { kind: 'free'; index: number; exists: boolean }
  /** no slot for it now, and why */
  | { kind: 'none'; reason: string };

const timeOf = (text: string | undefined) => (text ? Date.parse(text) : 0);

/** @returns epoch ms until which the slot's holder keeps it (renewTime + leaseDurationSeconds) */
const expiry = (spec: SlotSpec) =>
  timeOf(spec.renewTime) + (spec.leaseDurationSeconds ?? ROLLOUT_SLOT_DURATION_SECONDS) * 1000;

/**
 * Decides the slot of `holder`:
 * - a slot it holds is its own (an expired one too, as long as nobody took it); renew it when a third of the
 *   duration has passed since the last renewal, so repeated calls make no write;
 * - when `atOnce` holders have unexpired slots (slots beyond a lowered `atOnce` count): none, naming the holders;
 * - else the lowest free index below `atOnce` whose release time (the `renewTime` of a released slot, the expiry of
 *   an abandoned one) plus `delayMs` is past; a missing Lease is free at once;
 * - when every free slot is still in its delay: none, saying when the next is free.
 * @param slots the slot Leases, any order
 * @param atOnce `rollout_clusters_at_once` (values below 1 count as 1)
 * @param delayMs `rollout_cluster_delay`
 * @param now epoch ms
 */
export function chooseRolloutSlot(
  slots: readonly SlotState[],
  holder: string,
  atOnce: number,
  delayMs: number,
  now: number,
): SlotChoice {
  const limit = Math.max(1, atOnce);
  const mine = slots.find((s) => s.spec.holderIdentity === holder);
  if (mine) {
    const fresh =
      now < expiry(mine.spec) && now - timeOf(mine.spec.renewTime) < (ROLLOUT_SLOT_DURATION_SECONDS * 1000) / 3;
    return { kind: 'mine', index: mine.index, renew: !fresh };
  }
  const held = slots.filter((s) => s.spec.holderIdentity && now < expiry(s.spec)).sort((a, b) => a.index - b.index);
  if (held.length >= limit) {
    const holders = held.map((s) => s.spec.holderIdentity).join(', ');
    return {
      kind: 'none',
      reason: `${held.length} clusters are rolling out (rollout_clusters_at_once=${limit}): ${holders}`,
    };
  }
  const byIndex = new Map(slots.map((s) => [s.index, s]));
  let nextFree = Infinity;
  for (let index = 0; index < limit; index++) {
    const slot = byIndex.get(index);
    if (!slot) return { kind: 'free', index, exists: false };
    if (slot.spec.holderIdentity && now < expiry(slot.spec)) continue;
    const releasedAt = slot.spec.holderIdentity ? expiry(slot.spec) : timeOf(slot.spec.renewTime);
    const freeAt = releasedAt + delayMs;
    if (freeAt <= now) return { kind: 'free', index, exists: true };
    nextFree = Math.min(nextFree, freeAt);
  }
  // Reached only when every free slot is in its delay (held slots beyond a lowered setting were counted above).
  return { kind: 'none', reason: `next slot free in ${Math.ceil((nextFree - now) / 1000)} s (rollout_cluster_delay)` };
}
