/**
 * `POST /plan` of the operator API: what the functions would do with a manifest, without doing it.
 *
 * - A `postgresql` manifest (JSON, or YAML as text): the sync's own reads and plan (`observeCluster`, `planPass`
 *   of lib/sync/cluster, the pure lib/plan and lib/builders underneath) against the live children, as the next
 *   sync after `kubectl apply` would compute them: the objects created, changed (field by field) or deleted, the
 *   pods flagged for a rolling update (`podsToFlag`), whether the master is switched over, the refused changes. An
 *   invalid manifest answers what the sync would report (status `Invalid`, nothing touched). The caller needs
 *   `get postgresqls` in the manifest's namespace (the preview reads as the sync reads, through the API's account).
 *   The namespace is the manifest's, else the `namespace` query parameter.
 * - An operator ConfigMap: the config parsed as the functions parse it (an invalid one answers its errors), then
 *   each cluster the caller may read is planned under it: the clusters whose objects change, those whose pods are
 *   restarted, and the rollout's expected duration under `rollout_clusters_at_once` and `rollout_cluster_delay`,
 *   with `podSeconds` (query parameter, default 60) per pod. The caller needs `get` on the operator ConfigMap.
 * Nothing is written: the API's account cannot write, and the placeholder password of a Secret not made yet is
 * never shown (Secret values are `<hidden>`).
 */
import type { V1Pod } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { parseOperatorConfig, watchedNamespaces } from '../model/config';
import { describeProblems, validatePostgresql, validationOptions } from '../model/validate';
import { desiredPodTemplateHash } from '../plan/cluster';
import { observeCluster, type NamespacedPostgresql } from '../sync/cluster/observe';
import { listStatefulSetPods } from '../sync/cluster/statefulset-steps';
import { planPass } from '../sync/cluster/sync-cluster';
import { podsToFlag } from '../sync/pods/flags';
import { isAllowed } from './access';
import {
  errorResponse,
  isWatched,
  Refusal,
  requireClusterRead,
  visibleClusters,
  type RouteAnswer,
  type RouteContext,
} from './handle';
import { clusterPreview, rolloutEstimate, type ClusterPreview, type PreviewPod } from './plan';
import { readOnlyContext, type ApiConfig } from './read';
import type { PostgresqlObject } from './shape';

type Manifest = { apiVersion?: string; kind?: string; metadata?: Record<string, unknown>; [key: string]: unknown };

const bad = (message: string) => new Refusal(errorResponse(400, message));

/** Clusters planned at once for a ConfigMap preview. */
const PLAN_CONCURRENCY = 8;

