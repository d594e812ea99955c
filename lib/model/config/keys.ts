/**
 * The table of operator configuration keys: name, kind, default, a one-line description, and whether this operator
 * acts on it, for every key of Zalando's operator ConfigMap (v1.0.0, v1.15.1 and v2.0.1).
 *
 * Source: Zalando operator docs, `docs/reference/operator_parameters.md` (ConfigMap form), the shipped
 * `manifests/configmap.yaml` of v1.0.0, v1.15.1 and v2.0.1, and the v2.0.1 `OperatorConfiguration` CRD for types and
 * sections. Defaults are the ConfigMap-form defaults of v2.0.1 (what the operator uses for a missing key), with
 * the deliberate choices listed in {@link OPERATOR_CONFIG_KEYS}.
 *
 * @module
 */

/**
 * The kind of a key decides how its ConfigMap string is decoded (see `syntax.ts`) and the TypeScript type of
 * its value in `OperatorConfig`:
 *
 * | kind | ConfigMap text | value |
 * |---|---|---|
 * | `bool` | `"true"` / `"false"` | `boolean` |
 * | `int` | `"8"`, `"-1"` | `number` (or `number \| null` for optional ints, whose default is `null`) |
 * | `string` | anything | `string` (trimmed) |
 * | `list` | `a,b,c` | `string[]` |
 * | `map` | `k1:v1,k2:v2` | `Record<string, string>` |
 * | `duration` | `300ms`, `5m`, `1h30m` | `number` of milliseconds |
 * | `days` | `90` | `number` of days |
 * | `enum` | one of the spec's `values` | `string` |
 */
export type ConfigKind = 'bool' | 'int' | 'string' | 'list' | 'map' | 'duration' | 'days' | 'enum';

/**
 * Where a key lives in the `OperatorConfiguration` custom resource (v2.0.1): `top` means directly under
 * `configuration`, any other name is the sub-object under `configuration`. `null` for keys that exist only in
 * the ConfigMap form.
 */
export type CrdSection =
  | 'top'
  | 'users'
  | 'major_version_upgrade'
  | 'kubernetes'
  | 'postgres_pod_resources'
  | 'timeouts'
  | 'load_balancer'
  | 'aws_or_gcp'
  | 'logical_backup'
  | 'debug'
  | 'teams_api'
  | 'logging_rest_api'
  | 'connection_pooler'
  | 'patroni'
  | 'scalyr';

interface BaseSpec {
  /** One line, lower case, no final period: what the key does (shown in docs and diagnostics). */
  readonly description: string;
  /** Section of the `OperatorConfiguration` CRD holding this key, `null` if it has none. */
  readonly section: CrdSection | null;
  /** Set for deprecated keys: what to use instead. A warning is reported when the key is present. */
  readonly deprecated?: string;
  /**
   * Set for keys that are accepted (parsed, validated, defaulted) but that no code acts on: why not, in a few
   * words. Such a key present in the ConfigMap is named in a Warning Event; the README lists them all. A unit test
   * keeps this true both ways (a key without it must be read by the operator's code, one with it must not).
   */
  readonly notActedOn?: string;
  /** A rule on the decoded value beyond its kind (see `checks.ts`): what a value must be so objects stay valid. */
  readonly check?: ValueCheck;
}

/**
 * Rules a decoded value must follow because it ends up in every cluster's objects:
 * - `image`: a non-empty container image;
 * - `quantity`: a non-negative Kubernetes resource quantity (`100m`, `1`, `500Mi`);
 * - `optional-quantity`: the same, or empty (no value);
 * - `label-key`: a Kubernetes label key (`[prefix/]name`);
 * - `labels`: a map of label keys to label values;
 * - `annotations`: a map whose keys are valid annotation keys (the label key syntax; values are free);
 * - `namespaces`: `""`, `*` or a comma list of namespace names (DNS labels);
 * - `role-name`: a non-empty PostgreSQL role name of at most 63 bytes (it names a role and a Secret);
 * - `schema-name`: a lower-case SQL identifier (it names a schema in every database and goes unquoted into
 *   PgBouncer's `auth_query`);
 * - `containers`: empty, or a JSON list of core/v1 Containers, each with a container name and an image;
 * - `container-images`: a map of container names to non-empty images;
 * - `regexps`: a list of regular expressions;
 * - `cron-schedule`: five cron fields a Kubernetes CronJob accepts.
 */
export type ValueCheck =
  | 'image'
  | 'quantity'
  | 'optional-quantity'
  | 'label-key'
  | 'labels'
  | 'annotations'
  | 'namespaces'
  | 'role-name'
  | 'schema-name'
  | 'containers'
  | 'container-images'
  | 'regexps'
  | 'cron-schedule';

/** A `true`/`false` flag. */
export interface BoolSpec extends BaseSpec {
  readonly kind: 'bool';
  readonly default: boolean;
}
/** An integer, optionally with a lower bound checked after parsing. */
export interface IntSpec extends BaseSpec {
  readonly kind: 'int';
  readonly default: number;
  readonly min?: number;
}
/** An integer that is unset (`null`) unless the ConfigMap gives it. */
export interface OptionalIntSpec extends BaseSpec {
  readonly kind: 'int';
  readonly default: null;
  readonly min?: number;
}
/** Free text (names, templates, images, quantities). */
export interface StringSpec extends BaseSpec {
  readonly kind: 'string';
  readonly default: string;
}
/** A comma-separated list. */
export interface ListSpec extends BaseSpec {
  readonly kind: 'list';
  readonly default: readonly string[];
}
/** A `k1:v1,k2:v2` map. */
export interface MapSpec extends BaseSpec {
  readonly kind: 'map';
  readonly default: Readonly<Record<string, string>>;
}
/** A Go duration, held in milliseconds. */
export interface DurationSpec extends BaseSpec {
  readonly kind: 'duration';
  readonly default: number;
}
/** A whole number of days. */
export interface DaysSpec extends BaseSpec {
  readonly kind: 'days';
  readonly default: number;
}
/** One of a fixed set of words (case-sensitive). */
export interface EnumSpec extends BaseSpec {
  readonly kind: 'enum';
  readonly values: readonly string[];
  readonly default: string;
}

