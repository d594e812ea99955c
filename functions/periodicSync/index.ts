/**
 * periodicSync: started by a schedule (Kubeless CronJobTrigger, Knative PingSource, the bridge's cron or a
 * CronJob). Runs fleet sync over the watched namespaces, which repairs anything an event missed (Zalando's repair),
 * finishes deletions and resumes where the previous run stopped. The body of the event is ignored.
 */
import { invalidConfigOutcome } from '../outcomes/config';
import { fleetOutcome } from '../outcomes/fleet';
import { defineHandler } from '../../lib/runtime/handler';

export const periodicSync = defineHandler('periodicSync', async ({ operator, env, deadlineMs }) => {
  if (!operator.ok) return invalidConfigOutcome(operator);
  return fleetOutcome(operator.ctx, env, deadlineMs);
});
