/**
 * A PostgresTeam change as a function outcome: the clusters it concerns synced (see
 * lib/sync/teams/team-change.ts); 503 when one of them asks to be tried again.
 */
import type { KubeObject } from '../../lib/k8s/client';
import type { Outcome } from '../../lib/runtime/handler';
import type { SyncContext } from '../../lib/sync/context';
import { syncClustersOfPostgresTeam } from '../../lib/sync/teams/team-change';

/** The kind of the objects handled here. */
export { POSTGRES_TEAM } from '../../lib/model/postgres-team';

/** @returns the outcome of syncing the clusters of the teams a PostgresTeam names */
export async function postgresTeamOutcome(
  ctx: SyncContext,
  object: KubeObject,
  env: Record<string, string | undefined>,
): Promise<Outcome> {
  const result = await syncClustersOfPostgresTeam(ctx, object, env.OPERATOR_NAMESPACE || 'default');
  return { result, retryable: result.clusters.some((c) => c.result.retryable === true) };
}