/** @returns the request body as an object: JSON as parsed by the host, or YAML / JSON text */
function manifestOf(body: unknown): Manifest {
  let value = body;
  if (typeof body === 'string') {
    try {
      value = parse(body);
    } catch (error) {
      throw bad(`the body is neither JSON nor YAML: ${(error as Error).message}`);
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw bad('the body must be one postgresql manifest or an operator ConfigMap');
  return value as Manifest;
}

/** Answers `POST /plan` (see the module comment). */
export async function planRoute(ctx: RouteContext): Promise<RouteAnswer> {
  const manifest = manifestOf(ctx.request.body);
  const query = new URL(ctx.request.url, 'http://api').searchParams;
  if (manifest.kind === 'postgresql') return { json: await planManifest(ctx, manifest, query) };
  if (manifest.kind === 'ConfigMap') return { json: await planConfigMap(ctx, manifest, query) };
  throw bad(`kind ${JSON.stringify(manifest.kind)} cannot be planned: post a postgresql manifest or a ConfigMap`);
}

/** @returns the pods as the preview reads them: name and role label */
const previewPods = (pods: readonly V1Pod[], roleLabel: string): PreviewPod[] =>
  pods.map((p) => ({ name: p.metadata?.name ?? '', role: p.metadata?.labels?.[roleLabel] }));

/**
 * Plans one cluster as its next sync would, under `api`'s config.
 * @returns the preview, or the sync's report of an invalid manifest
 */
async function previewCluster(
  ctx: RouteContext,
  api: ApiConfig,
  raw: PostgresqlObject,
  exists: boolean,
): Promise<ClusterPreview | { namespace: string; name: string; valid: false; problems: string }> {
  const namespace = raw.metadata?.namespace ?? '';
  const name = raw.metadata?.name ?? '';
  const validation = validatePostgresql(raw, validationOptions(api.config));
  if (!validation.ok) return { namespace, name, valid: false, problems: describeProblems(validation.problems) };
  const cluster: NamespacedPostgresql = {
    ...validation.cluster,
    metadata: { ...validation.cluster.metadata, namespace },
  };
  const sync = readOnlyContext(ctx.client, api, ctx.log, ctx.now, ctx.signal);
  const observation = await observeCluster(sync, cluster);
  const plan = await planPass(sync, cluster, observation);
  const observedSts = observation.children.get(`StatefulSet/${name}`);
  const pods = observedSts ? await listStatefulSetPods(sync, cluster, observedSts) : [];
  const flagged =
    plan.statefulSet.rollingUpdate || !observedSts
      ? podsToFlag(pods, desiredPodTemplateHash(plan.statefulSet.desired))
      : [];
  const roleLabel = api.config.pod_role_label;
  return clusterPreview(
    { namespace, name, exists },
    plan,
    observation.children,
    previewPods(flagged, roleLabel),
    previewPods(pods, roleLabel),
    validation.warnings,
  );
}

async function planManifest(ctx: RouteContext, manifest: Manifest, query: URLSearchParams) {
  const metadata = manifest.metadata ?? {};
  const name = typeof metadata.name === 'string' ? metadata.name : undefined;
  const namespace =
    (typeof metadata.namespace === 'string' ? metadata.namespace : undefined) ?? query.get('namespace') ?? undefined;
  if (!name) throw bad('the manifest has no metadata.name');
  if (!namespace) throw bad('the manifest has no metadata.namespace: give it, or the query parameter namespace');
  if (!isWatched(ctx.api, namespace)) throw bad(`namespace ${namespace} is not watched by the operator`);
  await requireClusterRead(ctx, namespace, name);
  const live = await ctx.client.get<PostgresqlObject>({ kind: 'postgresql', namespace, name }, ctx.signal);
  // The stored object with the manifest's spec, labels and annotations: what the sync reads after the apply.
  const given = metadata as { labels?: Record<string, string>; annotations?: Record<string, string> };
  const raw: PostgresqlObject = {
    apiVersion: 'acid.zalan.do/v1',
    kind: 'postgresql',
    metadata: {
      ...(live?.metadata ?? {}),
      name,
      namespace,
      ...(given.labels ? { labels: given.labels } : {}),
      ...(given.annotations ? { annotations: given.annotations } : {}),
    },
    spec: manifest.spec as PostgresqlObject['spec'],
    ...(live?.status !== undefined ? { status: live.status } : {}),
  };
  return previewCluster(ctx, ctx.api, raw, live !== undefined);
}

async function planConfigMap(ctx: RouteContext, manifest: Manifest, query: URLSearchParams) {
  const { location } = ctx.api;
  const access = { verb: 'get', group: '', resource: 'configmaps', ...location };
  if (!(await isAllowed(ctx.client, ctx.caller, access, ctx.signal)))
    throw new Refusal(
      errorResponse(
        403,
        `${ctx.caller.username} may not get configmaps ${location.name} in namespace ${location.namespace}`,
      ),
    );
  const data = (manifest.data ?? {}) as Record<string, string>;
  const parsed = parseOperatorConfig(data, {
    WATCHED_NAMESPACE: ctx.env.WATCHED_NAMESPACE,
    SCALYR_API_KEY: ctx.env.SCALYR_API_KEY,
  });
  if (!parsed.ok) return { valid: false, errors: parsed.errors };
  const podSeconds = Number(query.get('podSeconds') ?? 60);
  if (!Number.isFinite(podSeconds) || podSeconds < 0) throw bad('podSeconds must be a number of seconds');
  const api: ApiConfig = {
    ...ctx.api,
    config: parsed.config,
    watched: watchedNamespaces(parsed.config, ctx.api.operatorNamespace),
    warnings: parsed.warnings,
  };
  const clusters = await visibleClusters({ ...ctx, api });
  // A few clusters at a time: each plan is a dozen reads, as a sync's.
  const previews: Array<Awaited<ReturnType<typeof previewCluster>>> = [];
  for (let i = 0; i < clusters.length; i += PLAN_CONCURRENCY)
    previews.push(
      ...(await Promise.all(
        clusters.slice(i, i + PLAN_CONCURRENCY).map((object) => previewCluster(ctx, api, object, true)),
      )),
    );
  const changed = previews.filter((p) => !('valid' in p) && p.actions.length > 0) as ClusterPreview[];
  const rolled = previews.filter((p) => !('valid' in p) && p.podsToRecreate.length > 0) as ClusterPreview[];
  return {
    valid: true,
    warnings: parsed.warnings,
    clusters: previews.length,
    invalid: previews.filter((p) => 'valid' in p),
    changed: changed.map((p) => ({ namespace: p.namespace, name: p.name, actions: p.actions })),
    rollingUpdate: rolled.map((p) => ({
      namespace: p.namespace,
      name: p.name,
      why: p.statefulSet.rollingUpdate,
      pods: p.podsToRecreate,
      switchover: p.switchover,
    })),
    rollout: rolloutEstimate(
      rolled.map((p) => ({ namespace: p.namespace, name: p.name, pods: p.podsToRecreate.length })),
      parsed.config.rollout_clusters_at_once,
      podSeconds,
      parsed.config.rollout_cluster_delay / 1000,
    ),
  };
}
