/**
 * Helpers for the update, status and concurrency tests. The test plane runs no controller-manager, so these do
 * what its controllers would: create the pods and claims of a StatefulSet from its template, mark pods ready, and
 * finish an orphaning delete (the garbage collector's part).
 */
import type { KubeClient, KubeObject } from '../../lib/k8s/client';
import { ROLLING_UPDATE_ANNOTATION } from '../../lib/builders';
import { reference } from './operator';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Manifest = Record<string, any>;

/** The v2.0.1 minimal manifest named `name`, with spec fields replaced. */
export function manifest(name: string, spec: Manifest = {}): Manifest {
  const base = structuredClone(reference('v2.0.1/minimal-postgres-manifest.yaml')) as Manifest;
  return { ...base, metadata: { name }, spec: { ...base.spec, ...spec } };
}

/**
 * Creates the pods of a StatefulSet from its template, as the StatefulSet controller would (they stay Pending).
 * @param master the ordinal labelled `spilo-role=master` (the others are replicas)
 */
export async function createPods(
  client: KubeClient,
  namespace: string,
  stsName: string,
  count: number,
  master = 0,
): Promise<void> {
  const sts = await client.get({ kind: 'StatefulSet', namespace, name: stsName });
  if (!sts) throw new Error(`no StatefulSet ${stsName}`);
  const template = sts.spec.template;
  for (let i = 0; i < count; i++) {
    await client.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: `${stsName}-${i}`,
        namespace,
        labels: { ...template.metadata.labels, 'spilo-role': i === master ? 'master' : 'replica' },
        annotations: { ...template.metadata.annotations },
        ownerReferences: [
          { apiVersion: 'apps/v1', kind: 'StatefulSet', name: stsName, uid: sts.metadata!.uid, controller: true },
        ],
      },
      spec: {
        ...template.spec,
        volumes: [
          ...(template.spec.volumes ?? []),
          { name: 'pgdata', persistentVolumeClaim: { claimName: `pgdata-${stsName}-${i}` } },
        ],
      },
    });
  }
}

/** Moves the master role label to another pod. */
export async function setMaster(
  client: KubeClient,
  namespace: string,
  stsName: string,
  count: number,
  master: number,
): Promise<void> {
  for (let i = 0; i < count; i++) {
    await client.mergePatch(
      { kind: 'Pod', namespace, name: `${stsName}-${i}` },
      { metadata: { labels: { 'spilo-role': i === master ? 'master' : 'replica' } } },
    );
  }
}

/** The pods of a cluster that carry the rolling-update flag, sorted. */
export async function flaggedPods(client: KubeClient, namespace: string, cluster: string): Promise<string[]> {
  const pods = await client.list('Pod', namespace, `cluster-name=${cluster}`);
  return pods
    .filter((p) => p.metadata?.annotations?.[ROLLING_UPDATE_ANNOTATION] === 'true')
    .map((p) => p.metadata!.name as string)
    .sort();
}

/** Reports the StatefulSet's pods as all ready on its current generation (the controller's status). */
export async function markReady(client: KubeClient, namespace: string, name: string): Promise<void> {
  const sts = await client.get({ kind: 'StatefulSet', namespace, name });
  const replicas = sts!.spec.replicas as number;
  await client.mergePatch(
    { kind: 'StatefulSet', namespace, name },
    {
      status: {
        observedGeneration: sts!.metadata!.generation,
        replicas,
        readyReplicas: replicas,
        updatedReplicas: replicas,
        currentReplicas: replicas,
        availableReplicas: replicas,
      },
    },
    'status',
  );
}

/**
 * Plays the garbage collector for orphaning deletes until stopped: a StatefulSet being deleted with the `orphan`
 * finalizer loses its pods' owner references and then the finalizer.
 * @returns a function that stops it
 */
export function orphanCollector(client: KubeClient, namespace: string): () => Promise<void> {
  let running = true;
  const loop = (async () => {
    while (running) {
      for (const sts of await client.list('StatefulSet', namespace)) {
        const finalizers = (sts.metadata?.finalizers ?? []) as string[];
        if (!sts.metadata?.deletionTimestamp || !finalizers.includes('orphan')) continue;
        for (const pod of await client.list('Pod', namespace)) {
          const refs = (pod.metadata?.ownerReferences ?? []) as Array<{ uid: string }>;
          if (refs.some((r) => r.uid === sts.metadata!.uid)) {
            await client.mergePatch(
              { kind: 'Pod', namespace, name: pod.metadata!.name! },
              { metadata: { ownerReferences: null } },
            );
          }
        }
        await client
          .jsonPatch({ kind: 'StatefulSet', namespace, name: sts.metadata!.name! }, [
            { op: 'test', path: '/metadata/finalizers', value: finalizers },
            { op: 'replace', path: '/metadata/finalizers', value: finalizers.filter((f) => f !== 'orphan') },
          ])
          .catch(() => undefined);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  return async () => {
    running = false;
    await loop;
  };
}

/** Events on the cluster, as `reason: message`, oldest first. */
export async function events(client: KubeClient, namespace: string, cluster: string): Promise<string[]> {
  const list = await client.list('Event', namespace);
  return list
    .filter((e: KubeObject) => e.involvedObject?.name === cluster)
    .sort((a, b) => (a.metadata!.creationTimestamp! < b.metadata!.creationTimestamp! ? -1 : 1))
    .map((e) => `${e.reason}: ${e.message}`);
}

/** `Kind/name@resourceVersion` of every child of a cluster (by its cluster-name label), sorted. */
export async function childVersions(client: KubeClient, namespace: string, cluster: string): Promise<string[]> {
  const out: string[] = [];
  for (const kind of [
    'Endpoints',
    'Service',
    'Secret',
    'PodDisruptionBudget',
    'StatefulSet',
    'Pod',
    'PersistentVolumeClaim',
  ]) {
    for (const o of await client.list(kind, namespace, `cluster-name=${cluster}`))
      out.push(`${kind}/${o.metadata!.name}@${o.metadata!.resourceVersion}`);
  }
  return out.sort();
}
