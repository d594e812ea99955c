/**
 * onDelete: a `postgresql` object is being deleted or is gone. Runs the cleanup; with the finalizer in place the
 * object is still there (deletionTimestamp set) and the finalizer is removed last. When the object is already
 * gone, the last state carried by the event is enough to clean up what is left.
 */
import { finalizeCluster } from '../../lib/sync/cluster/finalize';
import { invalidConfigOutcome } from '../outcomes/config';
import { finalizeOutcome } from '../outcomes/cluster';
import { defineHandler, eventKey } from '../../lib/runtime/handler';

export const onDelete = defineHandler('onDelete', async ({ event, operator }) => {
  const key = eventKey(event);
  if (!key)
    return { result: undefined, invalid: 'the event names no postgresql object (namespace and name are required)' };
  if (!operator.ok) return invalidConfigOutcome(operator);
  return finalizeOutcome(await finalizeCluster(operator.ctx, key.namespace, key.name, event.object));
});
