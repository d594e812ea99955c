/**
 * onUpdate: a `postgresql` object changed. Syncs it, or finalizes it once deletionTimestamp is set. When the
 * object carries `acid.zalan.do/sync-now`, the annotation is removed after a successful sync.
 */
import { invalidConfigOutcome } from '../shared/config';
import { clearSyncNow, SYNC_NOW_ANNOTATION, syncOrFinalize } from '../shared/cluster';
import { defineHandler, eventKey } from '../shared/handler';

export const onUpdate = defineHandler('onUpdate', async ({ event, operator, client, signal }) => {
  const key = eventKey(event);
  if (!key) return { result: undefined, invalid: 'the event names no postgresql object (namespace and name are required)' };
  if (!operator.ok) return invalidConfigOutcome(operator);
  const outcome = await syncOrFinalize(operator.ctx, key.namespace, key.name);
  const synced = (outcome.result as { outcome?: string }).outcome === 'synced';
  if (synced && event.object?.metadata?.annotations?.[SYNC_NOW_ANNOTATION] !== undefined) {
    await clearSyncNow(client, key.namespace, key.name, signal);
  }
  return outcome;
});
