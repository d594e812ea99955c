/**
 * `GET /metrics` of the operator API: the per-cluster metrics (`metrics.ts`) of every cluster in the watched
 * namespaces. Authorized as kube-rbac-proxy authorizes a metrics scrape: a SubjectAccessReview for the
 * non-resource URL `/metrics` with verb `get` (Prometheus' ServiceAccount usually has it through a ClusterRole with
 * `nonResourceURLs: ["/metrics"]`); a caller with it sees the whole watched fleet, as with kube-state-metrics.
 */
import { isAllowed } from './access';
import { Refusal, errorResponse, type RouteAnswer, type RouteContext } from './handle';
import { clusterMetrics } from './metrics';
import { listClusterPods, listPostgresqls } from './read';
import { clusterSummary, podsByCluster } from './shape';

/** Answers `GET /metrics`; throws Refusal (403) when the caller may not `get` the non-resource URL `/metrics`. */
export async function metricsRoute(ctx: RouteContext): Promise<RouteAnswer> {
  if (!(await isAllowed(ctx.client, ctx.caller, { verb: 'get', path: '/metrics' }, ctx.signal)))
    throw new Refusal(errorResponse(403, `${ctx.caller.username} may not get /metrics`));
  const label = ctx.api.config.cluster_name_label;
  const [objects, pods] = await Promise.all([
    listPostgresqls(ctx.client, ctx.api.watched, ctx.signal),
    listClusterPods(ctx.client, ctx.api.watched, label, ctx.signal),
  ]);
  const byCluster = podsByCluster(pods, label);
  const summaries = objects.map((o) =>
    clusterSummary(o, byCluster.get(`${o.metadata?.namespace}/${o.metadata?.name}`) ?? []),
  );
  const registry = clusterMetrics(summaries);
  return { status: 200, headers: {}, body: await registry.metrics(), contentType: registry.contentType };
}