/** The description of one configuration key: its kind, default (as a decoded value), section and meaning. */
export type ConfigKeySpec =
  BoolSpec | IntSpec | OptionalIntSpec | StringSpec | ListSpec | MapSpec | DurationSpec | DaysSpec | EnumSpec;

type Extra = { readonly deprecated?: string; readonly check?: ValueCheck };

/** Marks a key as accepted but not acted on, saying why (`BaseSpec.notActedOn`). */
const notActedOn = <S extends ConfigKeySpec>(reason: string, spec: S): S => ({ ...spec, notActedOn: reason });

// Why keys are accepted but not acted on (facts about this operator; the README table is generated from these).
const LOOP = 'no worker pool or resync timer: each event is one function call, periodicSync runs on its own schedule';
const CRD = 'the CRD is installed at deploy time (manifests/postgresql.crd.yaml), never by the operator';
const LOG_LEVEL = 'the log level comes from env LOG_LEVEL';
const API_PORT =
  "the operator API is the operator-api function, served where its platform serves functions: FUNC_PORT (8080, api_port's default) on its own host and Service, or under /operator-api/ on the combined host; a port read from the ConfigMap on each call can move neither a listener nor a generated Service";
const HISTORY =
  "the operator API keeps no state: there is no /history; a cluster's steps are its Events (/clusters/{namespace}/{cluster}/logs/)";
const NOT_YET = 'not implemented yet';
const DRAIN = 'a drain moves a master one step per call, without an overall timeout';
const NODE_PORT = 'NodePort Services come only from the manifest flags, not from config defaults';
const DEPRECATED_SWITCH = 'ignored, as it is deprecated';
const EBS = 'EBS volumes are not managed';
/** Zalando v1.15.1 docs, "Scalyr options (deprecated)". */
const SCALYR_DEPRECATED = 'Zalando deprecates the Scalyr options: define the sidecar in "sidecars" instead';
const WAITS = 'no call waits in a loop: each takes one step and is called again, within the function deadline';

const bool = (def: boolean, section: CrdSection | null, description: string, extra: Extra = {}): BoolSpec => ({
  kind: 'bool',
  default: def,
  section,
  description,
  ...extra,
});
const int = (
  def: number,
  section: CrdSection | null,
  description: string,
  extra: Extra & { min?: number } = {},
): IntSpec => ({ kind: 'int', default: def, section, description, ...extra });
const optionalInt = (
  section: CrdSection | null,
  description: string,
  extra: Extra & { min?: number } = {},
): OptionalIntSpec => ({ kind: 'int', default: null, section, description, ...extra });
const str = (def: string, section: CrdSection | null, description: string, extra: Extra = {}): StringSpec => ({
  kind: 'string',
  default: def,
  section,
  description,
  ...extra,
});
const list = (
  def: readonly string[],
  section: CrdSection | null,
  description: string,
  extra: Extra = {},
): ListSpec => ({ kind: 'list', default: def, section, description, ...extra });
const map = (
  def: Readonly<Record<string, string>>,
  section: CrdSection | null,
  description: string,
  extra: Extra = {},
): MapSpec => ({ kind: 'map', default: def, section, description, ...extra });
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const duration = (ms: number, section: CrdSection | null, description: string, extra: Extra = {}): DurationSpec => ({
  kind: 'duration',
  default: ms,
  section,
  description,
  ...extra,
});
const days = (def: number, section: CrdSection | null, description: string, extra: Extra = {}): DaysSpec => ({
  kind: 'days',
  default: def,
  section,
  description,
  ...extra,
});
const oneOf = <const V extends readonly string[]>(
  values: V,
  def: V[number],
  section: CrdSection | null,
  description: string,
  extra: Extra = {},
): EnumSpec => ({ kind: 'enum', values, default: def, section, description, ...extra });

