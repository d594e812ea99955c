/**
 * The UI's routes under `/ui/` of the operator-api function: the page and its script (served to anyone: they
 * hold no data), and the JSON the page reads and writes under `/ui/api/`:
 * - `GET  api/clusters[?namespace=NS]`: the fleet table, the clusters the caller may `get` (lib/api `visibleClusters`);
 * - `GET  api/clusters/NS/NAME`: the cluster page (the caller may `get` that postgresql, lib/api `readOneCluster`);
 * - `POST api/manifest`: the new-cluster form turned into a validated manifest (nothing written);
 * - `POST api/clusters`: create the cluster of a form;
 * - `POST api/clusters/NS/NAME/{scale,pause,resume,sync-now}`: the actions (lib/api/ui/actions.ts).
 * Reads are the API's: its own ServiceAccount reads after the caller's TokenReview and SubjectAccessReview, as for
 * every API path. Writes are made with the caller's own token (`callerClient`): the API server authenticates them and
 * Kubernetes RBAC decides; a refusal comes back with the API server's status and message.
 *
 * Source: Kubernetes API concepts (status codes of a refused write: 401, 403, 404, 409 AlreadyExists, 422 Invalid).
 */
import { KubeApiError } from '../../k8s/errors';
import type { KubeClient, KubeObject } from '../../k8s/client';
import { validationOptions } from '../../model/validate';
import { PatroniClient, patroniUrl } from '../../patroni/client';
import type { PatroniCluster } from '../../patroni/types';
import { observeChildren } from '../../sync/cluster/observe';
import {
  authenticateRequest,
  errorResponse,
  isWatched,
  readOneCluster,
  Refusal,
  visibleClusters,
  type ApiDeps,
  type ApiRequest,
  type ApiResponse,
  type RouteContext,
} from '../handle';
import { InvalidConfigError, listClusterPods, readOnlyContext } from '../read';
import { pathSegments } from '../routes';
import { podsByCluster, type PodObject } from '../shape';
import { actionPatch, parseAction } from './actions';
import { builtAppScript, INDEX_HTML, UI_SECURITY_HEADERS } from './assets';
import { callerClient } from './caller-client';
import { manifestFromForm, type ClusterForm } from './form';
import { clusterPage, fleetRow } from './summary';

/** The first path segment of the UI. */
export const UI_SEGMENT = 'ui';

/** What the UI needs beyond the API's dependencies. */
export interface UiDeps extends ApiDeps {
  /** the page script; default the one built into the bundle (`__UI_APP_JS__`) */
  appScript?: string;
  /** Patroni's `GET /cluster` of a pod at that IP, undefined when it does not answer; default: 1 s, port 8008 */
  patroniCluster?: (podIp: string) => Promise<PatroniCluster | undefined>;
}

/** @returns whether a request is the UI's (`/ui`, `/ui/...`, with or without the function's path prefix) */
export function isUiRequest(url: string): boolean {
  return pathSegments(url)[0] === UI_SEGMENT;
}

const file = (body: string, contentType: string): ApiResponse => ({
  status: 200,
  headers: UI_SECURITY_HEADERS,
  body,
  contentType,
});
const json = (body: unknown, status = 200): ApiResponse => ({ status, headers: { 'Cache-Control': 'no-store' }, body });

/** Patroni's view of the members, from the first pod with an IP that answers within a second. */
async function defaultPatroniCluster(podIp: string): Promise<PatroniCluster | undefined> {
  try {
    return await new PatroniClient(patroniUrl(podIp), { timeoutMs: 1000 }).getCluster();
  } catch {
    return undefined;
  }
}

/** @returns the fleet table of the clusters the caller may read, optionally of one namespace */
async function fleet(ctx: RouteContext, namespace: string | null): Promise<ApiResponse> {
  const clusters = (await visibleClusters(ctx)).filter((c) => !namespace || c.metadata?.namespace === namespace);
  const namespaces = [...new Set(clusters.map((c) => c.metadata?.namespace ?? ''))];
  const label = ctx.api.config.cluster_name_label;
  const pods = namespaces.length ? await listClusterPods(ctx.client, namespaces, label, ctx.signal) : [];
  const byCluster = podsByCluster(pods, label);
  return json({
    clusters: clusters.map((c) => fleetRow(c, byCluster.get(`${c.metadata?.namespace}/${c.metadata?.name}`) ?? [])),
  });
}

/** @returns the cluster page: the API's reads of the cluster, its children, pods and Events, and Patroni's members */
async function page(ctx: RouteContext, deps: UiDeps, namespace: string, name: string): Promise<ApiResponse> {
  const cluster = await readOneCluster(ctx, namespace, name);
  const { config } = ctx.api;
  const [children, pods, events] = await Promise.all([
    observeChildren(readOnlyContext(ctx.client, ctx.api, ctx.log, ctx.now, ctx.signal), namespace, name),
    ctx.client.list<PodObject>('Pod', namespace, `${config.cluster_name_label}=${name}`, ctx.signal),
    ctx.client.list('Event', namespace, undefined, ctx.signal),
  ]);
  const notes: string[] = [];
  // Patroni's view from the master first (it knows every member's lag), else from any pod that answers.
  const roleOf = (p: PodObject) => p.metadata?.labels?.[config.pod_role_label];
  const ips = [...pods]
    .sort((a, b) => Number(roleOf(b) === 'master') - Number(roleOf(a) === 'master'))
    .map((p) => (p.status as { podIP?: string } | undefined)?.podIP)
    .filter((ip): ip is string => !!ip);
  let patroni: PatroniCluster | undefined;
  for (const ip of ips) {
    patroni = await (deps.patroniCluster ?? defaultPatroniCluster)(ip);
    if (patroni) break;
  }
  if (ips.length && !patroni)
    notes.push(`Patroni did not answer at ${ips.join(', ')} (port 8008): roles are the pods' labels, lag is unknown.`);
  return json(
    clusterPage({
      cluster,
      children: [...children.values()],
      pods: pods as KubeObject[],
      events,
      ...(patroni ? { patroni } : {}),
      labels: { clusterName: config.cluster_name_label, podRole: config.pod_role_label },
      clusterDomain: config.cluster_domain,
      notes,
    }),
  );
}

