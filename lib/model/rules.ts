/**
 * The rules of a `postgresql` manifest that its schema cannot say, checked before any child object is written: what
 * a later step (the role and database step, the API server when it receives a child) would refuse, and what
 * Zalando's operator only warns about. Each finding names the manifest field.
 *
 * Sources: Zalando postgres-operator docs,
 * https://github.com/zalando/postgres-operator/blob/v1.15.1/docs/reference/cluster_manifest.md (users, databases,
 * additionalVolumes, standby); PostgreSQL docs, "Identifiers and Key Words"
 * (https://www.postgresql.org/docs/current/sql-syntax-lexical.html#SQL-SYNTAX-IDENTIFIERS: NAMEDATALEN - 1 = 63
 * bytes, longer names are truncated); Kubernetes API conventions for names (DNS-1123 labels and subdomains) and
 * annotation keys (qualified names).
 */
import type { Postgresql } from './postgresql';
import { DNS_1123_LABEL, QUALIFIED_NAME } from './labels';
import { POOLER_ROLES, POOLER_SUFFIX, poolerEnabled, poolerName } from './pooler';
import { parseQuantity } from './quantity';

/** A problem or a warning about one field: its path (e.g. `spec.databases.foo`) and what is wrong. */
export interface Finding {
  path: string;
  message: string;
}

/** What the rules find: problems make the manifest invalid, warnings are reported once and the field is skipped. */
export interface RuleFindings {
  problems: Finding[];
  warnings: Finding[];
}

/** Role names a rule needs: the system users of the operator config (Zalando's defaults when not given). */
export interface RoleNames {
  /** `super_username` (default `postgres`) */
  superUsername: string;
  /** `replication_username` (default `standby`) */
  replicationUsername: string;
}

/** Zalando's defaults of `super_username` and `replication_username`. */
export const DEFAULT_ROLE_NAMES: RoleNames = { superUsername: 'postgres', replicationUsername: 'standby' };

/** Longest identifier PostgreSQL keeps (NAMEDATALEN - 1), in bytes. */
export const MAX_IDENTIFIER_BYTES = 63;
/** Database names Zalando's operator creates (a plain SQL identifier). */
export const DATABASE_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
/** Databases every cluster has; the operator neither creates nor re-owns them. */
export const SYSTEM_DATABASES: readonly string[] = ['postgres', 'template0', 'template1'];
/** DNS-1123 subdomain (priority class, scheduler and storage class names): at most 253 characters. */
export const DNS_1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** Where the data volume is mounted; an additional volume there is skipped. */
export const PGDATA_MOUNT_PATH = '/home/postgres/pgdata';
/** Volume names the database pods use themselves. */
const RESERVED_VOLUMES = ['pgdata', 'dshm'];
/** The Spilo container's name; an init container cannot have it. */
const POSTGRES_CONTAINER = 'postgres';

const utf8Length = (text: string): number => new TextEncoder().encode(text).length;
const quoted = (text: string): string => JSON.stringify(text);

/**
 * @param kind `role` or `database`, for the message
 * @returns why `name` is not a PostgreSQL identifier the operator can use, or undefined
 */
export function identifierProblem(kind: string, name: string, pattern: RegExp): string | undefined {
  if (name === '') return `${kind} name is empty`;
  const bytes = utf8Length(name);
  if (bytes > MAX_IDENTIFIER_BYTES)
    return `${kind} name ${quoted(name)} is ${bytes} bytes long; PostgreSQL keeps at most ${MAX_IDENTIFIER_BYTES}`;
  if (!pattern.test(name)) return `invalid ${kind} name ${quoted(name)}: must match ${pattern.source}`;
  return undefined;
}

/** @returns why `name` is not a DNS-1123 name of at most `max` characters, or undefined */
function dnsProblem(name: string, pattern: RegExp, max: number, what: string): string | undefined {
  if (name.length > max) return `${what} ${quoted(name)} is longer than ${max} characters`;
  if (!pattern.test(name)) return `${what} ${quoted(name)} must match ${pattern.source}`;
  return undefined;
}

