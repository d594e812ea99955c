/**
 * onNodeDrain: a Node changed. When it is going away (cordoned, a drain taint, or a missing
 * `node_readiness_label`), finds the master pods of the watched clusters on it and records each in the log and in
 * a Warning Event on its `postgresql` object. Moving them by Patroni switchover comes in a later release and is not
 * done here.
 */
import type { KubeObject } from '../../lib/k8s/client';
import { watchedNamespaces } from '../../lib/model/config';
import { POSTGRESQL } from '../../lib/model/postgresql';
import { nodeGoingAway } from '../../lib/plan/node-drain';
import { configLocation } from '../../lib/sync/operator-config';
import { involvedPostgresql, recordEvent } from '../../lib/sync/events';
import { invalidConfigOutcome } from '../shared/config';
import { defineHandler } from '../shared/handler';

export const onNodeDrain = defineHandler('onNodeDrain', async ({ event, operator, client, log, signal, env }) => {
  const nodeName = event.ref?.name ?? event.object?.metadata?.name;
  if (!nodeName) return { result: undefined, invalid: 'the event names no Node' };
  if (!operator.ok) return invalidConfigOutcome(operator);
  const { config } = operator.ctx;
  const node = await client.get({ kind: 'Node', name: nodeName }, signal);
  if (!node) return { result: { node: nodeName, goingAway: false, reason: 'the node no longer exists' } };
  const reason = nodeGoingAway(node, config.node_readiness_label);
  if (!reason) return { result: { node: nodeName, goingAway: false } };

  const selector = Object.entries({ ...config.cluster_labels, [config.pod_role_label]: 'master' }).map(([k, v]) => `${k}=${v}`).join(',');
  const scope = watchedNamespaces(config, configLocation(env).namespace);
  const pods = scope === '*'
    ? await client.list('Pod', undefined, selector, signal)
    : (await Promise.all(scope.map((ns) => client.list('Pod', ns, selector, signal)))).flat();
  const masters = pods.filter((pod: KubeObject) => pod.spec?.nodeName === nodeName);
  for (const pod of masters) {
    const namespace = pod.metadata!.namespace as string;
    const cluster = pod.metadata!.labels?.[config.cluster_name_label] as string | undefined;
    const message = `master pod ${pod.metadata!.name} runs on node ${nodeName}, which is going away: ${reason}`;
    log.warn('Master pod on a node going away', { namespace, cluster, pod: pod.metadata!.name, node: nodeName, reason });
    if (!cluster) continue;
    const owner = await client.get({ kind: POSTGRESQL.kind, namespace, name: cluster }, signal);
    if (!owner) continue;
    const error = await recordEvent(client, involvedPostgresql(owner),
      'Warning', 'NodeDrain', message, new Date());
    if (error) log.warn('Could not record event', { error: error.message });
  }
  return { result: { node: nodeName, goingAway: true, reason, masterPods: masters.map((p) => `${p.metadata!.namespace}/${p.metadata!.name}`) } };
});
