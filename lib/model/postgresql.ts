/**
 * The `postgresql` custom resource (`acid.zalan.do/v1`): the zod schema that validates it, the TypeScript types
 * derived from it, and the source of the generated CRD (see `crd.ts`).
 *
 * Every field of Zalando's v1.0.0 and v2.0.1 manifests is declared, including the deprecated ones
 * (`useLoadBalancer`, `replicaLoadBalancer`, `pod_priority_class_name`, `init_containers`), so that their
 * manifests are accepted unchanged. Fields the operator does not act on yet are listed in `unsupported.ts`.
 *
 * Source: Zalando postgres-operator docs, reference/cluster_manifest.md; manifests/postgresql.crd.yaml (v2.0.1).
 */
import * as z from 'zod';
import { cidrProblem } from './address';
import {
  anyObject,
  container,
  envFromSource,
  envVar,
  labelSelector,
  nodeAffinity,
  probe,
  toleration,
  topologySpreadConstraint,
} from './kube-types';

/** CPU quantity as Zalando's CRD accepts it: millicores (`100m`) or cores with up to 3 decimals (`0.5`). */
export const CPU_PATTERN = /^(\d+m|\d+(\.\d{1,3})?)$/;
/** Memory / storage quantity as Zalando's CRD accepts it: bytes, optionally with an exponent or a binary/decimal suffix. */
export const MEMORY_PATTERN = /^(\d+(e\d+)?|\d+(\.\d+)?(e\d+)?[EPTGMK]i?)$/;
/**
 * PostgreSQL major versions a manifest may ask for: those of Zalando's CRDs from v1.0.0 (9.3 to 11) to v2.0.1 (14 to
 * 18), v1.15.1's 13 to 17 among them. Spilo images carry the binaries of these versions.
 */
export const POSTGRES_VERSIONS = [
  '9.3',
  '9.4',
  '9.5',
  '9.6',
  '10',
  '11',
  '12',
  '13',
  '14',
  '15',
  '16',
  '17',
  '18',
] as const;
/** Largest value of a Kubernetes int32 field (StatefulSet replicas, ports, user and group ids). */
export const INT32_MAX = 2_147_483_647;
/** A UUID as the Kubernetes `uuid` format reads it (hex groups 8-4-4-4-12, any version). */
export const UUID_PATTERN = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
/** A maintenance window: `HH:MM-HH:MM` or `Ddd:HH:MM-HH:MM` (UTC). */
export const MAINTENANCE_WINDOW_PATTERN =
  /^\ *((Mon|Tue|Wed|Thu|Fri|Sat|Sun):(2[0-3]|[01]?\d):([0-5]?\d)|(2[0-3]|[01]?\d):([0-5]?\d))-((Mon|Tue|Wed|Thu|Fri|Sat|Sun):(2[0-3]|[01]?\d):([0-5]?\d)|(2[0-3]|[01]?\d):([0-5]?\d))\ *$/;
/** RFC 3339 timestamp with a mandatory UTC offset, as `clone.timestamp` requires. */
export const CLONE_TIMESTAMP_PATTERN =
  /^([0-9]+)-(0[1-9]|1[012])-(0[1-9]|[12][0-9]|3[01])[Tt]([01][0-9]|2[0-3]):([0-5][0-9]):([0-5][0-9]|60)(\.[0-9]+)?(([Zz])|([+-]([01][0-9]|2[0-3]):[0-5][0-9]))$/;

/** The role flags a manifest user may carry, in Zalando's spelling (any case is accepted, see `lib/roles`). */
export const USER_FLAGS = [
  'superuser',
  'inherit',
  'login',
  'nologin',
  'createrole',
  'createdb',
  'replication',
  'bypassrls',
] as const;
const flagSpellings = [
  ...new Set(
    USER_FLAGS.flatMap((f) => {
      const negated = f === 'nologin' ? 'login' : `no${f}`;
      return [f, f.toUpperCase(), negated, negated.toUpperCase()];
    }),
  ),
];

const cpu = z.string().regex(CPU_PATTERN, 'must be a CPU quantity such as 100m or 0.5');
const memory = z.string().regex(MEMORY_PATTERN, 'must be a quantity such as 500Mi or 1Gi');
const stringMap = (description: string) => z.record(z.string(), z.string()).describe(description);

const resourceList = z.looseObject({
  cpu: cpu.optional().describe('CPU quantity (e.g. 100m, 1).'),
  memory: memory.optional().describe('Memory quantity (e.g. 100Mi, 1Gi).'),
  'hugepages-2Mi': memory.optional().describe('Huge pages of 2 MiB.'),
  'hugepages-1Gi': memory.optional().describe('Huge pages of 1 GiB.'),
});

