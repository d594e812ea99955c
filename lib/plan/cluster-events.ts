/**
 * The Events a cluster sync records, decided from what it did and what the status already says: one Event for the
 * child writes, and Warning Events only for refusals and manifest warnings that the stored status does not carry
 * yet (the status is the memory, so a warning is reported once, not on every sync).
 */
import type { Action } from './plan';
import type { Refusal } from './statefulset';

/** A write made to a child, as reported in a sync's result and its Event. */
export interface AppliedAction {
  change: Action['change'];
  kind: string;
  name: string;
  reason: string;
}

/** @returns the report of an action that was carried out */
export function appliedAction(action: Action): AppliedAction {
  return { change: action.change, kind: action.object.kind, name: action.object.metadata.name, reason: action.reason };
}

/** An Event to record about the cluster (its type is `Normal` unless said). */
export interface ClusterEvent {
  reason: string;
  message: string;
}

/**
 * One Event for the child writes of a sync: `Created` when it only created objects, else `Updated`; the message
 * names the objects created and the reasons of the updates and deletions (`Created Service a, Secret b. Updated
 * <reason>; <reason>. Deleted: <reason>`).
 * @returns the Event, or undefined when nothing was written
 */
export function childWritesEvent(actions: readonly AppliedAction[]): ClusterEvent | undefined {
  if (actions.length === 0) return undefined;
  const created = actions.filter((a) => a.change === 'created').map((a) => `${a.kind} ${a.name}`);
  const updated = actions.filter((a) => a.change === 'updated').map((a) => a.reason);
  const deleted = actions.filter((a) => a.change === 'deleted').map((a) => a.reason);
  const message = [
    created.length ? `Created ${created.join(', ')}` : '',
    updated.length ? `Updated ${updated.join('; ')}` : '',
    deleted.length ? `Deleted: ${deleted.join('; ')}` : '',
  ]
    .filter(Boolean)
    .join('. ');
  return { reason: created.length && !updated.length ? 'Created' : 'Updated', message };
}

/**
 * @param previous the warnings of the stored status
 * @returns the refusals not reported yet (each is a Warning Event with its own reason)
 */
export function newRefusals(refusals: readonly Refusal[], previous: ReadonlySet<string>): Refusal[] {
  return refusals.filter((r) => !previous.has(r.message));
}

/**
 * The manifest warnings (validation warnings and builder notes) are reported together in one Warning Event
 * `ManifestWarnings`, whenever one of them is new.
 * @param previous the warnings of the stored status
 * @returns the Event, or undefined when every warning was reported before (or there are none)
 */
export function manifestWarningsEvent(
  warnings: readonly string[],
  previous: ReadonlySet<string>,
): ClusterEvent | undefined {
  return warnings.some((w) => !previous.has(w))
    ? { reason: 'ManifestWarnings', message: warnings.join('; ') }
    : undefined;
}
