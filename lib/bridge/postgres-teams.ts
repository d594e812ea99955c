/**
 * PostgresTeam objects in the bridge: a change re-syncs the roles of the clusters of the teams involved. The bridge
 * remembers every PostgresTeam's spec and every `postgresql` object's `teamId`; a change of a PostgresTeam names
 * teams (map keys and list entries, before and after the change), and every cluster whose team reaches one of them
 * (`teamChangeConcerns` in `lib/roles/postgres-teams.ts`) is delivered to `on-update` as an update of its
 * `postgresql` object, whose sync reads the teams again.
 *
 * Zalando's operator reloads its team map on such a change and lets each cluster pick it up at its next sync; this
 * bridge asks for that sync at once.
 *
 * Source: Zalando postgres-operator docs, user.md ("Additional teams and members per cluster"); the PostgresTeam
 * informer of its controller (add and update reload the map).
 */
import type { KubeObject } from '../k8s/client';
import type { ResourceAction } from '../registry/functions';
import { parsePostgresTeam, type PostgresTeamSpec } from '../model/postgres-team';
import { mergePostgresTeams, teamChangeConcerns, teamsNamed } from '../roles/postgres-teams';

/** The function a PostgresTeam change goes to, once per cluster it concerns. */
export const POSTGRES_TEAM_TARGET = 'on-update';

const keyOf = (object: KubeObject) => `${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`;

/** Remembers PostgresTeam specs and clusters' teams; answers which clusters a PostgresTeam change concerns. */
export class PostgresTeamTracker {
  private readonly specs = new Map<string, PostgresTeamSpec>();
  private readonly clusters = new Map<string, { teamId: string; object: KubeObject }>();

  /** Records a change of a `postgresql` object (its `spec.teamId`). */
  observeCluster(action: ResourceAction, object: KubeObject): void {
    const key = keyOf(object);
    if (action === 'delete') this.clusters.delete(key);
    else {
      const teamId = (object as { spec?: { teamId?: unknown } }).spec?.teamId;
      this.clusters.set(key, { teamId: typeof teamId === 'string' ? teamId : '', object });
    }
  }

  /**
   * Records a change of a PostgresTeam object.
   * @returns the `postgresql` objects (as last seen) whose roles may change, sorted by namespace/name; none when
   *   the spec did not change
   */
  observeTeam(action: ResourceAction, object: KubeObject): KubeObject[] {
    const key = keyOf(object);
    const before = this.specs.get(key);
    const parsed = parsePostgresTeam(object);
    const after = action === 'delete' || !parsed.ok ? undefined : parsed.team.spec;
    if (after) this.specs.set(key, after);
    else this.specs.delete(key);
    if (JSON.stringify(before) === JSON.stringify(after)) return [];
    const named = new Set([...teamsNamed(before), ...teamsNamed(after)]);
    const map = mergePostgresTeams([...this.specs.values()]);
    return [...this.clusters.entries()]
      .filter(([, { teamId }]) => teamChangeConcerns(teamId, map, named))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, { object }]) => object);
  }
}
