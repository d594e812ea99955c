/**
 * Who is calling the operator API, and what they may read: the caller's bearer token is checked with a TokenReview,
 * and each read with a SubjectAccessReview for that user, so Kubernetes RBAC decides who sees which clusters.
 * The API's own ServiceAccount only needs `create tokenreviews` and `create subjectaccessreviews`
 * (lib/registry/rbac.ts `REVIEW_ACCESS`). This is how kube-rbac-proxy guards a metrics endpoint.
 *
 * Sources: Kubernetes API reference authentication.k8s.io/v1 TokenReview, authorization.k8s.io/v1
 * SubjectAccessReview (resourceAttributes, nonResourceAttributes); "Authenticating" (bearer tokens);
 * https://github.com/brancz/kube-rbac-proxy (the same two reviews in front of /metrics).
 */
import type { KubeClient } from '../k8s/client';

/** The caller, as the API server's authenticator knows them (TokenReview `status.user`). */
export interface Caller {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

/** One request to authorize, as a SubjectAccessReview's `resourceAttributes` or `nonResourceAttributes`. */
export type AccessAttributes =
  | { verb: string; group: string; resource: string; subresource?: string; namespace?: string; name?: string }
  | { verb: string; path: string };

/** The API group and resource of `postgresql` objects: what the API's reads are authorized against. */
export const POSTGRESQLS = { group: 'acid.zalan.do', resource: 'postgresqls' } as const;

/**
 * @param header the `Authorization` header
 * @returns the bearer token, or undefined when the header is missing or not `Bearer <token>`
 */
export function bearerToken(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(value ?? '');
  return match?.[1];
}

/**
 * Asks the API server who holds `token` (POST /apis/authentication.k8s.io/v1/tokenreviews).
 * @returns the caller, or undefined when the token is not valid; throws KubeApiError when the review fails
 */
export async function authenticate(
  client: KubeClient,
  token: string,
  signal?: AbortSignal,
): Promise<Caller | undefined> {
  const review = await client.request<{
    status?: {
      authenticated?: boolean;
      user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
    };
  }>({
    verb: 'create',
    kind: 'TokenReview',
    method: 'POST',
    path: '/apis/authentication.k8s.io/v1/tokenreviews',
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } },
    signal,
  });
  const user = review.status?.user;
  if (!review.status?.authenticated || !user?.username) return undefined;
  return {
    username: user.username,
    ...(user.uid ? { uid: user.uid } : {}),
    groups: user.groups ?? [],
    ...(user.extra ? { extra: user.extra } : {}),
  };
}

/**
 * Asks the API server's authorizer whether `caller` may do `access` (POST
 * /apis/authorization.k8s.io/v1/subjectaccessreviews).
 * @returns whether it is allowed; throws KubeApiError when the review fails
 */
export async function isAllowed(
  client: KubeClient,
  caller: Caller,
  access: AccessAttributes,
  signal?: AbortSignal,
): Promise<boolean> {
  const attributes = 'path' in access ? { nonResourceAttributes: access } : { resourceAttributes: access };
  const review = await client.request<{ status?: { allowed?: boolean } }>({
    verb: 'create',
    kind: 'SubjectAccessReview',
    method: 'POST',
    path: '/apis/authorization.k8s.io/v1/subjectaccessreviews',
    body: {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: {
        user: caller.username,
        ...(caller.uid ? { uid: caller.uid } : {}),
        groups: caller.groups,
        ...(caller.extra ? { extra: caller.extra } : {}),
        ...attributes,
      },
    },
    signal,
  });
  return review.status?.allowed === true;
}

/**
 * The namespaces, of `namespaces`, in which `caller` may `get postgresqls`: all of them at once when the caller may
 * do it cluster-wide (one review), else one review per namespace.
 * @returns the allowed namespaces, in the order given; throws KubeApiError when a review fails
 */
export async function readableNamespaces(
  client: KubeClient,
  caller: Caller,
  namespaces: readonly string[],
  signal?: AbortSignal,
): Promise<string[]> {
  if (await isAllowed(client, caller, { verb: 'get', ...POSTGRESQLS }, signal)) return [...namespaces];
  const allowed = await Promise.all(
    namespaces.map((namespace) => isAllowed(client, caller, { verb: 'get', ...POSTGRESQLS, namespace }, signal)),
  );
  return namespaces.filter((_, i) => allowed[i]);
}
