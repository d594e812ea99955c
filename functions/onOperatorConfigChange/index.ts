/**
 * onOperatorConfigChange: the operator ConfigMap changed. An invalid config gets a Warning Event on the ConfigMap
 * naming every bad key, and nothing is synced; a valid one runs fleet sync under the new config, which syncs every
 * cluster whose desired objects change (no restart of anything). The ConfigMap is read again: the event only says
 * that something changed.
 */
import { recordEvent } from '../../lib/sync/events';
import { fleetOutcome } from '../shared/fleet';
import { defineHandler } from '../shared/handler';

export const onOperatorConfigChange = defineHandler('onOperatorConfigChange', async ({ event, operator, client, log, env, deadlineMs }) => {
  const { namespace, name } = operator.location;
  // An ApiServerSource selects by label only: changes of other ConfigMaps (e.g. Patroni's) are not ours.
  const about = event.ref;
  if (about?.kind === 'ConfigMap' && (about.name !== name || (about.namespace ?? namespace) !== namespace)) {
    return { result: { ignored: `ConfigMap ${about.namespace}/${about.name} is not the operator ConfigMap ${namespace}/${name}` } };
  }
  if (!operator.ok) {
    const message = `invalid operator configuration, clusters keep their current objects: ${operator.errors.map((e) => e.message).join('; ')}`;
    const error = await recordEvent(client, { apiVersion: 'v1', kind: 'ConfigMap', namespace, name }, 'Warning', 'InvalidConfiguration', message, new Date());
    if (error) log.warn('Could not record event', { error: error.message });
    log.warn('Invalid operator configuration', { reason: message });
    return { result: { invalid: operator.errors.map((e) => e.message) } };
  }
  // Under the new config every cluster whose desired objects change shows as drifted, and only those are synced.
  const outcome = await fleetOutcome(operator.ctx, env, deadlineMs);
  return { ...outcome, result: { configMap: `${namespace}/${name}`, warnings: operator.warnings, fleet: outcome.result } };
});
