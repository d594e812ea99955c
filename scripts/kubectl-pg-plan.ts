/**
 * `kubectl pg plan`: the operator API's `POST /plan` (lib/api/plan-route.ts) run in the plugin's process with the
 * user's own kubeconfig: the same reads of the live objects (`observeCluster`) and the same pure plan the sync
 * computes. The API asks the API server whether the caller may read the cluster (SubjectAccessReview); here the
 * caller is the kubeconfig's user, as a SelfSubjectReview names them, and every read is made with their
 * credentials, so RBAC decides twice. The operator ConfigMap is found as the functions find it: `OPERATOR_NAMESPACE`
 * and `CONFIG_MAP_NAME` from the environment (defaults `default` and `postgres-operator`).
 *
 * Source: Kubernetes API reference authentication.k8s.io/v1 SelfSubjectReview (GA in 1.28).
 */
import type { KubeClient } from '../lib/k8s/client';
import { silentLogger } from '../lib/log/logger';
import type { Caller } from '../lib/api/access';
import { Refusal, type RouteContext } from '../lib/api/handle';
import { planRoute } from '../lib/api/plan-route';
import { readApiConfig } from '../lib/api/read';

/** @returns who the kubeconfig's credentials are, as the API server's authenticator says (SelfSubjectReview) */
async function whoAmI(client: KubeClient): Promise<Caller> {
  const review = await client.request<{
    status?: { userInfo?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> } };
  }>({
    verb: 'create',
    kind: 'SelfSubjectReview',
    method: 'POST',
    path: '/apis/authentication.k8s.io/v1/selfsubjectreviews',
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
  });
  const user = review.status?.userInfo;
  if (!user?.username) throw new Error('the API server did not say who these credentials are (SelfSubjectReview)');
  return {
    username: user.username,
    ...(user.uid ? { uid: user.uid } : {}),
    groups: user.groups ?? [],
    ...(user.extra ? { extra: user.extra } : {}),
  };
}

/**
 * @param manifest a `postgresql` manifest or an operator ConfigMap, parsed
 * @param namespace the namespace of a manifest that names none
 * @returns the plan preview, as `POST /plan` answers it; throws with the API's message when it refuses
 */
export async function planLocally(client: KubeClient, manifest: unknown, namespace: string): Promise<unknown> {
  const env = process.env;
  const ctx: RouteContext = {
    client,
    env,
    log: silentLogger,
    now: () => new Date(),
    caller: await whoAmI(client),
    api: await readApiConfig(client, env),
    request: { method: 'POST', url: `/plan?namespace=${encodeURIComponent(namespace)}`, headers: {}, body: manifest },
  };
  try {
    const answer = await planRoute(ctx);
    if ('json' in answer) return answer.json;
    throw new Error(String((answer.body as { error?: string }).error ?? `status ${answer.status}`));
  } catch (error) {
    if (error instanceof Refusal) throw new Error(error.message);
    throw error;
  }
}