/** @returns why `key` cannot be an annotation key (`[prefix/]name`), or undefined */
export function annotationKeyProblem(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash < 0 ? undefined : key.slice(0, slash);
  const name = slash < 0 ? key : key.slice(slash + 1);
  if (prefix !== undefined && (dnsProblem(prefix, DNS_1123_SUBDOMAIN, 253, 'prefix') || prefix.includes('/')))
    return `annotation key ${quoted(key)}: the prefix must be a DNS subdomain such as example.com`;
  if (name === '' || name.length > 63 || !QUALIFIED_NAME.test(name))
    return `annotation key ${quoted(key)}: the name must be at most 63 characters matching ${QUALIFIED_NAME.source}`;
  return undefined;
}

/** `spec.users` beyond the name pattern: at most 63 bytes, as PostgreSQL keeps role names. */
export function userLengthProblems(users: Postgresql['spec']['users']): Finding[] {
  return Object.keys(users ?? {}).flatMap((user) => {
    const bytes = utf8Length(user);
    return bytes > MAX_IDENTIFIER_BYTES
      ? [
          {
            path: `spec.users.${user}`,
            message: `user name is ${bytes} bytes long; PostgreSQL keeps at most ${MAX_IDENTIFIER_BYTES}`,
          },
        ]
      : [];
  });
}

/**
 * `spec.databases` (name -> owner): the name a plain identifier of at most 63 bytes and not a system database, the
 * owner a role name. An owner that is neither a manifest user nor a system user is a warning (Zalando creates
 * such a database only when a role of that name exists): it may come from infrastructure roles or the Teams API.
 * @param userName the role name rule of manifest users
 */
export function databaseFindings(spec: Postgresql['spec'], userName: RegExp, roleNames: RoleNames): RuleFindings {
  const problems: Finding[] = [];
  const warnings: Finding[] = [];
  const users = new Set(Object.keys(spec.users ?? {}));
  for (const [database, owner] of Object.entries(spec.databases ?? {})) {
    const path = `spec.databases.${database}`;
    const nameProblem =
      identifierProblem('database', database, DATABASE_NAME) ??
      (SYSTEM_DATABASES.includes(database)
        ? `${quoted(database)} is a system database: the operator neither creates nor re-owns it`
        : undefined);
    if (nameProblem) problems.push({ path, message: nameProblem });
    const ownerProblem = identifierProblem('owner', owner, userName);
    if (ownerProblem) problems.push({ path, message: ownerProblem });
    else if (!users.has(owner) && owner !== roleNames.superUsername && owner !== roleNames.replicationUsername)
      warnings.push({
        path,
        message: `owner ${quoted(owner)} is not in spec.users: the database is created only when a role of that name comes from another source (infrastructure roles, Teams API)`,
      });
  }
  return { problems, warnings };
}

/**
 * `spec.additionalVolumes`: names are DNS-1123 labels, unique, not `pgdata`/`dshm` (the API server refuses the
 * StatefulSet otherwise). A mount path taken by an earlier entry, or the data directory, is skipped with a warning.
 */
export function additionalVolumeFindings(volumes: Postgresql['spec']['additionalVolumes']): RuleFindings {
  const problems: Finding[] = [];
  const warnings: Finding[] = [];
  const names = new Set<string>();
  const paths = new Map<string, number>();
  (volumes ?? []).forEach((volume, index) => {
    const path = `spec.additionalVolumes.${index}`;
    const nameProblem =
      dnsProblem(volume.name, DNS_1123_LABEL, 63, 'volume name') ??
      (RESERVED_VOLUMES.includes(volume.name)
        ? `volume name ${quoted(volume.name)} is used by the database pods themselves`
        : names.has(volume.name)
          ? `volume name ${quoted(volume.name)} is used by an earlier entry`
          : undefined);
    if (nameProblem) problems.push({ path: `${path}.name`, message: nameProblem });
    names.add(volume.name);
    if (volume.mountPath === '') problems.push({ path: `${path}.mountPath`, message: 'mount path is empty' });
    else if (volume.mountPath === PGDATA_MOUNT_PATH)
      warnings.push({
        path: `${path}.mountPath`,
        message: `${PGDATA_MOUNT_PATH} is the data directory: volume ${quoted(volume.name)} is not mounted`,
      });
    else if (paths.has(volume.mountPath))
      warnings.push({
        path: `${path}.mountPath`,
        message: `${volume.mountPath} is already the mount path of spec.additionalVolumes.${paths.get(volume.mountPath)}: volume ${quoted(volume.name)} is not mounted`,
      });
    else paths.set(volume.mountPath, index);
  });
  return { problems, warnings };
}

