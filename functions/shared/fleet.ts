/**
 * Fleet sync as a function outcome, shared by periodicSync and onOperatorConfigChange: `syncFleet` lists every
 * kind once per namespace scope, diffs all clusters in memory and syncs only those that drifted, failed, were
 * marked `acid.zalan.do/sync-now`, or are being deleted, within the invocation's deadline; what is left is picked up
 * by the next run.
 */
import { configLocation } from '../../lib/sync/operator-config';
import type { SyncContext } from '../../lib/sync/sync-cluster';
import { syncFleet } from '../../lib/sync/sync-fleet';
import type { Outcome } from './handler';

/**
 * @param env `OPERATOR_NAMESPACE`, `CONFIG_MAP_NAME` (where the cursor lives), `SYNC_PARALLELISM` (default 4)
 * @param deadlineMs the invocation's budget; the fleet run keeps a margin inside it
 * @returns 503 when a namespace scope could not be listed (the API is unavailable) or rolling updates go on
 */
export async function fleetOutcome(ctx: SyncContext, env: Record<string, string | undefined>, deadlineMs: number): Promise<Outcome> {
  const result = await syncFleet(ctx, {
    operatorNamespace: configLocation(env).namespace, deadlineMs, parallelism: Number(env.SYNC_PARALLELISM ?? 4),
  });
  const summary = { ...result, items: result.items.map((i) => `${i.cluster}: ${i.action} (${i.why}) -> ${i.outcome}`
    + (i.rollingUpdate ? ` (${i.rollingUpdate})` : '')) };
  // Rolling updates go one step per sync: asking to be called again carries them on (periodic sync would, later).
  const rolling = result.items.filter((i) => i.rollingUpdate).length;
  return { result: { ...summary, rollingUpdates: rolling }, retryable: result.errors.length > 0 || rolling > 0 };
}
