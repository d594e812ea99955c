/**
 * Syncs every cluster in the watched namespaces with bounded parallelism until the deadline, finalizing those
 * being deleted. Used until fleet sync (diff in memory, sync only what drifted) replaces it.
 */
import { watchedNamespaces } from '../../lib/model/config';
import { POSTGRESQL } from '../../lib/model/postgresql';
import type { SyncContext } from '../../lib/sync/sync-cluster';
import { syncOrFinalize } from './cluster';

/** What a fleet pass did. */
export interface FleetSummary {
  clusters: number;
  outcomes: Record<string, number>;
  /** clusters not reached before the deadline */
  left: number;
  retryable: number;
}

/**
 * @param operatorNamespace where the operator ConfigMap lives (the default watched namespace)
 * @param parallelism clusters synced at once
 */
export async function syncEveryCluster(ctx: SyncContext, operatorNamespace: string, parallelism = 4): Promise<FleetSummary> {
  const scope = watchedNamespaces(ctx.config, operatorNamespace);
  const lists = scope === '*'
    ? [await ctx.client.list(POSTGRESQL.kind, undefined, undefined, ctx.signal)]
    : await Promise.all(scope.map((ns) => ctx.client.list(POSTGRESQL.kind, ns, undefined, ctx.signal)));
  const queue = lists.flat().map((o) => ({ namespace: o.metadata!.namespace as string, name: o.metadata!.name as string }));
  const summary: FleetSummary = { clusters: queue.length, outcomes: {}, left: 0, retryable: 0 };
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      if (ctx.signal?.aborted) { summary.left += 1; continue; }
      const outcome = await syncOrFinalize(ctx, next.namespace, next.name);
      const name = (outcome.result as { outcome: string }).outcome;
      summary.outcomes[name] = (summary.outcomes[name] ?? 0) + 1;
      if (outcome.retryable) summary.retryable += 1;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, parallelism) }, worker));
  return summary;
}