/**
 * Every operator configuration key, by its Zalando snake_case name.
 *
 * Coverage: all keys of the v1.0.0, v1.15.1 and v2.0.1 reference ConfigMaps (including the commented-out
 * examples), all keys of the v2.0.1 `OperatorConfiguration` CRD that have a ConfigMap form, and the v1.0.0 Scalyr
 * keys. Keys of v1.15.1 that v2.0.1 dropped (`enable_crd_validation`, `enable_ebs_gp3_migration*`) take their
 * v1.15.1 defaults (https://github.com/zalando/postgres-operator/blob/v1.15.1/docs/reference/operator_parameters.md).
 *
 * Each key is either acted on (some code path reads it) or marked `notActedOn` with the reason; keys with a
 * `check` are refused when their value would make every cluster's objects invalid (see `checks.ts`).
 *
 * Defaults follow the v2.0.1 ConfigMap-form defaults, except these deliberate choices:
 * - `kubernetes_use_configmaps`: `false` (Patroni keeps its state in Endpoints, as the shipped v2.0.1 manifest
 *   and v1.0.0 do; the v2.0 code default is `true`);
 * - `default_cpu_request` `100m`, `default_memory_request` `100Mi`, `default_cpu_limit` `1`,
 *   `default_memory_limit` `500Mi` (v2.0.1 has no code default; these are the shipped manifest values);
 * - `min_cpu_limit`, `min_memory_limit`: `""` (no code default in v2.0.1; the shipped manifest says 250m/250Mi);
 * - `enable_master_load_balancer`: `true` (the ConfigMap code default; the shipped manifest sets `"false"`);
 * - `watched_namespace`: `""`, meaning the operator's own namespace.
 *
 * Value rules common to all keys (see `parseOperatorConfig`): a missing key takes its default; a key present
 * with an empty value is empty for `string`, `list` and `map` keys (as in Zalando) and takes its default for
 * the other kinds, where an empty string has no meaning.
 */
