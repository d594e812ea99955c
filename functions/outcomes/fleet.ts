/**
 * Fleet sync as a function outcome, shared by periodicSync and onOperatorConfigChange (`lib/sync/fleet/run.ts`).
 */
import type { SyncContext } from '../../lib/sync/context';
import { runFleet } from '../../lib/sync/fleet/run';
import { configLocation } from '../../lib/sync/operator/config';
import type { Outcome } from '../../lib/runtime/handler';

/**
 * @param env `OPERATOR_NAMESPACE`, `CONFIG_MAP_NAME` (where the cursor lives), `SYNC_PARALLELISM` (default 4)
 * @param deadlineMs the invocation's budget; the fleet run keeps a margin inside it
 * @returns 503 when a namespace scope could not be listed (the API is unavailable) or rolling updates go on
 */
export function fleetOutcome(
  ctx: SyncContext,
  env: Record<string, string | undefined>,
  deadlineMs: number,
): Promise<Outcome> {
  return runFleet(ctx, {
    operatorNamespace: configLocation(env).namespace,
    deadlineMs,
    parallelism: Number(env.SYNC_PARALLELISM ?? 4),
  });
}
