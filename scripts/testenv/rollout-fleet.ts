/**
 * A fleet of Patroni clusters for rollout tests and the rollout benchmark: `postgresql` objects of N instances,
 * and a wait until every cluster is up the way a rollout needs it (all pods, one master and replicas by label,
 * status Running), optionally with a condition on the pods (e.g. all on the new image).
 */
import type { KubeClient, KubeObject } from '../../lib/k8s/client';
import { nameOf } from '../../lib/k8s/meta';
import { until } from './patroni-process';

/** @returns the image of the pod's `postgres` container */
export const postgresImage = (pod: KubeObject) =>
  ((pod.spec?.containers ?? []) as KubeObject[]).find((c) => c.name === 'postgres')?.image as string | undefined;

/** @returns the cluster's pods, by name */
export async function clusterPods(client: KubeClient, namespace: string, cluster: string): Promise<KubeObject[]> {
  return (await client.list('Pod', namespace, `cluster-name=${cluster}`)).sort((a, b) =>
    nameOf(a) < nameOf(b) ? -1 : 1,
  );
}

/** A minimal Zalando manifest of `instances` instances (PostgreSQL 17, 1Gi). */
export const rolloutManifest = (name: string, instances: number) => ({
  apiVersion: 'acid.zalan.do/v1',
  kind: 'postgresql',
  metadata: { name },
  spec: { teamId: 'acid', numberOfInstances: instances, volume: { size: '1Gi' }, postgresql: { version: '17' } },
});

/**
 * Waits until every cluster has `instances` pods that pass `check`, labelled one master and replicas, and status
 * Running; throws after `timeoutMs` with `diagnose()` in the message.
 */
export async function waitClustersUp(
  client: KubeClient,
  namespace: string,
  clusters: readonly string[],
  instances: number,
  options: { what: string; timeoutMs: number; check?: (pods: KubeObject[]) => boolean; diagnose?: () => string },
): Promise<void> {
  const expectedRoles = ['master', ...Array(instances - 1).fill('replica')].join();
  await until(
    options.what,
    options.timeoutMs,
    async () => {
      const objects = await client.list('postgresql', namespace);
      const running = new Set(
        objects.filter((o) => o.status?.PostgresClusterStatus === 'Running').map((o) => o.metadata!.name),
      );
      const pods = await client.list('Pod', namespace, 'application=spilo');
      for (const name of clusters) {
        const own = pods.filter((p) => p.metadata?.labels?.['cluster-name'] === name);
        if (own.length !== instances || !running.has(name) || !(options.check?.(own) ?? true)) return undefined;
        if (
          own
            .map((p) => p.metadata!.labels?.['spilo-role'])
            .sort()
            .join() !== expectedRoles
        )
          return undefined;
      }
      return true;
    },
    options.diagnose ?? (() => ''),
  );
}