/**
 * `spec.tls`: Zalando v1.15.1 mounts `secretName` (and `caSecretName` with a `caFile`) as volumes of the Secret's
 * name, so each must be a volume name (a DNS-1123 label, where Secret names may have dots) taken by no other
 * volume of the pod; a `caSecretName` without a `caFile` is not mounted (warned).
 */
export function tlsFindings(spec: Postgresql['spec']): RuleFindings {
  const problems: Finding[] = [];
  const warnings: Finding[] = [];
  const tls = spec.tls;
  if (!tls?.secretName) return { problems, warnings };
  const taken = new Set([...RESERVED_VOLUMES, ...(spec.additionalVolumes ?? []).map((v) => v.name)]);
  const volumeProblem = (name: string): string | undefined =>
    dnsProblem(name, DNS_1123_LABEL, 63, 'mounted as a volume of its name:') ??
    (taken.has(name) ? `mounted as a volume of its name, which another volume of the pod has` : undefined);
  const secretProblem = volumeProblem(tls.secretName);
  if (secretProblem) problems.push({ path: 'spec.tls.secretName', message: secretProblem });
  if (tls.caSecretName && !tls.caFile)
    warnings.push({ path: 'spec.tls.caSecretName', message: 'not mounted: tls.caFile names no file in it' });
  else if (tls.caSecretName) {
    const caProblem =
      tls.caSecretName === tls.secretName
        ? 'the same Secret as tls.secretName: leave it empty to read caFile from /tls'
        : volumeProblem(tls.caSecretName);
    if (caProblem) problems.push({ path: 'spec.tls.caSecretName', message: caProblem });
  }
  return { problems, warnings };
}

/** Annotation maps of the manifest: each key must be a qualified name, as the API server requires. */
export function annotationProblems(spec: Postgresql['spec']): Finding[] {
  const maps = ['serviceAnnotations', 'masterServiceAnnotations', 'replicaServiceAnnotations', 'podAnnotations'];
  return maps.flatMap((field) =>
    Object.keys((spec[field] as Record<string, string> | undefined) ?? {}).flatMap((key) => {
      const problem = annotationKeyProblem(key);
      return problem ? [{ path: `spec.${field}.${key}`, message: problem }] : [];
    }),
  );
}

/**
 * Names the pod template carries: init container names (DNS-1123 labels, unique, not `postgres`), the priority
 * class, scheduler and storage class (DNS-1123 subdomains), the image (no surrounding spaces).
 */
export function podNameProblems(spec: Postgresql['spec']): Finding[] {
  const problems: Finding[] = [];
  const field = spec.initContainers ? 'initContainers' : 'init_containers';
  const seen = new Set<string>();
  (spec.initContainers ?? spec.init_containers ?? []).forEach((container, index) => {
    const problem =
      dnsProblem(container.name, DNS_1123_LABEL, 63, 'container name') ??
      (container.name === POSTGRES_CONTAINER
        ? `container name ${quoted(POSTGRES_CONTAINER)} is the database container's`
        : seen.has(container.name)
          ? `container name ${quoted(container.name)} is used by an earlier entry`
          : undefined);
    if (problem) problems.push({ path: `spec.${field}.${index}.name`, message: problem });
    seen.add(container.name);
  });
  const subdomains: Array<[string, string | undefined, string]> = [
    ['spec.podPriorityClassName', spec.podPriorityClassName, 'priority class'],
    ['spec.pod_priority_class_name', spec.pod_priority_class_name, 'priority class'],
    ['spec.schedulerName', spec.schedulerName, 'scheduler name'],
    ['spec.volume.storageClass', spec.volume.storageClass, 'storage class'],
  ];
  for (const [path, value, what] of subdomains) {
    const problem = value ? dnsProblem(value, DNS_1123_SUBDOMAIN, 253, what) : undefined;
    if (problem) problems.push({ path, message: problem });
  }
  if (spec.dockerImage !== undefined && spec.dockerImage !== spec.dockerImage.trim())
    problems.push({ path: 'spec.dockerImage', message: 'image name has leading or trailing spaces' });
  return problems;
}

