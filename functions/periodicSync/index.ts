/**
 * periodicSync: started by a schedule (Kubeless CronJobTrigger, Knative PingSource, the bridge's cron or a
 * CronJob). Syncs every cluster in the watched namespaces, which repairs anything an event missed. The body of the
 * event is ignored.
 */
import { configLocation } from '../../lib/sync/operator-config';
import { invalidConfigOutcome } from '../shared/config';
import { syncEveryCluster } from '../shared/fleet';
import { defineHandler } from '../shared/handler';

export const periodicSync = defineHandler('periodicSync', async ({ operator, env }) => {
  if (!operator.ok) return invalidConfigOutcome(operator);
  const summary = await syncEveryCluster(operator.ctx, configLocation(env).namespace, Number(env.SYNC_PARALLELISM ?? 4));
  return { result: summary };
});
