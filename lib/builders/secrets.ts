/**
 * Credentials Secrets: one per role with a password (the superuser, the replication user, the connection pooler's
 * role while a pooler runs, and every valid manifest user, NOLOGIN ones included as in Zalando v1.15.1), named by
 * `secret_name_template`, with keys `username` and `password`.
 * Passwords are inputs: the caller passes the password already in the Secret, or a new one, so an existing
 * password is never replaced. Secrets are owned by the cluster (deleted with it) only with `enable_secrets_deletion`.
 *
 * Source: Zalando postgres-operator docs, reference/operator_parameters.md (secret_name_template,
 * super_username, replication_username, protected_role_names); Kubernetes API reference, core/v1 Secret.
 */
import type { OperatorConfig } from '../model/config';
import { anyPoolerEnabled, poolerSettings } from '../model/pooler';
import type { Postgresql } from '../model/postgresql';
import { normalizeUserFlags } from '../model/user-flags';
import { inheritedAnnotations, objectLabels } from './labels';
import { secretName } from './names';
import { childMetadata, type DesiredObject } from './object-meta';
import { poolerLabels } from './pooler';

/** The role name whose Secret carries the pooler's labels, whatever role the pooler uses. */
const POOLER_SECRET_USER = 'pooler';

/** A role that gets a credentials Secret, and why it was left out when it does not. */
export interface SecretUsers {
  users: string[];
  skipped: Array<{ user: string; reason: string }>;
}

/**
 * @returns the roles that get a Secret (system users first, the pooler's role among them while a pooler runs, then
 *   manifest users sorted), and the skipped ones
 */
export function secretUsers(cluster: Postgresql, config: OperatorConfig): SecretUsers {
  const system = [config.super_username, config.replication_username];
  if (anyPoolerEnabled(cluster.spec)) {
    const pooler = poolerSettings(cluster.spec, config).user;
    if (!system.includes(pooler)) system.push(pooler);
  }
  const users = [...system];
  const skipped: SecretUsers['skipped'] = [];
  for (const user of Object.keys(cluster.spec.users ?? {}).sort()) {
    if (system.includes(user)) {
      skipped.push({
        user,
        reason: `cannot initialize a new manifest robot role with the name of the system user ${JSON.stringify(user)}`,
      });
    } else if (config.protected_role_names.includes(user)) {
      skipped.push({
        user,
        reason: `cannot initialize a new manifest robot role with the name of the protected user ${JSON.stringify(user)}`,
      });
    } else {
      // NOLOGIN roles get one too, as in Zalando v1.15.1: its flag normalization drops NOLOGIN before
      // generateSingleUserSecret looks for it, so every valid manifest user has a Secret.
      if (normalizeUserFlags(cluster.spec.users?.[user]).ok) users.push(user);
    }
  }
  return { users, skipped };
}

/**
 * @param passwords username -> password for every user of `secretUsers` (existing passwords kept by the caller)
 * @returns core/v1 Secrets; throws when a password is missing (a caller bug, never user input)
 */
export function buildSecrets(
  cluster: Postgresql,
  config: OperatorConfig,
  users: readonly string[],
  passwords: Readonly<Record<string, string>>,
): DesiredObject[] {
  return users.map((user) => {
    const password = passwords[user];
    if (password === undefined) throw new Error(`no password for user ${user}`);
    // Zalando v1.15.1 (generateSingleUserSecret) labels the Secret of a role named `pooler` as a pooler object.
    const labels =
      user === POOLER_SECRET_USER ? poolerLabels(cluster, config, 'master', false) : objectLabels(cluster, config);
    const metadata = childMetadata(
      cluster,
      config,
      secretName(config, cluster.metadata.name, user),
      labels,
      inheritedAnnotations(cluster, config),
    );
    // Without enable_secrets_deletion the Secrets outlive the cluster, so the garbage collector must not own them.
    if (!config.enable_secrets_deletion) delete metadata.ownerReferences;
    return {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'Opaque',
      metadata,
      data: { username: Buffer.from(user).toString('base64'), password: Buffer.from(password).toString('base64') },
    };
  });
}
