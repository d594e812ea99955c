/**
 * onUpdate: a `postgresql` object changed. Syncs it, or finalizes it once deletionTimestamp is set. A sync honours
 * and removes the `acid.zalan.do/sync-now` annotation (see lib/sync/sync-now.ts). A PostgresTeam object (the knative
 * target sends its changes here) syncs the clusters of the teams it names.
 */
import { invalidConfigOutcome } from '../outcomes/config';
import { clusterLeasePrefetch, syncOrFinalize } from '../outcomes/cluster';
import { POSTGRES_TEAM, postgresTeamOutcome } from '../outcomes/postgres-team';
import { defineHandler, eventKey } from '../../lib/runtime/handler';

export const onUpdate = defineHandler(
  'onUpdate',
  async ({ event, operator, prefetched, env }) => {
    const key = eventKey(event);
    if (!key)
      return { result: undefined, invalid: 'the event names no postgresql object (namespace and name are required)' };
    if (!operator.ok) return invalidConfigOutcome(operator);
    // A PostgresTeam changed (the knative target's ApiServerSource): sync the clusters of the teams it names.
    if (event.object?.kind === POSTGRES_TEAM.kind) return postgresTeamOutcome(operator.ctx, event.object, env);
    return syncOrFinalize(operator.ctx, key.namespace, key.name, event.readinessWatched, { leaseRead: prefetched });
  },
  { prefetch: clusterLeasePrefetch },
);