/** Requests and limits of one container, described as `description` says (`kubectl explain` shows it). */
const resourcesOf = (description: string, defaults?: { requests: string; limits: string }) =>
  z
    .looseObject({
      requests: resourceList
        .optional()
        .describe(defaults ? `Requested resources; defaults from ${defaults.requests}.` : 'Requested resources.'),
      limits: resourceList
        .optional()
        .describe(defaults ? `Resource limits; defaults from ${defaults.limits}.` : 'Resource limits.'),
    })
    .describe(description);

/** `spec.resources`: requests and limits of the Postgres container; missing values take the config defaults. */
export const resources = resourcesOf(
  'Resources of the Postgres (Spilo) container. A limit below its request is raised to the request (reported).',
  {
    requests: 'default_cpu_request / default_memory_request',
    limits: 'default_cpu_limit / default_memory_limit',
  },
);

/** A non-negative int32, as the Kubernetes field it ends in requires. */
const int32 = (min: number) => z.int().min(min).max(INT32_MAX);

const volume = z
  .looseObject({
    size: memory.describe('Size of the persistent volume claim of each pod (e.g. 1Gi). Grows in place; never shrinks.'),
    storageClass: z.string().optional().describe('storageClassName of the pgdata volume claims.'),
    subPath: z.string().optional().describe('Sub-path of the volume mounted at /home/postgres/pgdata.'),
    isSubPathExpr: z.boolean().optional().describe('Treat subPath as subPathExpr (expanded from env vars).'),
    selector: labelSelector.optional().describe('Label selector of the persistent volumes to bind.'),
    iops: int32(0).optional().describe('Provisioned IOPS (AWS EBS mixed resize mode only).'),
    throughput: int32(0).optional().describe('Provisioned throughput in MB/s (AWS EBS mixed resize mode only).'),
    type: z.string().optional().describe('Volume type (AWS EBS mixed resize mode only).'),
  })
  .describe('The pgdata persistent volume of each database pod.');

const patroni = z
  .looseObject({
    initdb: z
      .record(z.string(), z.string())
      .optional()
      .describe('initdb options added to bootstrap.initdb; "true" makes a bare flag of data-checksums and similar.'),
    pg_hba: z.array(z.string()).optional().describe('pg_hba.conf lines Patroni writes (replaces the default).'),
    ttl: int32(1).optional().describe('Patroni DCS ttl in seconds.'),
    loop_wait: int32(1).optional().describe('Patroni loop_wait in seconds.'),
    retry_timeout: int32(1).optional().describe('Patroni retry_timeout in seconds.'),
    maximum_lag_on_failover: z
      .number()
      .min(0)
      .optional()
      .describe('Largest replication lag in bytes for a failover candidate.'),
    synchronous_mode: z.boolean().optional().describe('Patroni synchronous replication.'),
    synchronous_mode_strict: z.boolean().optional().describe('Block writes when no synchronous replica is available.'),
    synchronous_node_count: int32(0).optional().describe('Number of synchronous replicas.'),
    failsafe_mode: z.boolean().optional().describe('Patroni failsafe mode (keep the leader when the DCS is down).'),
    slots: z.record(z.string(), z.record(z.string(), z.string())).optional().describe('Permanent replication slots.'),
  })
  .describe('Patroni settings, written into SPILO_CONFIGURATION.');

const postgresql = z
  .looseObject({
    version: z
      .enum(POSTGRES_VERSIONS, { error: `must be a PostgreSQL major version: ${POSTGRES_VERSIONS.join(', ')}` })
      .describe('PostgreSQL major version (e.g. "17"); selects the binaries in the Spilo image.'),
    parameters: stringMap('PostgreSQL settings (GUCs), e.g. shared_buffers: 32MB.').optional(),
  })
  .describe('PostgreSQL version and settings.');

const clone = z
  .looseObject({
    cluster: z.string().describe('Name of the cluster to clone from.'),
    uid: z
      .string()
      .regex(UUID_PATTERN, 'must be a UUID such as 4a8e2d1c-0b3f-4c5d-9e6f-7a8b9c0d1e2f')
      .meta({ format: 'uuid' })
      .optional()
      .describe('UID of the source cluster (locates its WAL archive).'),
    timestamp: z
      .string()
      .regex(CLONE_TIMESTAMP_PATTERN, 'must be an RFC 3339 timestamp with a UTC offset')
      .optional()
      .describe('Point in time to recover to (RFC 3339 with offset); empty clones a running cluster by basebackup.'),
    s3_wal_path: z.string().optional().describe('WAL archive location of the source cluster.'),
    s3_endpoint: z.string().optional().describe('S3 endpoint of the WAL archive.'),
    s3_access_key_id: z.string().optional().describe('S3 access key id.'),
    s3_secret_access_key: z.string().optional().describe('S3 secret access key.'),
    s3_force_path_style: z.boolean().optional().describe('Use S3 path-style addressing.'),
  })
  .describe('Create the cluster as a clone of another one.');

