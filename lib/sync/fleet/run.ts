/**
 * A fleet sync as an invocation answers it, shared by `periodicSync` and `onOperatorConfigChange`: `syncFleet`
 * lists every kind once per namespace scope, diffs all clusters in memory and syncs only those that drifted,
 * failed, were marked `acid.zalan.do/sync-now`, or are being deleted, within the invocation's deadline; what is left
 * is picked up by the next run.
 */
import { describeFleetItem } from '../../plan/fleet-run';
import type { SyncContext } from '../context';
import { syncFleet, type FleetResult } from './sync-fleet';

/** A fleet run's summary, and whether the caller should be called again (HTTP 503). */
export interface FleetRunOutcome {
  result: Omit<FleetResult, 'items'> & { items: string[]; rollingUpdates: number };
  retryable: boolean;
}

/**
 * @param options.operatorNamespace where the cursor lives; `deadlineMs` the invocation's budget (the run keeps a
 *   margin inside it); `parallelism` clusters synced at once
 * @returns retryable when a namespace scope could not be listed (the API is unavailable) or rolling updates go on
 */
export async function runFleet(
  ctx: SyncContext,
  options: { operatorNamespace: string; deadlineMs: number; parallelism: number },
): Promise<FleetRunOutcome> {
  const result = await syncFleet(ctx, options);
  const items = result.items.map(describeFleetItem);
  // Rolling updates go one step per sync: asking to be called again carries them on (periodic sync would, later).
  const rolling = result.items.filter((i) => i.rollingUpdate).length;
  return { result: { ...result, items, rollingUpdates: rolling }, retryable: result.errors.length > 0 || rolling > 0 };
}
