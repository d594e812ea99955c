/**
 * onOperatorConfigChange: the operator ConfigMap changed. Validates it, and applies a valid change to the fleet
 * at a bounded rate, recording what was applied on the ConfigMap (`lib/sync/config/change.ts`). No restart of
 * anything is needed.
 */
import { applyOperatorConfigChange } from '../../lib/sync/config/change';
import { defineHandler } from '../../lib/runtime/handler';

export const onOperatorConfigChange = defineHandler(
  'onOperatorConfigChange',
  ({ event, operator, client, log, env, deadlineMs }) =>
    applyOperatorConfigChange(operator, event.ref, {
      client,
      log,
      deadlineMs,
      parallelism: Number(env.SYNC_PARALLELISM ?? 4),
      now: () => new Date(),
    }),
);