/** @returns the answer of a write the API server refused, with its status (401, 403, 404, 409, 422) and message */
function refused(error: unknown): ApiResponse | undefined {
  if (error instanceof KubeApiError && error.status >= 400 && error.status < 500)
    return errorResponse(error.status, error.message);
  return undefined;
}

/** Runs a write with the caller's own token; a refusal is the answer. */
async function asCaller(ctx: RouteContext, token: string, write: (client: KubeClient) => Promise<ApiResponse>) {
  const client = callerClient(ctx.client, token);
  try {
    return await write(client);
  } catch (error) {
    const answer = refused(error);
    if (answer) return answer;
    throw error;
  } finally {
    client.close();
  }
}

/** The form of a request body, or a 400. */
function formOf(body: unknown): ClusterForm | ApiResponse {
  if (!body || typeof body !== 'object') return errorResponse(400, 'the body must be the form as JSON');
  return body as ClusterForm;
}

async function answerApi(
  segments: string[],
  request: ApiRequest,
  ctx: RouteContext,
  deps: UiDeps,
  token: string,
): Promise<ApiResponse> {
  const { method } = request;
  const [what, namespace, name, action] = segments;
  if (what === 'manifest' && segments.length === 1 && method === 'POST') {
    const form = formOf(request.body);
    if ('status' in form) return form;
    const built = manifestFromForm(form, validationOptions(ctx.api.config));
    return built.ok ? json(built) : json({ error: 'the form is not a valid cluster', problems: built.problems }, 422);
  }
  if (what !== 'clusters') return errorResponse(404, 'page not found');
  if (segments.length === 1 && method === 'GET')
    return fleet(ctx, new URL(request.url, 'http://ui').searchParams.get('namespace'));
  if (segments.length === 1 && method === 'POST') {
    const form = formOf(request.body);
    if ('status' in form) return form;
    const built = manifestFromForm(form, validationOptions(ctx.api.config));
    if (!built.ok) return json({ error: 'the form is not a valid cluster', problems: built.problems }, 422);
    if (!isWatched(ctx.api, form.namespace.trim()))
      return errorResponse(400, `namespace ${form.namespace.trim()} is not watched by this operator`);
    return asCaller(ctx, token, async (client) => {
      await client.create(built.manifest);
      return json(built, 201);
    });
  }
  if (segments.length === 3 && method === 'GET') return page(ctx, deps, namespace!, name!);
  if (segments.length === 4 && method === 'POST') {
    const parsed = parseAction(action!, request.body);
    if ('error' in parsed) return errorResponse(400, parsed.error);
    if (!isWatched(ctx.api, namespace!)) return errorResponse(404, `could not find cluster ${namespace}/${name}`);
    return asCaller(ctx, token, async (client) => {
      await client.mergePatch(
        { kind: 'postgresql', namespace: namespace!, name: name! },
        actionPatch(parsed, ctx.now()),
      );
      return json({ done: parsed.action, namespace, name });
    });
  }
  return errorResponse(segments.length > 4 ? 404 : 405, `${method} is not allowed here`);
}

/**
 * Answers a request under `/ui` (see the module comment). Never throws: failures are JSON errors as the API's.
 * @param request the request, its URL under `/ui` (with or without the function's path prefix)
 */
export async function handleUiRequest(request: ApiRequest, deps: UiDeps): Promise<ApiResponse> {
  const path = request.url.split(/[?#]/, 1)[0]!;
  const [, ...segments] = pathSegments(request.url);
  if (segments.length === 0 && !path.endsWith('/'))
    // Relative links in the page (`app.js`, `api/...`) need the trailing slash.
    return { status: 301, headers: { Location: `${UI_SEGMENT}/` }, body: { moved: `${UI_SEGMENT}/` } };
  if (segments[0] !== 'api') {
    if (request.method !== 'GET' && request.method !== 'HEAD') return errorResponse(405, 'use GET');
    if (segments.length === 0 || (segments.length === 1 && segments[0] === 'index.html'))
      return file(INDEX_HTML, 'text/html; charset=utf-8');
    if (segments.length === 1 && segments[0] === 'app.js') {
      const script = deps.appScript ?? builtAppScript();
      if (script === undefined) return errorResponse(500, 'the UI script is not built into this bundle');
      return file(script, 'text/javascript; charset=utf-8');
    }
    return errorResponse(404, 'page not found');
  }
  try {
    const checked = await authenticateRequest(request, deps);
    if (!checked.ok) return checked.response;
    return await answerApi(segments.slice(1), request, checked.ctx, deps, checked.token);
  } catch (error) {
    if (error instanceof Refusal) return error.response;
    if (error instanceof InvalidConfigError) return errorResponse(503, error.message, { 'Retry-After': '30' });
    const message = (error as Error).message;
    deps.log.error('UI request failed', { path: request.url, error: message });
    return errorResponse(error instanceof KubeApiError && error.retryable ? 503 : 500, message);
  }
}
