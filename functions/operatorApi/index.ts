/**
 * operatorApi: the operator's read API over HTTP (an `http` trigger: called by people and Prometheus, not by
 * events). Zalando's paths and JSON (`/clusters/`, `/clusters/{namespace}/{cluster}/`, `.../logs/`, `/databases/`,
 * `/status/`, `/config/`), the per-cluster metrics (`/metrics`) and the plan preview (`POST /plan`), each computed
 * from the live objects on the request; every request authenticated with the caller's bearer token and authorized
 * with a SubjectAccessReview (lib/api/handle.ts). Works under this project's host (alone, or under `/operator-api`
 * in the combined host) and under the Kubeless runtime, which both pass the HTTP request and an Express-like
 * response in `event.extensions`.
 */
import type http from 'node:http';
import { KubeClient } from '../../lib/k8s/client';
import { createLogger } from '../../lib/log/logger';
import { handleApiRequest, type ApiResponse } from '../../lib/api/handle';
import { API_ROUTES } from '../../lib/api/routes-extra';
import { handleUiRequest, isUiRequest } from '../../lib/api/ui/route';

interface ApiEvent {
  data?: unknown;
  extensions?: {
    request?: Pick<http.IncomingMessage, 'method' | 'url' | 'headers'> & { originalUrl?: string };
    response?: { status?: (code: number) => unknown; set?: (name: string, value: string) => unknown };
  };
}

let sharedClient: KubeClient | undefined;

/** One client per process: the runtime keeps module state between calls (keep-alive connections). */
function client(): KubeClient {
  sharedClient ??= KubeClient.fromDefault();
  return sharedClient;
}

const log = createLogger(undefined, process.env.LOG_LEVEL === 'debug' ? 'debug' : 'info').with({
  function: 'operatorApi',
});

/** The Kubeless handler: answers one HTTP request; the reply's status and headers go through `response`. */
export async function operatorApi(event: ApiEvent, context: { timeout?: number } = {}): Promise<unknown> {
  const request = event.extensions?.request;
  const response = event.extensions?.response;
  const budgetMs = Math.floor((context.timeout ?? 60) * 1000 * 0.9);
  const apiRequest = {
    method: request?.method ?? 'GET',
    // Express (Kubeless) rewrites `url` under a mounted router; `originalUrl` is what the caller asked for.
    url: request?.originalUrl ?? request?.url ?? '/',
    headers: request?.headers ?? {},
    body: event.data,
  };
  const deps = {
    client: client(),
    env: process.env,
    log,
    now: () => new Date(),
    signal: AbortSignal.timeout(budgetMs),
  };
  // The web UI under /ui/ (lib/api/ui/route.ts); everything else is the API.
  const answer: ApiResponse = isUiRequest(apiRequest.url)
    ? await handleUiRequest(apiRequest, deps)
    : await handleApiRequest(apiRequest, deps, API_ROUTES);
  if (answer.status !== 200) response?.status?.(answer.status);
  for (const [name, value] of Object.entries(answer.headers)) response?.set?.(name, value);
  if (answer.contentType) {
    response?.set?.('Content-Type', answer.contentType);
    return String(answer.body);
  }
  return answer.body;
}
