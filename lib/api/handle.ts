/**
 * The operator API's request handling: route, authenticate, authorize, read, shape. Shared by the `operator-api`
 * function (functions/operatorApi) and anything else that serves the API (a UI under the same function).
 *
 * Access (Kubernetes RBAC decides, through the caller's own identity):
 * - every request needs `Authorization: Bearer <token>`, checked with a TokenReview: missing or not valid → 401
 *   with `WWW-Authenticate: Bearer`;
 * - one cluster (`/clusters/{namespace}/{cluster}/`, `.../logs/`): `get postgresqls` of that name in that
 *   namespace, else 403;
 * - the fleet (`/clusters/`, `/clusters/{team}/`, `/databases/`, `/status/`, `/workers/...`): filtered to the
 *   watched namespaces in which the caller may `get postgresqls` (one review cluster-wide, else one per namespace
 *   that has clusters), so a team sees its own namespaces; nothing to show is an empty answer, not a 403;
 * - `/config/`: `get configmaps` of the operator ConfigMap (it is the operator's config, not a cluster's);
 * - `/readyz/`: any authenticated caller;
 * - `/metrics` (metrics-route.ts): `get` on the non-resource URL `/metrics`, as kube-rbac-proxy asks;
 * - `POST /plan` (plan-route.ts): `get postgresqls` in the manifest's namespace, or `get` on the operator ConfigMap.
 * Errors are JSON `{"error": "<message>"}` as Zalando's (which answers every error with 500; here 400, 401, 403,
 * 404, 405 say which, and 500/503 are left for failures: 503 when the API server could not be read).
 */
import { isRetryable, KubeApiError } from '../k8s/errors';
import type { KubeClient } from '../k8s/client';
import type { Logger } from '../log/logger';
import { observeChildren } from '../sync/cluster/observe';
import { authenticate, bearerToken, isAllowed, POSTGRESQLS, readableNamespaces, type Caller } from './access';
import {
  InvalidConfigError,
  listClusterEvents,
  listPostgresqls,
  readApiConfig,
  readOnlyContext,
  type ApiConfig,
} from './read';
import { matchRoute, type ApiRoute } from './routes';
import {
  clusterDatabases,
  clusterLogs,
  clustersOfTeam,
  clusterStatusView,
  configView,
  controllerStatus,
  teamClusters,
  workerStatus,
  type PostgresqlObject,
} from './shape';

/** An HTTP request as the API sees it. */
export interface ApiRequest {
  method: string;
  /** path and query, e.g. `/clusters/acid/` (a leading `/operator-api` is ignored) */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  /** the parsed body: JSON value, or the text when it was not JSON (`POST /plan` takes YAML too) */
  body?: unknown;
}

/** The answer: `body` is sent as JSON unless `contentType` says otherwise (then it is a string). */
export interface ApiResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
  contentType?: string;
}

/** What answering needs from outside. */
export interface ApiDeps {
  /** the API's own client (its ServiceAccount): the reviews and the reads */
  client: KubeClient;
  /** OPERATOR_NAMESPACE, CONFIG_MAP_NAME, WATCHED_NAMESPACE as the functions read them */
  env: Record<string, string | undefined>;
  log: Logger;
  now: () => Date;
  signal?: AbortSignal;
}

/** What a route's answer is computed from: the caller, the config and the dependencies. */
export interface RouteContext extends ApiDeps {
  caller: Caller;
  api: ApiConfig;
  request: ApiRequest;
}

/** A route's answer; `status` defaults to 200. */
export type RouteAnswer = ApiResponse | { json: unknown };

/** A handler of routes this module does not answer itself (`/metrics`, `/plan`: see `metrics.ts`, `plan-route.ts`). */
export type ExtraRoutes = Partial<
  Record<ApiRoute['kind'], (route: ApiRoute, ctx: RouteContext) => Promise<RouteAnswer>>
>;

/** @returns a JSON error answer `{"error": message}` */
export function errorResponse(status: number, message: string, headers: Record<string, string> = {}): ApiResponse {
  return { status, headers, body: { error: message } };
}