const standby = z
  .looseObject({
    s3_wal_path: z.string().optional().describe('WAL archive (S3) to replay from.'),
    gs_wal_path: z.string().optional().describe('WAL archive (GCS) to replay from.'),
    standby_host: z.string().optional().describe('Host of the remote primary to stream from.'),
    standby_port: z.string().optional().describe('Port of the remote primary.'),
    standby_primary_slot_name: z.string().optional().describe('Replication slot on the remote primary.'),
  })
  .meta({
    description:
      'Run the cluster as a standby of another one (forces one instance): a WAL archive (s3_wal_path or ' +
      'gs_wal_path, not both), a primary to stream from (standby_host), or standby_host with one WAL archive.',
    anyOf: [{ required: ['s3_wal_path'] }, { required: ['gs_wal_path'] }, { required: ['standby_host'] }],
    not: { required: ['s3_wal_path', 'gs_wal_path'] },
  });

const tls = z
  .looseObject({
    secretName: z.string().describe('Secret with the certificate and key; TLS is off while this is empty.'),
    certificateFile: z.string().optional().describe('Certificate file name in the secret (default tls.crt).'),
    privateKeyFile: z.string().optional().describe('Private key file name in the secret (default tls.key).'),
    caFile: z.string().optional().describe('CA file name.'),
    caSecretName: z.string().optional().describe('Secret holding the CA file.'),
  })
  .describe('Custom TLS certificate for Postgres.');

const sidecar = z
  .looseObject({
    name: z.string().optional().describe('Container name (default sidecar-<index>).'),
    image: z.string().optional().describe('Container image.'),
    command: z.array(z.string()).optional(),
    ports: z.array(anyObject('A core/v1 ContainerPort.')).optional(),
    env: z.array(envVar).optional(),
    resources: resourcesOf('Resources of the sidecar container.').optional(),
  })
  .meta({ description: 'An extra container in each database pod.', 'x-kubernetes-preserve-unknown-fields': true });

const additionalVolume = z
  .looseObject({
    name: z.string().describe('Volume name.'),
    mountPath: z.string().describe('Where to mount it.'),
    subPath: z.string().optional(),
    isSubPathExpr: z.boolean().optional(),
    targetContainers: z
      .array(z.string())
      .nullable()
      .optional()
      .describe('Containers to mount it in ("all" for every one).'),
    volumeSource: anyObject('A core/v1 VolumeSource.'),
  })
  .describe('An extra volume mounted into the database pods.');

const connectionPooler = z
  .looseObject({
    numberOfInstances: int32(1).optional().describe('Number of pooler pods.'),
    schema: z.string().optional(),
    user: z.string().optional(),
    mode: z.enum(['session', 'transaction']).optional(),
    dockerImage: z.string().optional(),
    maxDBConnections: int32(1).optional(),
    resources: resourcesOf(
      'Resources of each connection pooler (PgBouncer) container; defaults from connection_pooler_default_cpu_request and the like.',
    ).optional(),
  })
  .describe('Connection pooler (PgBouncer) settings.');

const preparedSchema = z.looseObject({
  defaultRoles: z.boolean().optional(),
  defaultUsers: z.boolean().optional(),
});
const preparedDatabase = z
  .looseObject({
    defaultUsers: z.boolean().optional(),
    extensions: z.record(z.string(), z.string()).optional(),
    schemas: z.record(z.string(), preparedSchema).optional(),
    secretNamespace: z.string().optional(),
  })
  .describe('A database with default roles, schemas and extensions.');

const stream = z
  .looseObject({
    applicationId: z.string(),
    database: z.string(),
    tables: z.record(z.string(), anyObject('Stream table settings.')),
    filter: z.record(z.string(), z.string().nullable()).optional(),
    batchSize: int32(1).optional(),
    cpu: cpu.optional(),
    memory: memory.optional(),
    enableRecovery: z.boolean().optional(),
  })
  .describe('A change data capture stream.');

const userFlags = z
  .array(z.enum(flagSpellings as [string, ...string[]]))
  .nullable()
  .describe(
    'Role flags: superuser, inherit, login, nologin, createrole, createdb, replication, bypassrls or their NO- forms.',
  );

