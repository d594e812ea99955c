/**
 * A PostgresTeam object changed (an event from a Knative ApiServerSource, delivered to `on-update`): sync every
 * cluster in the watched namespaces whose roles it may change (`teamChangeConcerns`), one after the other. The
 * bridge does the same choice itself and delivers one update per cluster (`lib/bridge/postgres-teams.ts`).
 *
 * An update event carries only the new object: teams it no longer names are not known here, so a cluster that
 * only such a team reached waits for its next sync. Its own team being named (the usual case: a map key) is enough.
 *
 * Source: Zalando postgres-operator docs, user.md ("Additional teams and members per cluster").
 */
import type { KubeObject } from '../../k8s/client';
import { watchedNamespaces } from '../../model/config';
import { parsePostgresTeam } from '../../model/postgres-team';
import { teamChangeConcerns, teamsNamed } from '../../roles/postgres-teams';
import { syncCluster, type SyncResult } from '../cluster/sync-cluster';
import type { SyncContext } from '../context';
import { readPostgresTeams } from '../roles/teams';

/** What a PostgresTeam change did: the clusters synced, each with its result. */
export interface TeamChangeResult {
  /** why nothing was synced, when nothing was */
  skipped?: string;
  clusters: Array<{ namespace: string; name: string; result: SyncResult }>;
}

/**
 * @param object the PostgresTeam as the event carried it
 * @returns the clusters synced; throws KubeApiError when the PostgresTeams or clusters cannot be listed
 */
export async function syncClustersOfPostgresTeam(
  ctx: SyncContext,
  object: KubeObject,
  operatorNamespace: string,
): Promise<TeamChangeResult> {
  if (!ctx.config.enable_postgres_team_crd) return { skipped: 'enable_postgres_team_crd is off', clusters: [] };
  const parsed = parsePostgresTeam(object);
  if (!parsed.ok) return { skipped: `PostgresTeam ${parsed.name}: ${parsed.problem}`, clusters: [] };
  const named = new Set(teamsNamed(parsed.team.spec));
  const { map } = await readPostgresTeams(ctx, operatorNamespace);
  const watched = watchedNamespaces(ctx.config, operatorNamespace);
  const lists = await Promise.all(
    (watched === '*' ? [undefined] : watched).map((namespace) =>
      ctx.client.list('postgresql', namespace, undefined, ctx.signal),
    ),
  );
  const clusters: TeamChangeResult['clusters'] = [];
  for (const cluster of lists.flat()) {
    const teamId = (cluster as { spec?: { teamId?: unknown } }).spec?.teamId;
    const { namespace, name } = cluster.metadata ?? {};
    if (!namespace || !name || typeof teamId !== 'string' || !teamChangeConcerns(teamId, map, named)) continue;
    clusters.push({ namespace, name, result: await syncCluster(ctx, namespace, name) });
  }
  return clusters.length ? { clusters } : { skipped: 'no cluster of the teams it names', clusters };
}
