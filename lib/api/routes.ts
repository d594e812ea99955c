/**
 * The paths of the operator API and what each asks for, as Zalando's operator v1.15.1 serves them
 * (https://github.com/zalando/postgres-operator/blob/v1.15.1/pkg/apiserver/apiserver.go), plus this project's
 * `/metrics` and `/plan`. Pure.
 *
 * Zalando's cluster paths changed shape: v1.0.0–v1.8 had `/clusters/{team}/{namespace}/{cluster}/`, v1.9+ has
 * `/clusters/{namespace}/{cluster}/`. Both are answered. A trailing slash is optional, as in Zalando's patterns.
 */

/** What a request asks for. `team`, `namespace` and `cluster` are as written in the path. */
export type ApiRoute =
  | { kind: 'clusters' }
  | { kind: 'team'; team: string }
  | { kind: 'cluster'; namespace: string; cluster: string; team?: string }
  | { kind: 'logs'; namespace: string; cluster: string; team?: string }
  | { kind: 'databases' }
  | { kind: 'status' }
  | { kind: 'config' }
  | { kind: 'readyz' }
  | { kind: 'metrics' }
  | { kind: 'plan' }
  /** Zalando's worker paths: one worker here (`0`), busy while a cluster it may read is progressing */
  | { kind: 'workers'; worker: 'all' | number; what: 'status' | 'queue' | 'logs' };

/** A route the method or path does not name: `status` is the HTTP status to answer (404 or 405). */
export interface RouteMiss {
  kind: 'miss';
  status: 404 | 405;
  error: string;
}

// Zalando's patterns (apiserver.go: teamRe, namespaceRe, clusterRe).
const TEAM = /^[a-zA-Z][a-zA-Z0-9\-_]*$/;
const NAMESPACE = /^[a-z0-9]([-a-z0-9\-_]*[a-z0-9])?$/;
const CLUSTER = /^[a-zA-Z][a-zA-Z0-9\-_]*$/;

/**
 * The path prefix the combined host serves the function under (`/operator-api/...`, lib/runtime/combined.ts); the
 * API strips it, so the same paths work behind the combined host and on a host of its own.
 */
export const FUNCTION_PATH_PREFIX = '/operator-api';

/**
 * @param url the request URL's path and query (e.g. `/clusters/acid/?x=1`), with or without
 *   {@link FUNCTION_PATH_PREFIX}
 * @returns the path's segments, decoded, without the prefix and empty segments
 */
export function pathSegments(url: string): string[] {
  let path = url.split(/[?#]/, 1)[0]!;
  if (path === FUNCTION_PATH_PREFIX || path.startsWith(`${FUNCTION_PATH_PREFIX}/`))
    path = path.slice(FUNCTION_PATH_PREFIX.length);
  return path
    .split('/')
    .filter((s) => s !== '')
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    });
}

/**
 * @param method the HTTP method
 * @param url the request's path and query
 * @returns the route, or why none matches (404: unknown path, Zalando's message "page not found"; 405: a known
 *   path with another method)
 */
export function matchRoute(method: string, url: string): ApiRoute | RouteMiss {
  const s = pathSegments(url);
  const route = routeOf(s);
  if (!route) return { kind: 'miss', status: 404, error: 'page not found' };
  const wanted = route.kind === 'plan' ? 'POST' : 'GET';
  if (method !== wanted && !(wanted === 'GET' && method === 'HEAD'))
    return { kind: 'miss', status: 405, error: `${method} is not allowed here; use ${wanted}` };
  return route;
}

function routeOf(s: string[]): ApiRoute | undefined {
  const [first, ...rest] = s;
  if (rest.length === 0) {
    const fixed: Record<string, ApiRoute> = {
      clusters: { kind: 'clusters' },
      databases: { kind: 'databases' },
      status: { kind: 'status' },
      config: { kind: 'config' },
      readyz: { kind: 'readyz' },
      metrics: { kind: 'metrics' },
      plan: { kind: 'plan' },
    };
    return first === undefined ? undefined : fixed[first];
  }
  if (first === 'workers') {
    const [id, what] = rest;
    if (rest.length !== 2 || !(what === 'status' || what === 'queue' || what === 'logs')) return undefined;
    if (id === 'all' && what !== 'logs') return { kind: 'workers', worker: 'all', what };
    return /^\d+$/.test(id!) ? { kind: 'workers', worker: Number(id), what } : undefined;
  }
  if (first !== 'clusters') return undefined;
  const [a, b, c, d] = rest;
  if (rest.length === 1 && TEAM.test(a!)) return { kind: 'team', team: a! };
  // v1.9+: /clusters/{namespace}/{cluster}[/logs]
  if (rest.length === 2 && NAMESPACE.test(a!) && CLUSTER.test(b!))
    return { kind: 'cluster', namespace: a!, cluster: b! };
  if (rest.length === 3 && c === 'logs' && NAMESPACE.test(a!) && CLUSTER.test(b!))
    return { kind: 'logs', namespace: a!, cluster: b! };
  // v1.0.0–v1.8: /clusters/{team}/{namespace}/{cluster}[/logs]
  if (rest.length === 3 && TEAM.test(a!) && NAMESPACE.test(b!) && CLUSTER.test(c!))
    return { kind: 'cluster', team: a!, namespace: b!, cluster: c! };
  if (rest.length === 4 && d === 'logs' && TEAM.test(a!) && NAMESPACE.test(b!) && CLUSTER.test(c!))
    return { kind: 'logs', team: a!, namespace: b!, cluster: c! };
  return undefined;
}
