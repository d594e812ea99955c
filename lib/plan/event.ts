/**
 * An Event a plan asks for: the sync records it about the cluster (`ctx.events`), with the same shape as
 * `StepEvent` in `lib/sync/context.ts`. Pure layers cannot import the Event recorder, so the shape is stated here.
 *
 * Source: Kubernetes API reference, core/v1 Event (`type` Normal or Warning, `reason`, `message`).
 */

/** One Event to record: `type` Normal or Warning, a CamelCase `reason`, a sentence as `message`. */
export interface PlannedEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}