const optionalBool = (description: string) => z.boolean().optional().describe(description);
/** A node port: 0 lets Kubernetes choose one; otherwise it must lie in the API server's node port range. */
const optionalPort = (description: string) => z.int().min(0).max(65535).optional().describe(description);
/** A user or group id: Kubernetes takes 0 to 2147483647. */
const optionalId = (description: string) => int32(0).optional().describe(description);

/** `spec` of a `postgresql` object. */
export const postgresqlSpec = z
  .looseObject({
    teamId: z
      .string()
      .describe(
        'Team owning the cluster; the cluster name starts with it when enable_team_id_clustername_prefix is on.',
      ),
    numberOfInstances: int32(0).describe(
      'Number of database pods (one master, the rest replicas), clamped by min_instances / max_instances.',
    ),
    dockerImage: z.string().optional().describe('Spilo image; overrides docker_image from the operator config.'),
    postgresql,
    volume,
    users: z
      .record(z.string(), userFlags)
      .optional()
      .describe('Roles to create: name -> list of flags. Each gets a credentials Secret.'),
    databases: z.record(z.string(), z.string()).optional().describe('Databases to create: name -> owner role.'),
    preparedDatabases: z
      .record(z.string(), preparedDatabase.nullable())
      .optional()
      .describe('Databases with default roles and schemas.'),
    resources: resources.optional(),
    patroni: patroni.optional(),
    tolerations: z
      .array(toleration)
      .optional()
      .describe('Pod tolerations; replace the toleration from the operator config when set.'),
    nodeAffinity: nodeAffinity.optional(),
    topologySpreadConstraints: z
      .array(topologySpreadConstraint)
      .optional()
      .describe('Pod topology spread constraints.'),
    schedulerName: z.string().optional().describe('Scheduler of the database pods.'),
    podPriorityClassName: z.string().optional().describe('priorityClassName of the database pods.'),
    pod_priority_class_name: z.string().optional().describe('Deprecated spelling of podPriorityClassName.'),
    enableMasterLoadBalancer: optionalBool(
      'Make the master Service a LoadBalancer (overrides enable_master_load_balancer).',
    ),
    enableReplicaLoadBalancer: optionalBool(
      'Make the replica Service a LoadBalancer (overrides enable_replica_load_balancer).',
    ),
    useLoadBalancer: optionalBool('Deprecated: use enableMasterLoadBalancer.'),
    replicaLoadBalancer: optionalBool('Deprecated: use enableReplicaLoadBalancer.'),
    enableMasterNodePort: optionalBool('Make the master Service a NodePort Service (wins over a load balancer).'),
    enableReplicaNodePort: optionalBool('Make the replica Service a NodePort Service (wins over a load balancer).'),
    masterNodePort: optionalPort('Fixed node port of the master Service.'),
    replicaNodePort: optionalPort('Fixed node port of the replica Service.'),
    allowedSourceRanges: z
      .array(
        z
          .string()
          .superRefine((value, ctx) => {
            const problem = cidrProblem(value);
            if (problem) ctx.addIssue({ code: 'custom', message: problem, input: value });
          })
          .meta({ format: 'cidr' }),
      )
      .nullable()
      .optional()
      .describe('CIDRs allowed to reach the load balancers (loadBalancerSourceRanges); 127.0.0.1/32 when empty.'),
    serviceAnnotations: stringMap('Annotations of both Services.').optional(),
    masterServiceAnnotations: stringMap('Annotations of the master Service (win over serviceAnnotations).').optional(),
    replicaServiceAnnotations: stringMap(
      'Annotations of the replica Service (win over serviceAnnotations).',
    ).optional(),
    podAnnotations: stringMap('Annotations of the database pods (win over custom_pod_annotations).').optional(),
    enableShmVolume: optionalBool('Mount a memory volume at /dev/shm (default from enable_shm_volume).'),
    env: z.array(envVar).optional().describe('Extra environment variables of the Spilo container.'),
    envFrom: z.array(envFromSource).optional().describe('Extra environment sources of the Spilo container.'),
    initContainers: z.array(container).optional().describe('Init containers of the database pods.'),
    init_containers: z.array(container).optional().describe('Deprecated spelling of initContainers.'),
    spiloRunAsUser: optionalId('securityContext.runAsUser of the pods.'),
    spiloRunAsGroup: optionalId('securityContext.runAsGroup of the pods.'),
    spiloFSGroup: optionalId('securityContext.fsGroup of the pods.'),
    livenessProbe: probe.optional(),
    clone: clone.optional(),
    standby: standby.optional(),
    tls: tls.nullable().optional(),
    sidecars: z.array(sidecar).optional().describe('Extra containers in each database pod.'),
    additionalVolumes: z.array(additionalVolume).optional().describe('Extra volumes of the database pods.'),
    maintenanceWindows: z
      .array(z.string().regex(MAINTENANCE_WINDOW_PATTERN, 'must look like 01:00-06:00 or Sat:00:00-04:00'))
      .optional()
      .describe('UTC windows for disruptive maintenance, "HH:MM-HH:MM" or "Ddd:HH:MM-HH:MM".'),
    enableConnectionPooler: optionalBool('Run a connection pooler for the master.'),
    enableReplicaConnectionPooler: optionalBool('Run a connection pooler for the replicas.'),
    enableMasterPoolerLoadBalancer: optionalBool('LoadBalancer for the master pooler.'),
    enableReplicaPoolerLoadBalancer: optionalBool('LoadBalancer for the replica pooler.'),
    enableMasterPoolerNodePort: optionalBool('NodePort for the master pooler.'),
    enableReplicaPoolerNodePort: optionalBool('NodePort for the replica pooler.'),
    masterPoolerNodePort: optionalPort('Fixed node port of the master pooler Service.'),
    replicaPoolerNodePort: optionalPort('Fixed node port of the replica pooler Service.'),
    connectionPooler: connectionPooler.optional(),
    enableLogicalBackup: optionalBool('Run a logical backup CronJob.'),
    logicalBackupSchedule: z
      .string()
      .regex(/^(\d+|\*)(\/\d+)?(\s+(\d+|\*)(\/\d+)?){4}$/, 'must be a cron schedule')
      .optional()
      .describe('Cron schedule of the logical backup.'),
    logicalBackupRetention: z.string().optional().describe('How long logical backups are kept.'),
    streams: z.array(stream).optional(),
    usersWithSecretRotation: z.array(z.string()).nullable().optional(),
    usersWithInPlaceSecretRotation: z.array(z.string()).nullable().optional(),
    usersIgnoringSecretRotation: z.array(z.string()).nullable().optional(),
  })
  .describe('Desired state of a Spilo/Patroni PostgreSQL cluster.');

