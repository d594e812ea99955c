/**
 * The steps of a sync on the cluster's pods, after its children are applied: Patroni's dynamic configuration
 * brought to the manifest's (`rollout/patroni-config.ts`), then one step of the rolling update
 * (`rollout/rolling-update.ts`); their Events together. Without the Lease a step that would write says so
 * (`needsLease`) and the sync comes back holding it.
 */
import type { V1StatefulSet } from '@kubernetes/client-node';
import type { HeldLease } from '../../k8s/lease';
import { listPods } from '../pods/flags';
import { patroniConfigStep } from '../rollout/patroni-config';
import { rollingUpdateStep, type RolloutOutcome } from '../rollout/rolling-update';
import type { SyncContext } from '../context';
import { podSelector, type NamespacedPostgresql, type ObservedChildren } from './observe';
import type { PostgresqlObject } from './read-cluster';

/**
 * Lists the pods by the StatefulSet's selector (nothing when there is no StatefulSet yet) and takes the steps.
 * @param raw the `postgresql` object as read (the rolling update keeps its condition and pause annotation there)
 * @param instances the manifest's instances, used when the StatefulSet has no replicas set
 * @param lease the cluster's Lease when held; without it nothing disruptive is done
 * @returns the steps' Events, condition and pending work; throws KubeApiError when the API fails
 */
export async function podSteps(
  ctx: SyncContext,
  raw: PostgresqlObject,
  cluster: NamespacedPostgresql,
  observed: ObservedChildren,
  instances: number,
  lease: HeldLease | undefined,
): Promise<RolloutOutcome> {
  const statefulSet: V1StatefulSet | undefined = observed.get(`StatefulSet/${cluster.metadata.name}`);
  if (!statefulSet) return { events: [] };
  const pods = await listPods(ctx, cluster.metadata.namespace, podSelector(ctx, cluster, statefulSet));
  const patroni = await patroniConfigStep(ctx, cluster, pods, lease !== undefined);
  if (patroni.needsLease) return { events: [], needsLease: true };
  const rollout = await rollingUpdateStep(ctx, raw, cluster, pods, statefulSet.spec?.replicas ?? instances, lease);
  return { ...rollout, events: [...patroni.events, ...rollout.events] };
}
