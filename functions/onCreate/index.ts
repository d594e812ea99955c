/**
 * onCreate: a `postgresql` object was added. Syncs the cluster. A new cluster's (no status yet) children are made
 * from the object the event carries, each only if missing, and the finalizer is added after them
 * (`syncNewCluster`); any other add is a hint: the object is read again, so a late or repeated add converges to the
 * same state.
 */
import { invalidConfigOutcome } from '../outcomes/config';
import { addedObject, clusterLeasePrefetch, syncOrFinalize } from '../outcomes/cluster';
import { defineHandler, eventKey } from '../../lib/runtime/handler';

export const onCreate = defineHandler(
  'onCreate',
  async ({ event, operator, prefetched }) => {
    const key = eventKey(event);
    if (!key)
      return { result: undefined, invalid: 'the event names no postgresql object (namespace and name are required)' };
    if (!operator.ok) return invalidConfigOutcome(operator);
    return syncOrFinalize({ ...operator.ctx }, key.namespace, key.name, event.readinessWatched, {
      leaseRead: prefetched,
      added: addedObject(event),
    });
  },
  { prefetch: clusterLeasePrefetch },
);