/** One status condition, as in meta/v1 Condition. */
export const condition = z.looseObject({
  type: z.string(),
  status: z.enum(['True', 'False', 'Unknown']),
  observedGeneration: z.int().optional(),
  lastTransitionTime: z.string().optional(),
  /** when the condition last recorded progress (as in apps/v1 DeploymentCondition); the RollingUpdate condition's last step */
  lastUpdateTime: z.string().optional(),
  reason: z.string().optional(),
  message: z.string().optional(),
});

/** `status` of a `postgresql` object: Zalando's string plus conditions. */
export const postgresqlStatus = z
  .looseObject({
    PostgresClusterStatus: z
      .string()
      .optional()
      .describe('Zalando status: Creating, Updating, Running, CreateFailed, UpdateFailed, SyncFailed or Invalid.'),
    observedGeneration: z.int().optional().describe('metadata.generation the status describes.'),
    conditions: z.array(condition).optional().describe('Ready, Progressing and Degraded conditions.'),
  })
  .meta({ description: 'Observed state of the cluster.', 'x-kubernetes-preserve-unknown-fields': true });

/** The parts of `metadata` the operator reads. */
export const objectMeta = z.looseObject({
  name: z.string(),
  namespace: z.string().optional(),
  uid: z.string().optional(),
  generation: z.int().optional(),
  resourceVersion: z.string().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  deletionTimestamp: z.string().optional(),
  finalizers: z.array(z.string()).optional(),
});

/** A whole `postgresql` object. */
export const postgresqlObject = z.looseObject({
  apiVersion: z.literal('acid.zalan.do/v1'),
  kind: z.literal('postgresql'),
  metadata: objectMeta,
  spec: postgresqlSpec,
  // Not validated: the status is the operator's own record, in whatever form the installed CRD let it be written
  // (a plain string from old operators, JSON texts under Zalando's string-only status schema); what it holds must
  // never make a manifest invalid. `lib/plan/cluster-status.ts` reads it.
  status: z.unknown().optional(),
});

export type PostgresqlSpec = z.infer<typeof postgresqlSpec>;
export type PostgresqlStatus = z.infer<typeof postgresqlStatus>;
export type Postgresql = z.infer<typeof postgresqlObject>;
export type Condition = z.infer<typeof condition>;

/** API coordinates of the `postgresql` resource. */
export const POSTGRESQL = {
  group: 'acid.zalan.do',
  version: 'v1',
  apiVersion: 'acid.zalan.do/v1',
  kind: 'postgresql',
  plural: 'postgresqls',
} as const;
