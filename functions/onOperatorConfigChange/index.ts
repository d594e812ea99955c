/**
 * onOperatorConfigChange: the operator ConfigMap changed. An invalid config gets a Warning Event on the ConfigMap
 * naming every bad key, and nothing is synced; a valid one re-syncs every cluster under the new config (no restart
 * of anything). The ConfigMap is read again: the event only says that something changed.
 */
import { recordEvent } from '../../lib/sync/events';
import { syncEveryCluster } from '../shared/fleet';
import { defineHandler } from '../shared/handler';

export const onOperatorConfigChange = defineHandler('onOperatorConfigChange', async ({ event, operator, client, log, env }) => {
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
  const summary = await syncEveryCluster(operator.ctx, namespace, Number(env.SYNC_PARALLELISM ?? 4));
  return { result: { configMap: `${namespace}/${name}`, warnings: operator.warnings, ...summary } };
});
