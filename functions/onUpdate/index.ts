/**
 * onUpdate: a `postgresql` object changed. Syncs it, or finalizes it once deletionTimestamp is set. A sync honours
 * and removes the `acid.zalan.do/sync-now` annotation (see lib/sync/sync-now.ts).
 */
import { invalidConfigOutcome } from '../outcomes/config';
import { clusterLeasePrefetch, syncOrFinalize } from '../outcomes/cluster';
import { defineHandler, eventKey } from '../../lib/runtime/handler';

export const onUpdate = defineHandler(
  'onUpdate',
  async ({ event, operator, prefetched }) => {
    const key = eventKey(event);
    if (!key)
      return { result: undefined, invalid: 'the event names no postgresql object (namespace and name are required)' };
    if (!operator.ok) return invalidConfigOutcome(operator);
    return syncOrFinalize(operator.ctx, key.namespace, key.name, event.readinessWatched, prefetched);
  },
  { prefetch: clusterLeasePrefetch },
);
