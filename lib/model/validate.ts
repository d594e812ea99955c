/**
 * Turns a raw `postgresql` object into a validated cluster, or into the exact list of problems that make it
 * invalid. Structural checks come from the zod schema (the generated CRD holds the same ones, so `kubectl apply`
 * refuses them first); the semantic rules (cluster name, user names and flags, databases and owners, clone source,
 * standby, additional volumes, names the API server would refuse in a child) follow Zalando's operator and use its
 * messages where it has one (`rules.ts`). It runs at the start of every sync, before any child is written, so
 * everything a later step would refuse is found here, whether or not a master answers.
 *
 * Source: Zalando postgres-operator docs,
 * https://github.com/zalando/postgres-operator/blob/v1.15.1/docs/reference/cluster_manifest.md and the naming
 * rule of `enable_team_id_clustername_prefix` (reference/operator_parameters.md).
 */
import type { OperatorConfig } from './config';
import type { z } from 'zod';
import { logicalBackupProblems } from './logical-backup';
import { parseMaintenanceWindows } from './maintenance-window';
import { postgresqlObject, type Postgresql } from './postgresql';
import { normalizeUserFlags } from './user-flags';
import {
  additionalVolumeFindings,
  annotationProblems,
  databaseFindings,
  DEFAULT_ROLE_NAMES,
  podNameProblems,
  poolerProblems,
  standbyProblems,
  tlsFindings,
  userLengthProblems,
  volumeSizeProblems,
  type RoleNames,
  type RuleFindings,
} from './rules';
import { sidecarFindings } from './sidecars';
import { unsupportedFields } from './unsupported';

/** DNS-1035 label, as Kubernetes Service names require. */
export const DNS_1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
/** Longest cluster name: a Service name is at most 63 characters and the replica Service adds `-repl`. */
export const MAX_CLUSTER_NAME_LENGTH = 58;
/** Role names Zalando accepts for manifest users (lower case, digits, `-`, `_`, dot-separated parts). */
export const USER_NAME = /^[a-z0-9]([-_a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-_a-z0-9]*[a-z0-9])?)*$/;

/** Operator settings that change what counts as valid. */
export interface ValidationOptions {
  /** `enable_team_id_clustername_prefix`: the name must start with `<teamId>-`. */
  enableTeamIdClusterNamePrefix: boolean;
  /** `enable_sidecars` (default true): false makes a manifest with `sidecars` invalid, as Zalando refuses it. */
  enableSidecars?: boolean;
  /**
   * `enable_init_containers` (default true): false makes a manifest with `initContainers` invalid, as Zalando's
   * createStatefulSet refuses it; the deprecated `init_containers` are warned about and used, as Zalando does.
   */
  enableInitContainers?: boolean;
  /**
   * `super_username` and `replication_username`: a database owned by one of them is not warned about. Zalando's
   * defaults (`postgres`, `standby`) when not given.
   */
  roleNames?: RoleNames;
}

/** @returns the validation options the operator config gives (the name prefix rule, the system role names) */
export function validationOptions(config: OperatorConfig): ValidationOptions {
  return {
    enableTeamIdClusterNamePrefix: config.enable_team_id_clustername_prefix,
    enableSidecars: config.enable_sidecars,
    enableInitContainers: config.enable_init_containers,
    roleNames: { superUsername: config.super_username, replicationUsername: config.replication_username },
  };
}

/**
 * `enable_init_containers: false`: Zalando v1.15.1 (createStatefulSet) refuses `initContainers` ("initContainers
 * specified but disabled in configuration") but not the deprecated `init_containers`, which it then uses.
 */
function initContainerFindings(spec: Postgresql['spec'], enabled: boolean): RuleFindings {
  if (enabled) return { problems: [], warnings: [] };
  const message = 'initContainers specified but disabled in configuration (enable_init_containers is false)';
  if (spec.initContainers?.length) return { problems: [{ path: 'spec.initContainers', message }], warnings: [] };
  if (spec.init_containers?.length)
    return {
      problems: [],
      warnings: [
        {
          path: 'spec.init_containers',
          message: 'used although enable_init_containers is false (Zalando refuses only initContainers)',
        },
      ],
    };
  return { problems: [], warnings: [] };
}

/** A problem with the manifest: the field path (e.g. `spec.volume.size`) and what is wrong with it. */
export interface Problem {
  path: string;
  message: string;
}

export type ValidationResult =
  { ok: true; cluster: Postgresql; warnings: string[] } | { ok: false; problems: Problem[] };

/** Formats problems as one line each: `spec.volume.size: must be a quantity such as 500Mi or 1Gi`. */
export function describeProblems(problems: readonly Problem[]): string {
  return problems.map((p) => `${p.path}: ${p.message}`).join('; ');
}

/** @returns the value at `path` in `raw`, or undefined when a step is missing */
function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let node = raw;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

function zodProblems(error: z.ZodError, raw: unknown): Problem[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join('.') || '(object)',
    message: issue.code === 'invalid_type' && valueAt(raw, issue.path) === undefined ? 'is required' : issue.message,
  }));
}

