/**
 * The steps of a sync on the cluster's pods, after its children are applied: Patroni's dynamic configuration
 * brought to the manifest's (`rollout/patroni-config.ts`), then one step of the rolling update
 * (`rollout/rolling-update.ts`); their Events together. Without the Lease a step that would write says so
 * (`needsLease`) and the sync comes back holding it.
 *
 * Before the rolling update, a pod made from one of our older pod templates after its StatefulSet changed (the
 * StatefulSet controller recreates a deleted pod from the revision its cache holds, which can be the old one after
 * an API server restart) is flagged like the others: the template change flagged the pods of that moment only.
 * A pod without our template hash (made by Zalando's operator before a takeover) is left to the takeover's rules.
 */
import type { V1StatefulSet } from '@kubernetes/client-node';
import type { HeldLease } from '../../k8s/lease';
import type { V1Pod, V1PodSpec } from '@kubernetes/client-node';
import { POD_TEMPLATE_HASH_ANNOTATION } from '../../model/annotations';
import { ROLLING_UPDATE_ANNOTATION } from '../../builders';
import { podsMarkedReport, type StepReport } from '../../plan/statefulset-events';
import { flagPodsForRollingUpdate, isFlagged, listPods } from '../pods/flags';
import { patroniConfigStep } from '../rollout/patroni-config';
import { rollingUpdateStep, type RolloutOutcome } from '../rollout/rolling-update';
import { majorUpgradeStep, type UpgradeOutcome } from '../upgrade/step';
import { isPodReady } from '../../k8s/pods';
import type { SyncContext } from '../context';
import { podSelector, type NamespacedPostgresql, type ObservedChildren } from './observe';
import type { PostgresqlObject } from './read-cluster';

/**
 * Lists the pods by the StatefulSet's selector (nothing when there is no StatefulSet yet) and takes the steps.
 * @param raw the `postgresql` object as read (the rolling update keeps its condition and pause annotation there)
 * @param instances the manifest's instances, used when the StatefulSet has no replicas set
 * @param lease the cluster's Lease when held; without it nothing disruptive is done
 * @param createdWithoutPods this pass created the StatefulSet and its selector had no pods just before: no LIST
 *   (its first pod comes with a readiness change, which is delivered as an update)
 * @returns the steps' Events, condition and pending work; throws KubeApiError when the API fails
 */
export async function podSteps(
  ctx: SyncContext,
  raw: PostgresqlObject,
  cluster: NamespacedPostgresql,
  observed: ObservedChildren,
  instances: number,
  lease: HeldLease | undefined,
  createdWithoutPods = false,
): Promise<PodStepsOutcome> {
  const statefulSet: V1StatefulSet | undefined = observed.get(`StatefulSet/${cluster.metadata.name}`);
  if (!statefulSet) return { events: [] };
  let pods = createdWithoutPods
    ? []
    : await listPods(ctx, cluster.metadata.namespace, podSelector(ctx, cluster, statefulSet));
  const hash = statefulSet.spec?.template?.metadata?.annotations?.[POD_TEMPLATE_HASH_ANNOTATION];
  const outdated = hash ? pods.filter((pod) => madeFromAnotherTemplate(pod, hash)) : [];
  // Zalando v1.15.1 (syncStatefulSet): with enable_lazy_spilo_upgrade off, a pod still on another Spilo image than
  // the StatefulSet's (left by a lazy upgrade, or made by Zalando's operator, without our template hash) is flagged.
  const image = spiloImage(statefulSet.spec?.template?.spec);
  const oldImage = ctx.config.enable_lazy_spilo_upgrade
    ? []
    : pods.filter((pod) => !outdated.includes(pod) && onAnotherImage(pod, image));
  const marked: StepReport[] = [];
  for (const [group, why] of [
    [outdated, `they were made from an older pod template of StatefulSet ${cluster.metadata.name}`],
    [oldImage, `they still run another Spilo image than ${image} (enable_lazy_spilo_upgrade is off)`],
  ] as const) {
    if (group.length === 0) continue;
    if (!lease) return { events: [], needsLease: true };
    const flagged = new Set(await flagPodsForRollingUpdate(ctx, group, hash ?? ''));
    pods = pods.map((pod) => (flagged.has(pod.metadata?.name ?? '') ? withFlag(pod) : pod));
    const report = podsMarkedReport(cluster.metadata.name, [...flagged], why);
    if (report) marked.push(report);
  }
  const patroni = await patroniConfigStep(ctx, cluster, pods, lease !== undefined);
  if (patroni.needsLease) return { events: [], needsLease: true };
  const rollout = await rollingUpdateStep(ctx, raw, cluster, pods, statefulSet.spec?.replicas ?? instances, lease);
  // The major version upgrade comes last, once the rolling update has nothing left (pods on a new PGVERSION back).
  const settled = !rollout.pending && !rollout.needsLease && pods.length > 0 && pods.every(podSettled);
  const upgrade = settled ? await majorUpgradeStep(ctx, raw, cluster, pods, lease) : undefined;
  if (upgrade?.needsLease) return { events: [], needsLease: true };
  return { ...rollout, events: [...marked, ...patroni.events, ...rollout.events, ...(upgrade?.events ?? [])], upgrade };
}

/** The pod steps' outcome: the rolling update's, and the major version upgrade's when it looked. */
export interface PodStepsOutcome extends RolloutOutcome {
  upgrade?: UpgradeOutcome;
}

/** @returns whether the pod is Ready, not being deleted and not flagged for the rolling update */
const podSettled = (pod: V1Pod): boolean => isPodReady(pod) && !pod.metadata?.deletionTimestamp && !isFlagged(pod);

/** @returns whether the pod carries our template hash, another than the StatefulSet's, and is not flagged yet */
function madeFromAnotherTemplate(pod: V1Pod, hash: string): boolean {
  const own = pod.metadata?.annotations?.[POD_TEMPLATE_HASH_ANNOTATION];
  return own !== undefined && own !== hash && !isFlagged(pod) && !pod.metadata?.deletionTimestamp;
}

/** @returns the image of the Spilo container (named `postgres`, else the first), as Zalando's getPostgresContainer */
function spiloImage(spec: V1PodSpec | undefined): string | undefined {
  const containers = spec?.containers ?? [];
  return (containers.find((c) => c.name === 'postgres') ?? containers[0])?.image;
}

/** @returns whether the pod runs another Spilo image than `image`, and is not flagged or being deleted yet */
function onAnotherImage(pod: V1Pod, image: string | undefined): boolean {
  if (!image || isFlagged(pod) || pod.metadata?.deletionTimestamp) return false;
  const own = spiloImage(pod.spec);
  return own !== undefined && own !== image;
}

/** @returns a copy of the pod as the flag patch left it */
function withFlag(pod: V1Pod): V1Pod {
  const annotations = { ...pod.metadata?.annotations, [ROLLING_UPDATE_ANNOTATION]: 'true' };
  return { ...pod, metadata: { ...pod.metadata, annotations } };
}
