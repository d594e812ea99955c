/**
 * Whether the cluster's master can take connections, decided from Kubernetes alone (no network to Postgres):
 * in endpoints mode Patroni writes the leader's address into the Endpoints `<cluster>`; with
 * `kubernetes_use_configmaps` the master Service selects the pod Patroni labels `<pod_role_label>=master`.
 * Until then role and database sync waits, and says so.
 *
 * Source: Zalando postgres-operator docs, reference/operator_parameters.md (kubernetes_use_configmaps,
 * pod_role_label); Patroni docs, "Kubernetes" DCS (leader Endpoints / role label); Kubernetes API reference,
 * core/v1 Endpoints (subsets[].addresses are the ready ones) and Pod (Ready condition).
 */
import { selectorLabels } from '../../builders/labels';
import type { V1Endpoints, V1Pod } from '@kubernetes/client-node';
import type { KubeObject } from '../../k8s/client';
import { hasReadyCondition } from '../../k8s/pods';
import type { Postgresql } from '../../model/postgresql';
import type { SyncContext } from '../context';

/** Ready, or the reason to wait. */
export type MasterState = { ready: true } | { ready: false; reason: string };

const isReadyPod = (pod: V1Pod): boolean => Boolean(pod.status?.podIP) && hasReadyCondition(pod);

/**
 * @param observed the cluster's children as read by this sync (`Endpoints/<cluster>` is taken from it when there)
 * @returns whether the master answers; throws KubeApiError when the API cannot be read
 */
export async function masterState(
  ctx: SyncContext,
  cluster: Postgresql,
  observed: ReadonlyMap<string, KubeObject>,
): Promise<MasterState> {
  const name = cluster.metadata.name;
  const namespace = cluster.metadata.namespace!;
  if (!ctx.config.kubernetes_use_configmaps) {
    const endpoints: V1Endpoints | undefined =
      observed.get(`Endpoints/${name}`) ??
      (await ctx.client.get<V1Endpoints>({ kind: 'Endpoints', namespace, name }, ctx.signal));
    if ((endpoints?.subsets ?? []).some((s) => (s.addresses ?? []).length > 0)) return { ready: true };
    return {
      ready: false,
      reason: `waiting for the master pod: the Endpoints ${name} have no ready address yet (Patroni sets it when a leader runs)`,
    };
  }
  const labels = { ...selectorLabels(cluster, ctx.config), [ctx.config.pod_role_label]: 'master' };
  const selector = Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const pods = (await ctx.client.list<V1Pod>('Pod', namespace, selector, ctx.signal)).filter(isReadyPod);
  if (pods.length === 1) return { ready: true };
  if (pods.length > 1)
    return { ready: false, reason: `too many masters (${pods.length} pods with the master label found)` };
  return {
    ready: false,
    reason: `waiting for the master pod: no ready pod labelled ${ctx.config.pod_role_label}=master`,
  };
}