function nameProblems(name: string, teamId: string, options: ValidationOptions): Problem[] {
  const problems: Problem[] = [];
  if (name.length > MAX_CLUSTER_NAME_LENGTH) {
    problems.push({
      path: 'metadata.name',
      message: `name cannot be longer than ${MAX_CLUSTER_NAME_LENGTH} characters`,
    });
  }
  if (!DNS_1035.test(name)) {
    problems.push({
      path: 'metadata.name',
      message: `name must confirm to DNS-1035, regex used for validation is "${DNS_1035.source}"`,
    });
  }
  if (teamId.trim() === '') problems.push({ path: 'spec.teamId', message: 'team name is empty' });
  else if (options.enableTeamIdClusterNamePrefix && !name.toLowerCase().startsWith(`${teamId.toLowerCase()}-`)) {
    problems.push({
      path: 'metadata.name',
      message: `name must match {TEAM}-{NAME} format. Got cluster name '${name}', team name '${teamId}'`,
    });
  } else if (options.enableTeamIdClusterNamePrefix && name.length < teamId.length + 2) {
    problems.push({ path: 'metadata.name', message: 'name is too short' });
  }
  return problems;
}

function userProblems(users: Record<string, string[] | null> | undefined): Problem[] {
  const problems: Problem[] = [];
  for (const [user, flags] of Object.entries(users ?? {})) {
    if (!USER_NAME.test(user)) {
      problems.push({ path: `spec.users.${user}`, message: `invalid username: ${JSON.stringify(user)}` });
      continue;
    }
    const result = normalizeUserFlags(flags);
    if (!result.ok)
      problems.push({
        path: `spec.users.${user}`,
        message: `invalid flags for user ${JSON.stringify(user)}: ${result.error}`,
      });
  }
  return problems;
}

function maintenanceWindowProblems(windows: readonly string[] | undefined): Problem[] {
  const parsed = parseMaintenanceWindows(windows ?? []);
  return parsed.ok
    ? []
    : parsed.errors.map(({ index, error }) => ({ path: `spec.maintenanceWindows.${index}`, message: error }));
}

function cloneProblems(clone: Postgresql['spec']['clone']): Problem[] {
  if (!clone || clone.timestamp) return [];
  if (clone.cluster.length > 63)
    return [{ path: 'spec.clone.cluster', message: 'clone cluster name must be no longer than 63 characters' }];
  if (!DNS_1035.test(clone.cluster)) {
    return [
      {
        path: 'spec.clone.cluster',
        message: `clone cluster name must confirm to DNS-1035, regex used for validation is "${DNS_1035.source}"`,
      },
    ];
  }
  return [];
}

/**
 * Validates a `postgresql` object as read from the API server (or from YAML).
 *
 * @param raw the object; anything that is not a valid manifest is reported, never thrown
 * @param options operator settings that change the rules
 * @returns the typed object and warnings (fields accepted but not acted on), or every problem found
 */
export function validatePostgresql(raw: unknown, options: ValidationOptions): ValidationResult {
  const parsed = postgresqlObject.safeParse(raw);
  if (!parsed.success) return { ok: false, problems: zodProblems(parsed.error, raw) };
  const cluster = parsed.data;
  const spec = cluster.spec;
  const databases = databaseFindings(spec, USER_NAME, options.roleNames ?? DEFAULT_ROLE_NAMES);
  const volumes = additionalVolumeFindings(spec.additionalVolumes);
  const sidecars = sidecarFindings(spec, options.enableSidecars !== false);
  const tls = tlsFindings(spec);
  const init = initContainerFindings(spec, options.enableInitContainers !== false);
  const problems = [
    ...nameProblems(cluster.metadata.name, spec.teamId, options),
    ...userProblems(spec.users),
    ...userLengthProblems(spec.users),
    ...databases.problems,
    ...cloneProblems(spec.clone),
    ...standbyProblems(spec.standby),
    ...maintenanceWindowProblems(spec.maintenanceWindows),
    ...logicalBackupProblems(spec),
    ...volumeSizeProblems(spec),
    ...volumes.problems,
    ...sidecars.problems,
    ...tls.problems,
    ...init.problems,
    ...annotationProblems(spec),
    ...podNameProblems(spec),
    ...poolerProblems(cluster.metadata.name, spec, USER_NAME),
  ];
  if (problems.length > 0) return { ok: false, problems };
  const warnings = [
    ...[...databases.warnings, ...volumes.warnings, ...sidecars.warnings, ...tls.warnings, ...init.warnings].map(
      (w) => `${w.path}: ${w.message}`,
    ),
    ...unsupportedFields(spec).map((field) => `spec.${field} is accepted but not acted on yet`),
  ];
  if (cluster.spec.useLoadBalancer !== undefined || cluster.spec.replicaLoadBalancer !== undefined) {
    warnings.push(
      'spec.useLoadBalancer and spec.replicaLoadBalancer are deprecated: use enableMasterLoadBalancer and enableReplicaLoadBalancer',
    );
  }
  return { ok: true, cluster, warnings };
}
