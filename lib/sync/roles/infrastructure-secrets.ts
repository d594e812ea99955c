/**
 * Per-cluster Secrets of infrastructure roles: as Zalando's operator does, every infrastructure role with a password
 * gets a credentials Secret in the cluster's namespace, named by `secret_name_template` like the others, holding the
 * infrastructure password; when the Secret holds another password (a manifest user of the same name had one made
 * with its own), the infrastructure password replaces it, so the Secret always holds a password that logs in.
 * The builders' next pass keeps the password they find in the Secret, so the two never fight.
 *
 * Source: Zalando postgres-operator (generateUserSecrets for every role with a password; updateSecret: "updating
 * the secret ... from the infrastructure roles"), docs user.md ("Infrastructure roles").
 */
import type { V1Secret } from '@kubernetes/client-node';
import { buildSecrets } from '../../builders/secrets';
import { secretName } from '../../builders/names';
import type { DesiredObject } from '../../builders/object-meta';
import type { KubeObject } from '../../k8s/client';
import { sortKeys } from '../../model/canonical';
import { withDesiredHash } from '../../plan/plan';
import type { Postgresql } from '../../model/postgresql';
import type { DesiredRole } from '../../roles/types';
import type { SyncContext } from '../context';

const decoded = (value: string | undefined) =>
  value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8');

/**
 * @param roles the merged roles (the infrastructure roles that won their name are among them)
 * @param observed the children read by this sync (Secrets not there are read by name)
 * @returns the Secrets to write, with their role: those missing or holding another user name or password; throws KubeApiError
 */
export async function infrastructureSecretWrites(
  ctx: SyncContext,
  cluster: Postgresql,
  roles: readonly DesiredRole[],
  observed: ReadonlyMap<string, KubeObject>,
): Promise<Array<{ user: string; secret: DesiredObject }>> {
  const writes: Array<{ user: string; secret: DesiredObject }> = [];
  for (const role of roles) {
    if (role.origin !== 'infrastructure' || typeof role.password !== 'string') continue;
    const name = secretName(ctx.config, cluster.metadata.name, role.name);
    const existing: V1Secret | undefined =
      observed.get(`Secret/${name}`) ??
      (await ctx.client.get<V1Secret>({ kind: 'Secret', namespace: cluster.metadata.namespace, name }, ctx.signal));
    if (decoded(existing?.data?.password) === role.password && decoded(existing?.data?.username) === role.name)
      continue;
    const [secret] = buildSecrets(cluster, ctx.config, [role.name], { [role.name]: role.password });
    // As the cluster's own Secrets are written (sorted, with the desired-hash annotation), so that a manifest user's
    // Secret of the same name, written here, is what the builders' next pass wants too.
    writes.push({ user: role.name, secret: withDesiredHash(sortKeys(secret!)) });
  }
  return writes;
}