export const OPERATOR_CONFIG_KEYS = {
  // --- General / controller -------------------------------------------------------------------------------
  watched_namespace: str(
    '',
    'kubernetes',
    'namespaces to watch: a comma list, "*" for all, "" for the operator namespace; env WATCHED_NAMESPACE wins',
    { check: 'namespaces' },
  ),
  workers: notActedOn(
    LOOP,
    int(8, 'top', 'number of parallel sync workers; clusters are spread over them', { min: 1 }),
  ),
  resync_period: notActedOn(LOOP, duration(30 * MINUTE, 'top', 'interval of the periodic sync of every cluster')),
  repair_period: notActedOn(
    LOOP,
    duration(5 * MINUTE, 'top', 'interval of the periodic sync of clusters whose last sync failed'),
  ),
  docker_image: str('ghcr.io/zalando/spilo-18:4.1-p2', 'top', 'Spilo image of the Postgres pods', { check: 'image' }),
  etcd_host: str('', 'top', 'etcd address for Patroni; empty means Patroni uses the Kubernetes API as its DCS'),
  kubernetes_use_configmaps: bool(
    false,
    'top',
    'Patroni keeps leader state in ConfigMaps instead of Endpoints (the master Service then gets a selector)',
  ),
  min_instances: int(-1, 'top', 'lower bound for numberOfInstances; -1 disables it'),
  max_instances: int(-1, 'top', 'upper bound for numberOfInstances; -1 disables it'),
  ignore_instance_limits_annotation_key: str(
    '',
    'top',
    'postgresql annotation that, set to "true", disables min_instances/max_instances',
  ),
  sidecar_docker_images: map({}, 'top', 'global sidecars as name:image pairs, after the manifest sidecars', {
    deprecated: 'use "sidecars" (OperatorConfiguration) instead',
    check: 'container-images',
  }),
  sidecars: str(
    '',
    'top',
    'global sidecars: a JSON list of core/v1 Containers (Zalando reads this key only in the CRD form)',
    { check: 'containers' },
  ),
  enable_crd_registration: notActedOn(
    CRD,
    bool(true, 'top', 'the operator creates and updates the postgresql CRD itself'),
  ),
  // v1.15.1; gone in v2.0.1
  enable_crd_validation: notActedOn(
    CRD,
    bool(true, null, 'the registered CRD carries an OpenAPI schema; false is ignored', {
      deprecated: 'a CRD always has a schema',
    }),
  ),
  crd_categories: notActedOn(CRD, list(['all'], 'top', 'kubectl categories of the postgresql CRD')),
  enable_lazy_spilo_upgrade: bool(false, 'top', 'an image change updates the StatefulSet without rolling the pods'),
  // Not Zalando keys: they bound this operator's fleet-wide rolling updates (lib/sync/rollout-slots.ts), which
  // Zalando runs one cluster at a time inside its single process.
  rollout_clusters_at_once: int(
    1,
    null,
    'clusters whose pods are rolled (restarted, switched over) at the same time, fleet-wide',
    { min: 1 },
  ),
  rollout_cluster_delay: duration(
    0,
    null,
    'least time between one cluster finishing its rollout and another starting in its place',
  ),
  rollout_progress_deadline: duration(
    600_000,
    null,
    "time a cluster's rolling update may wait without taking a step before it is reported stalled (Warning Event RollingUpdateStalled); 0 never reports",
  ),
  enable_pgversion_env_var: bool(true, 'top', 'pass the Postgres version to Spilo as PGVERSION instead of bin_dir'),
  enable_spilo_wal_path_compat: bool(
    false,
    'top',
    'set ENABLE_WAL_PATH_COMPAT so Spilo finds WAL under the old bucket path',
  ),
  enable_team_id_clustername_prefix: bool(false, 'top', 'require cluster names to start with "<teamId>-"'),
  set_memory_request_to_limit: bool(false, 'top', 'raise the memory request of each container to its limit'),
  enable_shm_volume: bool(true, 'top', 'mount a memory-backed volume at /dev/shm in Postgres pods'),
  enable_maintenance_windows: bool(true, 'top', 'restrict disruptive operations to maintenance windows'),
  maintenance_windows: list([], 'top', 'global default maintenance windows such as "Sat:22:00-23:59"'),
  major_version_upgrade_mode: oneOf(
    ['off', 'manual', 'full'],
    'manual',
    'major_version_upgrade',
    'in-place major version upgrade: off, manual (on manifest change) or full (also to target_major_version)',
  ),
  major_version_upgrade_team_allow_list: list(
    [],
    'major_version_upgrade',
    'teams whose clusters are upgraded in place even when major_version_upgrade_mode is off',
  ),
  minimal_major_version: str(
    '14',
    'major_version_upgrade',
    'lowest Postgres major version still run; older ones are upgraded in full mode',
  ),
  target_major_version: str('18', 'major_version_upgrade', 'major version that full mode upgrades to'),
  enable_patroni_failsafe_mode: bool(false, 'patroni', 'default Patroni failsafe_mode for new clusters'),

  // --- Debug and the HTTP API ------------------------------------------------------------------------------
  debug_logging: notActedOn(LOG_LEVEL, bool(true, 'debug', 'log at debug level')),
  enable_database_access: bool(true, 'debug', 'connect to Postgres to manage roles and databases'),
  api_port: notActedOn(API_PORT, int(8080, 'logging_rest_api', 'port of the read-only operator HTTP API')),
  // The operator API's /logs/ answers at most this many of the cluster's newest Events (lib/api/handle.ts).
  ring_log_lines: int(100, 'logging_rest_api', 'number of log lines kept per cluster and worker for the HTTP API'),
  cluster_history_entries: notActedOn(
    HISTORY,
    int(1000, 'logging_rest_api', 'number of spec changes kept per cluster for the HTTP API'),
  ),

  // --- Users, authentication and teams ----------------------------------------------------------------------
  super_username: str('postgres', 'users', 'name of the Postgres superuser created by Spilo', { check: 'role-name' }),
  replication_username: str('standby', 'users', 'name of the replication user created by Spilo', {
    check: 'role-name',
  }),
  additional_owner_roles: list([], 'users', 'roles granted to the owner of every database'),
  enable_password_rotation: bool(
    false,
    'users',
    'rotate the passwords in the Secrets of manifest users (not database owners) every password_rotation_interval',
  ),
  password_rotation_interval: days(90, 'users', 'days between password rotations'),
  password_rotation_user_retention: days(
    180,
    'users',
    'days a rotation user is kept before it is dropped (at least twice password_rotation_interval)',
  ),
  secret_name_template: str(
    '{username}.{cluster}.credentials.{tprkind}.{tprgroup}',
    'kubernetes',
    'name template of user Secrets ({username}, {cluster}, {namespace}, {tprkind}, {tprgroup})',
  ),
  oauth_token_secret_name: str(
    'postgresql-operator',
    'kubernetes',
    'Secret ("name" or "namespace/name") holding the OAuth token for the Teams API',
  ),
  infrastructure_roles_secret_name: str(
    '',
    'kubernetes',
    'Secret ("name" or "namespace/name") with infrastructure roles in the legacy format',
  ),
  infrastructure_roles_secrets: str(
    '',
    'kubernetes',
    'infrastructure role definitions such as "secretname:x,userkey:u,passwordkey:p,rolekey:r"; parsed by the roles layer',
  ),
  enable_cross_namespace_secret: notActedOn(
    NOT_YET,
    bool(false, 'kubernetes', 'a user named "namespace.name" gets its Secret in that namespace'),
  ),
  enable_teams_api: bool(true, 'teams_api', 'create roles for the members of the owning team from the Teams API'),
  teams_api_url: str('https://teams.example.com/api/', 'teams_api', 'base URL of the Teams API'),
  enable_team_superuser: bool(
    false,
    'teams_api',
    'members of the owning team become superusers instead of team_admin_role members',
  ),
  team_admin_role: str('admin', 'teams_api', 'role granted to team members and, as ADMIN, to manifest roles'),
  team_api_role_configuration: map(
    { log_statement: 'all' },
    'teams_api',
    'ALTER ROLE ... SET parameters for roles of team members',
  ),
  pam_role_name: str('zalandos', 'teams_api', 'group role of human users that log in with PAM/OAuth2'),
  pam_configuration: str(
    'https://info.example.com/oauth2/tokeninfo?access_token= uid realm=/employees',
    'teams_api',
    'PAM OAuth2 configuration passed to Spilo as PAM_OAUTH2',
  ),
  protected_role_names: list(
    ['admin', 'cron_admin'],
    'teams_api',
    'role names that manifests, infrastructure roles and teams may not define',
  ),
  enable_admin_role_for_users: bool(true, 'teams_api', 'manifest roles get team_admin_role as ADMIN'),
  postgres_superuser_teams: list([], 'teams_api', 'teams whose members are superusers in every cluster'),
  enable_postgres_team_crd: bool(false, 'teams_api', 'read extra teams and members from PostgresTeam objects'),
  enable_postgres_team_crd_superusers: bool(false, 'teams_api', 'PostgresTeam objects may also add superuser teams'),
  enable_team_member_deprecation: bool(
    false,
    'teams_api',
    'roles of removed team members are renamed and set to NOLOGIN',
  ),
  role_deletion_suffix: str('_deleted', 'teams_api', 'suffix appended to the names of deprecated member roles'),

  // --- Kubernetes objects -----------------------------------------------------------------------------------
  pod_service_account_name: str(
    'postgres-pod',
    'kubernetes',
    'ServiceAccount of the Postgres pods, created in each namespace',
  ),
  pod_service_account_definition: str(
    '',
    'kubernetes',
    'JSON or YAML of that ServiceAccount; empty uses the built-in one',
  ),
  pod_service_account_role_binding_definition: str(
    '',
    'kubernetes',
    'JSON or YAML of its RoleBinding; empty uses the built-in one',
  ),
  cluster_labels: map({ application: 'spilo' }, 'kubernetes', 'labels put on every object of a cluster', {
    check: 'labels',
  }),
  cluster_name_label: str('cluster-name', 'kubernetes', 'label key whose value is the cluster name', {
    check: 'label-key',
  }),
  pod_role_label: str('spilo-role', 'kubernetes', 'label key Patroni sets to master or replica', {
    check: 'label-key',
  }),
  inherited_labels: list([], 'kubernetes', 'label keys copied from the postgresql object to its children'),
  inherited_annotations: list([], 'kubernetes', 'annotation keys copied from the postgresql object to its children'),
  downscaler_annotations: list(
    [],
    'kubernetes',
    'annotation keys or regular expressions (downscaler/.*) copied from the postgresql object to the StatefulSet',
    { check: 'regexps' },
  ),
  ignored_annotations: notActedOn(
    NOT_YET,
    list([], 'kubernetes', 'annotation keys ignored when comparing desired and running objects'),
  ),
  node_readiness_label: map(
    {},
    'kubernetes',
    'node labels required for Postgres pods; a node without them is being drained',
    { check: 'labels' },
  ),
  node_readiness_label_merge: oneOf(
    ['OR', 'AND'],
    'OR',
    'kubernetes',
    'how node_readiness_label combines with manifest node affinity: OR or AND',
  ),
  toleration: map({}, 'kubernetes', 'one toleration for Postgres pods, as key:…,operator:…,value:…,effect:…'),
  pod_environment_configmap: str(
    '',
    'kubernetes',
    'ConfigMap ("name" or "namespace/name") whose data become env vars of Postgres pods',
  ),
  pod_environment_secret: str('', 'kubernetes', 'Secret whose keys become env vars (secretKeyRef) of Postgres pods'),
  pod_priority_class_name: str('', 'kubernetes', 'default priorityClassName of Postgres pods'),
  pod_terminate_grace_period: duration(5 * MINUTE, 'kubernetes', 'terminationGracePeriod of Postgres pods'),
  pdb_name_format: str('postgres-{cluster}-pdb', 'kubernetes', 'name template of the PodDisruptionBudget ({cluster})'),
  enable_pod_disruption_budget: bool(
    true,
    'kubernetes',
    'protect the master with a PodDisruptionBudget; false sets minAvailable 0',
  ),
  pdb_master_label_selector: bool(true, 'kubernetes', 'the PodDisruptionBudget selects the master role label'),
  enable_pod_antiaffinity: bool(false, 'kubernetes', 'spread the pods of a cluster with pod anti-affinity'),
  pod_antiaffinity_topology_key: str('kubernetes.io/hostname', 'kubernetes', 'topology key of that anti-affinity'),
  pod_antiaffinity_preferred_during_scheduling: bool(
    false,
    'kubernetes',
    'make the anti-affinity preferred instead of required',
  ),
  pod_management_policy: oneOf(
    ['ordered_ready', 'parallel'],
    'ordered_ready',
    'kubernetes',
    'podManagementPolicy of the StatefulSet: ordered_ready or parallel',
  ),
  persistent_volume_claim_retention_policy: map(
    { when_deleted: 'retain', when_scaled: 'retain' },
    'kubernetes',
    'StatefulSet PVC retention: when_deleted and when_scaled, retain or delete',
  ),
  enable_persistent_volume_claim_deletion: bool(true, 'kubernetes', 'delete the PVCs when a cluster is deleted'),
  enable_secrets_deletion: bool(true, 'kubernetes', 'delete the user Secrets when a cluster is deleted'),
  delete_annotation_date_key: str(
    '',
    'kubernetes',
    "annotation that must carry today's date before a cluster may be deleted",
  ),
  delete_annotation_name_key: str(
    '',
    'kubernetes',
    'annotation that must carry the cluster name before it may be deleted',
  ),
  enable_owner_references: bool(false, 'kubernetes', 'children get an ownerReference to the postgresql object'),
  enable_finalizers: bool(false, 'kubernetes', 'clean up on delete through a finalizer on the postgresql object'),
  enable_init_containers: bool(true, 'kubernetes', 'allow initContainers in manifests (false: refused)'),
  enable_sidecars: bool(true, 'kubernetes', 'allow sidecars in manifests (global sidecars are always added)'),
  share_pgsocket_with_sidecars: bool(
    false,
    'kubernetes',
    'share /var/run/postgresql with all containers through a memory volume',
  ),
  spilo_runasuser: optionalInt('kubernetes', 'runAsUser of the Spilo container; unset leaves it to the image', {
    min: 0,
  }),
  spilo_runasgroup: optionalInt('kubernetes', 'runAsGroup of the Spilo container; unset leaves it to the image', {
    min: 0,
  }),
  spilo_fsgroup: optionalInt('kubernetes', 'fsGroup of Postgres pods; unset leaves it to the image', { min: 0 }),
  spilo_privileged: bool(false, 'kubernetes', 'run the Spilo container privileged'),
  spilo_allow_privilege_escalation: bool(true, 'kubernetes', 'allowPrivilegeEscalation of the Spilo container'),
  additional_pod_capabilities: list([], 'kubernetes', 'Linux capabilities added to the Spilo container'),
  cluster_domain: str('cluster.local', 'kubernetes', "cluster DNS domain used to reach a cluster's master Service"),
  storage_resize_mode: oneOf(
    ['pvc', 'ebs', 'mixed', 'off'],
    'pvc',
    'kubernetes',
    'how volumes grow: pvc, ebs, mixed or off',
  ),
  custom_pod_annotations: map({}, 'kubernetes', 'annotations put on every Postgres pod', {
    check: 'annotations',
  }),
  enable_readiness_probe: bool(false, 'kubernetes', "add a readiness probe on Patroni's /readiness endpoint"),
  master_pod_move_timeout: notActedOn(
    DRAIN,
    duration(20 * MINUTE, 'kubernetes', 'how long to keep trying to move a master off a drained node'),
  ),
  kube_iam_role: str('', 'aws_or_gcp', 'AWS IAM role put on Postgres pods as iam.amazonaws.com/role'),
  irsa_role_arn: str('', 'aws_or_gcp', 'IAM role ARN for the pod ServiceAccount (eks.amazonaws.com/role-arn)'),

  // --- Resources ----------------------------------------------------------------------------------------------
  default_cpu_request: str(
    '100m',
    'postgres_pod_resources',
    'CPU request of Postgres containers when the manifest gives none',
    { check: 'quantity' },
  ),
  default_memory_request: str(
    '100Mi',
    'postgres_pod_resources',
    'memory request of Postgres containers when the manifest gives none',
    { check: 'quantity' },
  ),
  default_cpu_limit: str(
    '1',
    'postgres_pod_resources',
    'CPU limit of Postgres containers when the manifest gives none',
    { check: 'quantity' },
  ),
  default_memory_limit: str(
    '500Mi',
    'postgres_pod_resources',
    'memory limit of Postgres containers when the manifest gives none',
    { check: 'quantity' },
  ),
  min_cpu_limit: str(
    '',
    'postgres_pod_resources',
    'lowest CPU limit of the Postgres container; empty means no minimum',
    { check: 'optional-quantity' },
  ),
  min_memory_limit: str(
    '',
    'postgres_pod_resources',
    'lowest memory limit of the Postgres container; empty means no minimum',
    { check: 'optional-quantity' },
  ),
  max_cpu_request: str(
    '',
    'postgres_pod_resources',
    'highest CPU request of the Postgres container; empty means no maximum',
    { check: 'optional-quantity' },
  ),
  max_memory_request: str(
    '',
    'postgres_pod_resources',
    'highest memory request of the Postgres container; empty means no maximum',
    { check: 'optional-quantity' },
  ),
  ignore_resources_limits_annotation_key: str(
    '',
    'top',
    'postgresql annotation that, set to "true", disables the resource minimums and maximums',
  ),

  // --- Load balancers and DNS -----------------------------------------------------------------------------
  db_hosted_zone: str('db.example.com', 'load_balancer', 'DNS zone substituted for {hostedzone}'),
  enable_master_load_balancer: bool(
    true,
    'load_balancer',
    'master Service is of type LoadBalancer unless the manifest says otherwise',
  ),
  enable_replica_load_balancer: bool(
    false,
    'load_balancer',
    'replica Service is of type LoadBalancer unless the manifest says otherwise',
  ),
  enable_master_pooler_load_balancer: bool(
    false,
    'load_balancer',
    'master pooler Service is of type LoadBalancer unless the manifest says otherwise',
  ),
  enable_replica_pooler_load_balancer: bool(
    false,
    'load_balancer',
    'replica pooler Service is of type LoadBalancer unless the manifest says otherwise',
  ),
  enable_master_node_port: notActedOn(NODE_PORT, bool(false, 'load_balancer', 'master Service is of type NodePort')),
  enable_replica_node_port: notActedOn(NODE_PORT, bool(false, 'load_balancer', 'replica Service is of type NodePort')),
  enable_master_pooler_node_port: notActedOn(
    NODE_PORT,
    bool(false, 'load_balancer', 'master pooler Service is of type NodePort'),
  ),
  enable_replica_pooler_node_port: notActedOn(
    NODE_PORT,
    bool(false, 'load_balancer', 'replica pooler Service is of type NodePort'),
  ),
  enable_load_balancer: notActedOn(
    DEPRECATED_SWITCH,
    bool(false, null, 'old switch for load balancers; ignored', {
      deprecated: 'use enable_master_load_balancer and enable_replica_load_balancer',
    }),
  ),
  master_dns_name_format: str(
    '{cluster}.{namespace}.{hostedzone}',
    'load_balancer',
    'external-dns name template of the master Service ({cluster}, {namespace}, {team}, {hostedzone})',
  ),
  replica_dns_name_format: str(
    '{cluster}-repl.{namespace}.{hostedzone}',
    'load_balancer',
    'external-dns name template of the replica Service',
  ),
  master_legacy_dns_name_format: str(
    '{cluster}.{team}.{hostedzone}',
    'load_balancer',
    'older master DNS template, added when the cluster name carries the team prefix',
  ),
  replica_legacy_dns_name_format: str(
    '{cluster}-repl.{team}.{hostedzone}',
    'load_balancer',
    'older replica DNS template, added when the cluster name carries the team prefix',
  ),
  custom_service_annotations: map({}, 'load_balancer', 'annotations put on the master and replica Services', {
    check: 'annotations',
  }),
  external_traffic_policy: oneOf(
    ['Cluster', 'Local'],
    'Cluster',
    'load_balancer',
    'externalTrafficPolicy of load-balanced Services: Cluster or Local',
  ),

  // --- Backups, WAL and cloud credentials (passed through to Spilo) ----------------------------------------
  aws_region: notActedOn(EBS, str('eu-central-1', 'aws_or_gcp', 'AWS region of the EBS volumes (not of backups)')),
  // v1.15.1; gone in v2.0.1
  enable_ebs_gp3_migration: notActedOn(
    EBS,
    bool(false, 'aws_or_gcp', 'migrate gp2 EBS volumes up to enable_ebs_gp3_migration_max_size to gp3'),
  ),
  enable_ebs_gp3_migration_max_size: notActedOn(
    EBS,
    int(1000, 'aws_or_gcp', 'largest volume in GB that enable_ebs_gp3_migration migrates'),
  ),
  wal_s3_bucket: str('', 'aws_or_gcp', 'S3 bucket for WAL archiving and base backups'),
  log_s3_bucket: str('', 'aws_or_gcp', 'S3 bucket for Postgres logs'),
  wal_gs_bucket: str('', 'aws_or_gcp', 'Google Cloud Storage bucket for WAL archiving'),
  gcp_credentials: str('', 'aws_or_gcp', 'path of the Google Cloud credentials file in the pod'),
  wal_az_storage_account: str('', 'aws_or_gcp', 'Azure storage account for WAL archiving'),
  additional_secret_mount: str(
    '',
    'aws_or_gcp',
    'Secret mounted into every container of the Postgres pods (a volume of its name); empty: none',
  ),
  additional_secret_mount_path: str('/meta/credentials', 'aws_or_gcp', 'absolute mount path of that Secret'),

  // --- Logical backup -------------------------------------------------------------------------------------
  // Defaults of Zalando v1.15.1's ConfigMap form (pkg/util/config/config.go): its image, and no S3 encryption
  // unless asked for. The history limits and the TTL are v2.0.1's keys (v1.15.1 leaves Kubernetes' defaults).
  logical_backup_schedule: str('30 00 * * *', 'logical_backup', 'cron schedule of the logical backup job', {
    check: 'cron-schedule',
  }),
  logical_backup_docker_image: str(
    'ghcr.io/zalando/postgres-operator/logical-backup:v1.15.1',
    'logical_backup',
    'image of the logical backup job',
    { check: 'image' },
  ),
  logical_backup_job_prefix: str('logical-backup-', 'logical_backup', 'name prefix of the logical backup CronJob'),
  logical_backup_provider: oneOf(
    ['s3', 'gcs', 'az'],
    's3',
    'logical_backup',
    'storage of logical backups: s3, gcs or az',
  ),
  logical_backup_s3_bucket: str('', 'logical_backup', 'S3 bucket of logical backups'),
  logical_backup_s3_bucket_prefix: str('spilo', 'logical_backup', 'key prefix inside that bucket'),
  logical_backup_s3_region: str('', 'logical_backup', 'S3 region of that bucket'),
  logical_backup_s3_endpoint: str('', 'logical_backup', 'S3 endpoint URL'),
  logical_backup_s3_access_key_id: str('', 'logical_backup', 'S3 access key id'),
  logical_backup_s3_secret_access_key: str('', 'logical_backup', 'S3 secret access key'),
  logical_backup_s3_sse: str('', 'logical_backup', 'S3 server-side encryption algorithm, e.g. AES256'),
  logical_backup_s3_retention_time: str(
    '',
    'logical_backup',
    'how long logical backups are kept, e.g. "1 month"; empty keeps all',
  ),
  logical_backup_google_application_credentials: str(
    '',
    'logical_backup',
    'Google credentials for logical backups to GCS',
  ),
  logical_backup_azure_storage_account_name: str('', 'logical_backup', 'Azure storage account of logical backups'),
  logical_backup_azure_storage_container: str('', 'logical_backup', 'Azure storage container of logical backups'),
  logical_backup_azure_storage_account_key: str('', 'logical_backup', 'Azure storage account key'),
  logical_backup_cpu_request: str(
    '',
    'logical_backup',
    'CPU request of the logical backup job; empty uses default_cpu_request',
    { check: 'optional-quantity' },
  ),
  logical_backup_cpu_limit: str(
    '',
    'logical_backup',
    'CPU limit of the logical backup job; empty uses default_cpu_limit',
    {
      check: 'optional-quantity',
    },
  ),
  logical_backup_memory_request: str(
    '',
    'logical_backup',
    'memory request of the logical backup job; empty uses default_memory_request',
    { check: 'optional-quantity' },
  ),
  logical_backup_memory_limit: str(
    '',
    'logical_backup',
    'memory limit of the logical backup job; empty uses default_memory_limit',
    { check: 'optional-quantity' },
  ),
  logical_backup_cronjob_environment_secret: str(
    '',
    'logical_backup',
    'Secret whose keys become env vars of the logical backup job',
  ),
  logical_backup_successful_jobs_history_limit: int(3, 'logical_backup', 'successful logical backup jobs kept', {
    min: 0,
  }),
  logical_backup_failed_jobs_history_limit: int(3, 'logical_backup', 'failed logical backup jobs kept', { min: 0 }),
  logical_backup_ttl_seconds_after_finished: int(
    86400,
    'logical_backup',
    'seconds a finished logical backup job is kept',
    { min: 0 },
  ),

  // --- Connection pooler ----------------------------------------------------------------------------------
  connection_pooler_number_of_instances: int(2, 'connection_pooler', 'default number of pooler pods', { min: 1 }),
  connection_pooler_schema: str('pooler', 'connection_pooler', "schema holding the pooler's user lookup function", {
    check: 'schema-name',
  }),
  connection_pooler_user: str(
    'pooler',
    'connection_pooler',
    'role the pooler connects as; must differ from super_username',
    { check: 'role-name' },
  ),
  connection_pooler_image: str(
    'ghcr.io/zalando/postgres-operator/pgbouncer:v2.0.1',
    'connection_pooler',
    'pgbouncer image',
    {
      check: 'image',
    },
  ),
  connection_pooler_mode: oneOf(
    ['transaction', 'session'],
    'transaction',
    'connection_pooler',
    'pooling mode: transaction or session',
  ),
  connection_pooler_max_db_connections: int(
    60,
    'connection_pooler',
    'connections the pooler opens to Postgres, split over its pods',
  ),
  connection_pooler_default_cpu_request: str('500m', 'connection_pooler', 'CPU request of pooler pods', {
    check: 'optional-quantity',
  }),
  connection_pooler_default_memory_request: str('100Mi', 'connection_pooler', 'memory request of pooler pods', {
    check: 'optional-quantity',
  }),
  connection_pooler_default_cpu_limit: str('1', 'connection_pooler', 'CPU limit of pooler pods', {
    check: 'optional-quantity',
  }),
  connection_pooler_default_memory_limit: str('100Mi', 'connection_pooler', 'memory limit of pooler pods', {
    check: 'optional-quantity',
  }),

  // --- Scalyr log shipping (v1.0.0) -------------------------------------------------------------------------
  scalyr_api_key: str(
    '',
    'scalyr',
    'Scalyr API key; with scalyr_image it adds the Scalyr sidecar (env SCALYR_API_KEY wins)',
    { deprecated: SCALYR_DEPRECATED },
  ),
  scalyr_image: str('', 'scalyr', 'image of the Scalyr sidecar; empty: no Scalyr sidecar', {
    deprecated: SCALYR_DEPRECATED,
  }),
  scalyr_server_url: str('https://upload.eu.scalyr.com', 'scalyr', 'Scalyr upload URL (SCALYR_SERVER_URL)', {
    deprecated: SCALYR_DEPRECATED,
  }),
  scalyr_cpu_request: str('100m', 'scalyr', 'CPU request of the Scalyr sidecar; empty uses default_cpu_request', {
    deprecated: SCALYR_DEPRECATED,
    check: 'optional-quantity',
  }),
  scalyr_memory_request: str(
    '50Mi',
    'scalyr',
    'memory request of the Scalyr sidecar; empty uses default_memory_request',
    { deprecated: SCALYR_DEPRECATED, check: 'optional-quantity' },
  ),
  scalyr_cpu_limit: str('1', 'scalyr', 'CPU limit of the Scalyr sidecar; empty uses default_cpu_limit', {
    deprecated: SCALYR_DEPRECATED,
    check: 'optional-quantity',
  }),
  scalyr_memory_limit: str('500Mi', 'scalyr', 'memory limit of the Scalyr sidecar; empty uses default_memory_limit', {
    deprecated: SCALYR_DEPRECATED,
    check: 'optional-quantity',
  }),

  // --- Timeouts -------------------------------------------------------------------------------------------
  ready_wait_interval: notActedOn(
    CRD,
    duration(4 * SECOND, 'timeouts', 'interval between checks that a CRD is established'),
  ),
  ready_wait_timeout: notActedOn(
    CRD,
    duration(30 * SECOND, 'timeouts', 'how long to wait for a CRD to be established'),
  ),
  resource_check_interval: notActedOn(
    WAITS,
    duration(3 * SECOND, 'timeouts', 'interval between checks for Kubernetes objects'),
  ),
  resource_check_timeout: notActedOn(
    WAITS,
    duration(10 * MINUTE, 'timeouts', 'how long to wait for a Kubernetes object to appear or be ready'),
  ),
  pod_label_wait_timeout: notActedOn(
    WAITS,
    duration(10 * MINUTE, 'timeouts', 'how long to wait for a new pod to get its role label'),
  ),
  pod_deletion_wait_timeout: notActedOn(
    WAITS,
    duration(10 * MINUTE, 'timeouts', 'how long to wait for a pod to be deleted'),
  ),
  patroni_api_check_interval: notActedOn(
    WAITS,
    duration(1 * SECOND, 'timeouts', 'interval between retries of Patroni API calls'),
  ),
  patroni_api_check_timeout: notActedOn(
    WAITS,
    duration(5 * SECOND, 'timeouts', 'how long to retry a Patroni API call'),
  ),
} satisfies Record<string, ConfigKeySpec>;

/** The name of a configuration key, e.g. `"workers"`. */
export type OperatorConfigKey = keyof typeof OPERATOR_CONFIG_KEYS;

/** All key names, in table order. */
export const OPERATOR_CONFIG_KEY_NAMES: readonly OperatorConfigKey[] = Object.keys(
  OPERATOR_CONFIG_KEYS,
) as OperatorConfigKey[];

/**
 * Looks up the spec of a key.
 *
 * @param key - any string, e.g. a ConfigMap data key
 * @returns the spec, or `undefined` for a key the table does not know
 */
export function configKeySpec(key: string): ConfigKeySpec | undefined {
  return Object.hasOwn(OPERATOR_CONFIG_KEYS, key) ? OPERATOR_CONFIG_KEYS[key as OperatorConfigKey] : undefined;
}
