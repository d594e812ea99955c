/**
 * The connection pooler (PgBouncer) of a cluster as the manifest and the operator config ask for it: which poolers
 * run (master, replica), the role and schema they use, their mode, instance count, image and pool sizes. Every
 * other layer (builders, roles, sync) reads these decisions from here, so they agree on them. Pure.
 *
 * Source: Zalando postgres-operator v1.15.1 docs,
 * https://github.com/zalando/postgres-operator/blob/v1.15.1/docs/reference/cluster_manifest.md#connection-pooler
 * and https://github.com/zalando/postgres-operator/blob/v1.15.1/docs/reference/operator_parameters.md#connection-pooler-configuration;
 * pool sizes as its `getConnectionPoolerEnvVars` (pkg/cluster/connection_pooler.go) computes them.
 */
import type { PostgresqlSpec } from './postgresql';

/**
 * The operator config keys the pooler settings read (a subset of `OperatorConfig`, spelled out so this module does
 * not import the config module, whose value checks import the manifest rules, which import this).
 */
export interface PoolerConfig {
  connection_pooler_user: string;
  connection_pooler_schema: string;
  connection_pooler_mode: string;
  connection_pooler_image: string;
  connection_pooler_number_of_instances: number;
  connection_pooler_max_db_connections: number;
  super_username: string;
  replication_username: string;
  protected_role_names: readonly string[];
}

/** The two poolers: one in front of the master Service, one in front of the replica Service. */
export type PoolerRole = 'master' | 'replica';
export const POOLER_ROLES: readonly PoolerRole[] = ['master', 'replica'];

/** Value of the `application` label on every pooler object (it replaces `cluster_labels`' `application`). */
export const POOLER_APPLICATION = 'db-connection-pooler';
/** The label naming the pooler an object belongs to (`<cluster>-pooler` or `<cluster>-pooler-repl`). */
export const POOLER_LABEL = 'connection-pooler';
/** Port PgBouncer listens on, and the port of the database Services it connects to. */
export const POOLER_PORT = 5432;
/** Client connections each PgBouncer accepts (fixed, as in Zalando v1.15.1). */
export const POOLER_MAX_CLIENT_CONNECTIONS = 10000;
/** What `-pooler-repl` adds to the cluster name: with 63 characters for a Service name, the longest cluster is 51. */
export const POOLER_SUFFIX: Readonly<Record<PoolerRole, string>> = { master: '-pooler', replica: '-pooler-repl' };

/**
 * @returns whether a pooler of that role runs: the master one when `enableConnectionPooler` is true, or when it is
 *   not given and a `connectionPooler` section is; the replica one only when `enableReplicaConnectionPooler` is true
 */
export function poolerEnabled(spec: PostgresqlSpec, role: PoolerRole): boolean {
  if (role === 'replica') return spec.enableReplicaConnectionPooler === true;
  if (spec.enableConnectionPooler !== undefined) return spec.enableConnectionPooler === true;
  return spec.connectionPooler !== undefined && spec.connectionPooler !== null;
}

/** @returns whether any pooler runs (then the pooler role, its Secret and the lookup function exist) */
export const anyPoolerEnabled = (spec: PostgresqlSpec): boolean => POOLER_ROLES.some((r) => poolerEnabled(spec, r));

/** @returns the name of a pooler's Deployment, Service and `connection-pooler` label */
export const poolerName = (cluster: string, role: PoolerRole): string => `${cluster}${POOLER_SUFFIX[role]}`;

/** The pooler settings in force for a cluster, the manifest's `connectionPooler` over the config defaults. */
export interface PoolerSettings {
  /** the role PgBouncer logs in as (its Secret holds the password) */
  user: string;
  /** the schema holding `user_lookup(text)` in every database */
  schema: string;
  mode: string;
  image: string;
  /** pods per pooler, at least 1 */
  instances: number;
  /** the pool sizes of each pod: the database connections split over the pods */
  pool: { maxDBConnections: number; defaultSize: number; minSize: number; reserveSize: number };
  /** values given but not used, one sentence each, naming the field */
  notes: string[];
}

/**
 * @returns the settings in force. A `connectionPooler.user` that is the superuser, the replication user or a
 *   protected role is not used (the config's `connection_pooler_user` is, and a note says so), as in Zalando.
 */
export function poolerSettings(spec: PostgresqlSpec, config: PoolerConfig): PoolerSettings {
  const section = spec.connectionPooler ?? {};
  const notes: string[] = [];
  let user = config.connection_pooler_user;
  const given = section.user;
  if (given) {
    const why =
      given === config.super_username
        ? 'the superuser'
        : given === config.replication_username
          ? 'the replication user'
          : config.protected_role_names.includes(given)
            ? 'a protected role (protected_role_names)'
            : undefined;
    if (why) {
      notes.push(
        `spec.connectionPooler.user: ${JSON.stringify(given)} given, ${JSON.stringify(user)} used (it is ${why})`,
      );
    } else user = given;
  }
  const instances = Math.max(1, section.numberOfInstances ?? config.connection_pooler_number_of_instances);
  const maxDBConnections = Math.trunc(
    (section.maxDBConnections ?? config.connection_pooler_max_db_connections) / instances,
  );
  const defaultSize = Math.trunc(maxDBConnections / 2);
  const minSize = Math.trunc(defaultSize / 2);
  return {
    user,
    schema: section.schema || config.connection_pooler_schema,
    mode: section.mode || config.connection_pooler_mode,
    image: section.dockerImage || config.connection_pooler_image,
    instances,
    pool: { maxDBConnections, defaultSize, minSize, reserveSize: minSize },
    notes,
  };
}
