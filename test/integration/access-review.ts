/**
 * Asking the API server's authorizer what a ServiceAccount may do, with a SubjectAccessReview carrying the user
 * and groups a ServiceAccount token carries (Kubernetes "Authorization": checking API access).
 */
import { isAllowed } from '../../lib/api/access';
import type { KubeClient } from '../../lib/k8s/client';

/** One request to authorize, as in a SubjectAccessReview's resourceAttributes. */
export interface Access {
  verb: string;
  group?: string;
  resource: string;
  subresource?: string;
  name?: string;
  namespace?: string;
}

/**
 * @param account `namespace:name` of a ServiceAccount
 * @returns whether the API server's authorizer lets the account's token do it
 */
export async function canI(client: KubeClient, account: string, access: Access): Promise<boolean> {
  const [namespace] = account.split(':');
  const caller = {
    username: `system:serviceaccount:${account}`,
    groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'],
  };
  return isAllowed(client, caller, { group: '', ...access });
}