class Refusal extends Error {
  constructor(readonly response: ApiResponse) {
    super(String((response.body as { error?: string }).error));
  }
}

/** Throws a 403 naming what the caller may not do, unless the review allows it. */
async function demand(ctx: RouteContext, allowed: Promise<boolean>, what: string): Promise<void> {
  if (!(await allowed)) throw new Refusal(errorResponse(403, `${ctx.caller.username} may not ${what}`));
}

/**
 * Throws a 403 unless the caller may `get postgresqls` named `name` in `namespace`.
 * @returns nothing; throws Refusal (403) or KubeApiError
 */
export async function requireClusterRead(ctx: RouteContext, namespace: string, name?: string): Promise<void> {
  const access = { verb: 'get', ...POSTGRESQLS, namespace, ...(name ? { name } : {}) };
  await demand(ctx, isAllowed(ctx.client, ctx.caller, access, ctx.signal), `get postgresqls in namespace ${namespace}`);
}

/**
 * The `postgresql` objects of the watched namespaces in which the caller may `get postgresqls`.
 * @returns them; throws KubeApiError
 */
export async function visibleClusters(ctx: RouteContext): Promise<PostgresqlObject[]> {
  const all = await listPostgresqls(ctx.client, ctx.api.watched, ctx.signal);
  const namespaces = [...new Set(all.map((o) => o.metadata?.namespace ?? ''))].sort();
  const readable = new Set(await readableNamespaces(ctx.client, ctx.caller, namespaces, ctx.signal));
  return all.filter((o) => readable.has(o.metadata?.namespace ?? ''));
}

/** @returns whether the namespace is one the operator manages */
export function isWatched(api: ApiConfig, namespace: string): boolean {
  return api.watched === '*' || api.watched.includes(namespace);
}

/**
 * Reads one cluster the caller may read.
 * @returns the object; throws Refusal (403, or 404 when it does not exist or is not in a watched namespace)
 */
export async function readOneCluster(ctx: RouteContext, namespace: string, name: string): Promise<PostgresqlObject> {
  await requireClusterRead(ctx, namespace, name);
  const object = isWatched(ctx.api, namespace)
    ? await ctx.client.get<PostgresqlObject>({ kind: 'postgresql', namespace, name }, ctx.signal)
    : undefined;
  if (!object) throw new Refusal(errorResponse(404, `could not find cluster ${namespace}/${name}`));
  return object;
}

const json = (value: unknown): RouteAnswer => ({ json: value });

async function answerRoute(route: ApiRoute, ctx: RouteContext, extra: ExtraRoutes): Promise<RouteAnswer> {
  const own = extra[route.kind];
  if (own) return own(route, ctx);
  switch (route.kind) {
    case 'readyz':
      return json('OK');
    case 'clusters':
      return json(teamClusters(await visibleClusters(ctx)));
    case 'team': {
      const names = clustersOfTeam(await visibleClusters(ctx), route.team);
      return names ? json(names) : errorResponse(404, 'could not find clusters for the team');
    }
    case 'databases':
      return json(clusterDatabases(await visibleClusters(ctx)));
    case 'status':
      return json(controllerStatus(await visibleClusters(ctx)));
    case 'config': {
      const { location } = ctx.api;
      await demand(
        ctx,
        isAllowed(ctx.client, ctx.caller, { verb: 'get', group: '', resource: 'configmaps', ...location }, ctx.signal),
        `get configmaps ${location.name} in namespace ${location.namespace}`,
      );
      return json(
        configView(ctx.api.config, {
          ConfigMapName: location,
          Namespace: ctx.api.operatorNamespace,
          WatchedNamespaces: ctx.api.watched,
          Warnings: ctx.api.warnings,
        }),
      );
    }
    case 'cluster': {
      const object = await readOneCluster(ctx, route.namespace, route.cluster);
      if (route.team !== undefined && (object.spec?.teamId ?? '').toLowerCase() !== route.team.toLowerCase())
        return errorResponse(404, `cluster ${route.namespace}/${route.cluster} is not of team ${route.team}`);
      const children = await observeChildren(
        readOnlyContext(ctx.client, ctx.api, ctx.log, ctx.now, ctx.signal),
        route.namespace,
        route.cluster,
      );
      return json(clusterStatusView(object, children, ctx.api.config));
    }
    case 'logs': {
      const object = await readOneCluster(ctx, route.namespace, route.cluster);
      if (route.team !== undefined && (object.spec?.teamId ?? '').toLowerCase() !== route.team.toLowerCase())
        return errorResponse(404, `cluster ${route.namespace}/${route.cluster} is not of team ${route.team}`);
      const events = await listClusterEvents(ctx.client, route.namespace, route.cluster, ctx.signal);
      // `ring_log_lines`: Zalando's ring buffer length, here how many of the newest Events are shown.
      return json(
        clusterLogs(events, { namespace: route.namespace, name: route.cluster }, ctx.api.config.ring_log_lines),
      );
    }
    case 'workers': {
      // One worker (0); nothing is queued: each event is a function call of its own.
      if (route.worker !== 'all' && route.worker !== 0) return errorResponse(404, 'invalid worker ID');
      const queue = { Keys: [], List: [] };
      if (route.what === 'logs') return json([]);
      if (route.what === 'queue') return json(route.worker === 'all' ? { 0: queue } : queue);
      const status = workerStatus(await visibleClusters(ctx));
      return json(route.worker === 'all' ? { 0: status } : status);
    }
    default:
      return errorResponse(404, 'page not found');
  }
}

