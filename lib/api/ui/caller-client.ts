/**
 * A Kubernetes client that acts as the UI's user: the API server of the function's own client, the user's bearer
 * token instead of the function's credentials. Every write the UI makes goes through it, so the API server
 * authenticates the user and Kubernetes RBAC decides (the function's own ServiceAccount has no write verb).
 *
 * Source: Kubernetes docs, "Authenticating" (bearer tokens); client-node KubeConfig `loadFromOptions`.
 */
import { KubeConfig } from '@kubernetes/client-node/dist/config.js';
import { KubeClient } from '../../k8s/client';

/** The field manager of the UI's writes, so `managedFields` tell them apart from the operator's own. */
export const UI_FIELD_MANAGER = 'postgres-operator-ui';

/**
 * @param base the function's own client: its current cluster (server URL, CA) is used, its user is not
 * @param token the caller's bearer token, as they sent it
 * @returns a client to close after the request
 */
export function callerClient(base: KubeClient, token: string): KubeClient {
  const cluster = base.kubeConfig.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [cluster],
    users: [{ name: 'ui-caller', token }],
    contexts: [{ name: 'ui-caller', cluster: cluster.name, user: 'ui-caller' }],
    currentContext: 'ui-caller',
  });
  return new KubeClient(config, { fieldManager: UI_FIELD_MANAGER });
}