/** `spec.volume.size` must be more than zero: a volume claim of zero bytes is refused. */
export function volumeSizeProblems(spec: Postgresql['spec']): Finding[] {
  return (parseQuantity(spec.volume.size) ?? 0) > 0
    ? []
    : [{ path: 'spec.volume.size', message: `${quoted(spec.volume.size)} is zero: a volume needs a size` }];
}

/** `spec.standby`: a WAL archive (S3 or GCS, not both), a primary to stream from, or the host and one archive. */
export function standbyProblems(standby: Postgresql['spec']['standby']): Finding[] {
  if (!standby) return [];
  const s3 = Boolean(standby.s3_wal_path);
  const gs = Boolean(standby.gs_wal_path);
  if (s3 && gs)
    return [{ path: 'spec.standby', message: 's3_wal_path and gs_wal_path cannot both be set: choose one archive' }];
  if (!s3 && !gs && !standby.standby_host)
    return [{ path: 'spec.standby', message: 'one of s3_wal_path, gs_wal_path or standby_host is required' }];
  if (standby.standby_port !== undefined && standby.standby_port !== '') {
    const port = Number(standby.standby_port);
    if (!/^\d+$/.test(standby.standby_port) || port < 1 || port > 65535)
      return [{ path: 'spec.standby.standby_port', message: `${quoted(standby.standby_port)} is not a TCP port` }];
  }
  return [];
}

/** A schema name the pooler's lookup function can live in: lower case, so it reads the same quoted or not. */
export const SCHEMA_NAME = /^[a-z_][a-z0-9_]*$/;

/** @returns why `name` cannot be the pooler's schema, or undefined */
export function schemaNameProblem(name: string): string | undefined {
  return identifierProblem('schema', name, SCHEMA_NAME);
}

/**
 * `spec.connectionPooler` and the pooler switches: the user a role name, the schema a lower-case identifier (it
 * goes into PgBouncer's `auth_query` unquoted), the image without surrounding spaces, and the cluster name short
 * enough for the pooler Service names (`<cluster>-pooler`, `<cluster>-pooler-repl`: at most 63 characters).
 * @param userName the role name rule of manifest users
 */
export function poolerProblems(name: string, spec: Postgresql['spec'], userName: RegExp): Finding[] {
  const problems: Finding[] = [];
  const section = spec.connectionPooler;
  if (section?.user) {
    const problem = identifierProblem('role', section.user, userName);
    if (problem) problems.push({ path: 'spec.connectionPooler.user', message: problem });
  }
  if (section?.schema) {
    const problem = schemaNameProblem(section.schema);
    if (problem) problems.push({ path: 'spec.connectionPooler.schema', message: problem });
  }
  if (section?.dockerImage !== undefined && section.dockerImage !== section.dockerImage.trim())
    problems.push({ path: 'spec.connectionPooler.dockerImage', message: 'image name has leading or trailing spaces' });
  for (const role of POOLER_ROLES) {
    const service = poolerName(name, role);
    if (poolerEnabled(spec, role) && service.length > 63) {
      problems.push({
        path: 'metadata.name',
        message: `name is too long for the ${role} pooler: Service ${quoted(service)} would be ${service.length} characters, at most 63 are allowed (cluster names of at most ${63 - POOLER_SUFFIX[role].length} characters)`,
      });
    }
  }
  return problems;
}