/**
 * What every request of the API (and of a UI served beside it) passes first: a bearer token, the caller it belongs to
 * (TokenReview), and the operator config as the functions read it.
 * @returns the context to answer in (with the caller's `token`), or the answer to send instead: 401 with a Bearer
 *   challenge when the token is missing or not valid; throws KubeApiError when the review or the config read fails,
 *   InvalidConfigError when no usable config exists
 */
export async function authenticateRequest(
  request: ApiRequest,
  deps: ApiDeps,
): Promise<{ ok: true; ctx: RouteContext; token: string } | { ok: false; response: ApiResponse }> {
  const token = bearerToken(request.headers.authorization);
  const challenge = { 'WWW-Authenticate': 'Bearer realm="postgres-operator-functions"' };
  if (!token)
    return {
      ok: false,
      response: errorResponse(401, 'a bearer token is required (Authorization: Bearer <token>)', challenge),
    };
  const caller = await authenticate(deps.client, token, deps.signal);
  if (!caller) return { ok: false, response: errorResponse(401, 'the bearer token is not valid', challenge) };
  const api = await readApiConfig(deps.client, deps.env);
  return { ok: true, ctx: { ...deps, caller, api, request }, token };
}

/**
 * Answers one API request (see the module comment for paths and access). Never throws: a failure is a JSON error
 * answer (503 with `Retry-After` when the API server could not be read or the review failed, else 500).
 * @param extra answers of routes served by other modules (`/metrics`, `/plan`)
 */
export async function handleApiRequest(
  request: ApiRequest,
  deps: ApiDeps,
  extra: ExtraRoutes = {},
): Promise<ApiResponse> {
  const route = matchRoute(request.method, request.url);
  if (route.kind === 'miss') return errorResponse(route.status, route.error);
  try {
    const checked = await authenticateRequest(request, deps);
    if (!checked.ok) return checked.response;
    const answer = await answerRoute(route, checked.ctx, extra);
    return 'json' in answer ? { status: 200, headers: {}, body: answer.json } : answer;
  } catch (error) {
    if (error instanceof Refusal) return error.response;
    if (error instanceof InvalidConfigError) return errorResponse(503, error.message, { 'Retry-After': '30' });
    const message = (error as Error).message;
    deps.log.error('API request failed', { path: request.url, error: message });
    if (isRetryable(error) || deps.signal?.aborted) return errorResponse(503, message, { 'Retry-After': '5' });
    if (error instanceof KubeApiError && error.status === 403)
      return errorResponse(500, `the operator API's own ServiceAccount may not read this: ${message}`);
    return errorResponse(500, message);
  }
}

export { Refusal };
