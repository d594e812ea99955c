/**
 * The logical backup of a cluster: a batch/v1 CronJob `<logical_backup_job_prefix><cluster>` whose Job runs Zalando's
 * logical-backup image once per `logicalBackupSchedule` (else `logical_backup_schedule`). The image finds a replica
 * (else the master) through the Kubernetes API by `SCOPE` and `CLUSTER_NAME_LABEL`, runs `pg_dumpall` as the
 * superuser (`PG*` env, password from the superuser's Secret) and uploads the compressed dump to
 * `<bucket>/<prefix>/<cluster><scope suffix>/logical_backups/<epoch>.sql.gz` on S3, GCS or Azure
 * (`LOGICAL_BACKUP_PROVIDER`), deleting S3 dumps older than the retention.
 *
 * Shapes, env names and order as Zalando v1.15.1 makes them (generateLogicalBackupJob and
 * generateLogicalBackupPodEnvVars in pkg/cluster/k8sres.go): the CronJob carries the cluster's labels, its pods
 * `application: spilo-logical-backup`; the pods run under the pod ServiceAccount (`pod_service_account_name`, which
 * may list pods), `restartPolicy: Never`, with a preferred pod affinity to each other on a host and the
 * `node_readiness_label` node affinity; `concurrencyPolicy: Forbid`. The history limits and the Job TTL come from
 * the v2.0.1 keys (`logical_backup_*_jobs_history_limit`, `logical_backup_ttl_seconds_after_finished`).
 *
 * Source: Zalando postgres-operator v1.15.1 docs,
 * https://github.com/zalando/postgres-operator/blob/v1.15.1/docs/reference/operator_parameters.md#logical-backup
 * and https://github.com/zalando/postgres-operator/blob/v1.15.1/docs/administrator.md#logical-backups; the image's
 * script, https://github.com/zalando/postgres-operator/blob/v1.15.1/logical-backup/dump.sh; Kubernetes API
 * reference, batch/v1 CronJob.
 */
import type { OperatorConfig } from '../model/config';
import { logicalBackupSchedule } from '../model/logical-backup';
import type { Postgresql } from '../model/postgresql';
import { inheritedAnnotations, objectLabels, type Labels } from './labels';
import { secretName } from './names';
import { childMetadata, type DesiredObject } from './object-meta';
import { adjustedResources } from './resources';
import { affinity, podAnnotations, tolerations } from './statefulset';

type Json = Record<string, unknown>;

/** Name of the container of the backup Job's pod. */
export const LOGICAL_BACKUP_CONTAINER = 'logical-backup';
/** The `application` label of the backup Job's pods (the CronJob itself has the cluster's). */
export const LOGICAL_BACKUP_APPLICATION = 'spilo-logical-backup';
/** Longest CronJob name Zalando makes: the Job controller appends 11 characters to name the Jobs. */
const MAX_NAME_LENGTH = 52;

/** @returns the CronJob's name: prefix and cluster name, cut at 52 characters without a trailing `-` */
export function logicalBackupJobName(config: Pick<OperatorConfig, 'logical_backup_job_prefix'>, cluster: string) {
  const name = `${config.logical_backup_job_prefix}${cluster}`;
  return name.length > MAX_NAME_LENGTH ? name.slice(0, MAX_NAME_LENGTH).replace(/-+$/, '') : name;
}

/** An env var; an empty value is left out, as the API server stores it. */
const env = (name: string, value: string): Json => (value === '' ? { name } : { name, value });

/** The env of the backup container, in Zalando's order: cluster, PostgreSQL connection, bucket, provider. */
export function logicalBackupEnv(cluster: Postgresql, config: OperatorConfig): Json[] {
  const uid = cluster.metadata.uid;
  const common = [
    env('SCOPE', cluster.metadata.name),
    env('CLUSTER_NAME_LABEL', config.cluster_name_label),
    { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } } },
    env('PG_VERSION', cluster.spec.postgresql.version),
    env('PGPORT', '5432'),
    env('PGUSER', config.super_username),
    env('PGDATABASE', config.super_username),
    env('PGSSLMODE', 'require'),
    {
      name: 'PGPASSWORD',
      valueFrom: {
        secretKeyRef: { name: secretName(config, cluster.metadata.name, config.super_username), key: 'password' },
      },
    },
    env('LOGICAL_BACKUP_PROVIDER', config.logical_backup_provider),
    env('LOGICAL_BACKUP_S3_BUCKET', config.logical_backup_s3_bucket),
    env('LOGICAL_BACKUP_S3_BUCKET_PREFIX', config.logical_backup_s3_bucket_prefix),
    env('LOGICAL_BACKUP_S3_BUCKET_SCOPE_SUFFIX', uid ? `/${uid}` : ''),
  ];
  const given = (name: string, value: string) => (value === '' ? [] : [env(name, value)]);
  switch (config.logical_backup_provider) {
    case 's3':
      return [
        ...common,
        env('LOGICAL_BACKUP_S3_REGION', config.logical_backup_s3_region),
        env('LOGICAL_BACKUP_S3_ENDPOINT', config.logical_backup_s3_endpoint),
        env('LOGICAL_BACKUP_S3_SSE', config.logical_backup_s3_sse),
        env(
          'LOGICAL_BACKUP_S3_RETENTION_TIME',
          cluster.spec.logicalBackupRetention || config.logical_backup_s3_retention_time,
        ),
        ...given('AWS_ACCESS_KEY_ID', config.logical_backup_s3_access_key_id),
        ...given('AWS_SECRET_ACCESS_KEY', config.logical_backup_s3_secret_access_key),
      ];
    case 'gcs':
      return [
        ...common,
        ...given('LOGICAL_BACKUP_GOOGLE_APPLICATION_CREDENTIALS', config.logical_backup_google_application_credentials),
      ];
    case 'az':
      return [
        ...common,
        env('LOGICAL_BACKUP_AZURE_STORAGE_ACCOUNT_NAME', config.logical_backup_azure_storage_account_name),
        env('LOGICAL_BACKUP_AZURE_STORAGE_CONTAINER', config.logical_backup_azure_storage_container),
        ...given('LOGICAL_BACKUP_AZURE_STORAGE_ACCOUNT_KEY', config.logical_backup_azure_storage_account_key),
      ];
    default:
      return common;
  }
}

/**
 * Resources of the backup container: the `logical_backup_*` keys, else the `default_*` ones; a limit below its
 * request raised to it, `set_memory_request_to_limit` applied; no min/max rules (those are for Postgres).
 */
export function logicalBackupResources(config: OperatorConfig): { requests: Labels; limits: Labels } {
  const given = {
    requests: { cpu: config.logical_backup_cpu_request, memory: config.logical_backup_memory_request },
    limits: { cpu: config.logical_backup_cpu_limit, memory: config.logical_backup_memory_limit },
  };
  return adjustedResources(given, config, 'logical_backup', false).resources;
}

/**
 * `logical_backup_cronjob_environment_secret`: every key of that Secret becomes an env var of the backup container.
 * Zalando v1.15.1 reads the Secret and lists one `secretKeyRef` per key after the env above; `envFrom` gives the
 * container the same variables without the operator reading the Secret (a pure build), and keys added later too.
 * An explicit env var wins over a key of the same name (Zalando's list would let the Secret's win).
 */
function environmentSecret(config: OperatorConfig): { envFrom?: Json[] } {
  const name = config.logical_backup_cronjob_environment_secret;
  return name ? { envFrom: [{ secretRef: { name } }] } : {};
}

function podTemplate(cluster: Postgresql, config: OperatorConfig): Json {
  const labels = { ...objectLabels(cluster, config), application: LOGICAL_BACKUP_APPLICATION };
  const container: Json = {
    name: LOGICAL_BACKUP_CONTAINER,
    image: config.logical_backup_docker_image,
    imagePullPolicy: 'IfNotPresent',
    resources: logicalBackupResources(config),
    ports: [8008, 5432, 8080].map((containerPort) => ({ containerPort, protocol: 'TCP' })),
    env: logicalBackupEnv(cluster, config),
    ...environmentSecret(config),
    securityContext: {
      privileged: config.spilo_privileged,
      allowPrivilegeEscalation: config.spilo_allow_privilege_escalation,
      readOnlyRootFilesystem: false,
    },
  };
  // Only the node_readiness_label part of the database pods' node affinity (not the manifest's nodeAffinity).
  const readiness = affinity(
    { ...cluster, spec: { ...cluster.spec, nodeAffinity: undefined } },
    {
      ...config,
      enable_pod_antiaffinity: false,
    },
    {},
  );
  const spec: Json = {
    serviceAccountName: config.pod_service_account_name,
    terminationGracePeriodSeconds: Math.round(config.pod_terminate_grace_period / 1000),
    containers: [container],
    securityContext: {},
    restartPolicy: 'Never',
    // The backup pods prefer a host where another one runs.
    affinity: {
      ...readiness,
      podAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          {
            weight: 1,
            podAffinityTerm: { labelSelector: { matchLabels: labels }, topologyKey: 'kubernetes.io/hostname' },
          },
        ],
      },
    },
  };
  // Zalando v1.15.1 (generatePodTemplate, addSecretVolume) mounts the additional_secret_mount Secret here too.
  if (config.additional_secret_mount) {
    spec.volumes = [{ name: config.additional_secret_mount, secret: { secretName: config.additional_secret_mount } }];
    container.volumeMounts = [{ name: config.additional_secret_mount, mountPath: config.additional_secret_mount_path }];
  }
  const podTolerations = tolerations(cluster, config);
  if (podTolerations) spec.tolerations = podTolerations;
  const metadata: Json = { labels, namespace: cluster.metadata.namespace ?? 'default' };
  const annotations = podAnnotations(cluster, config);
  if (Object.keys(annotations).length > 0) metadata.annotations = annotations;
  return { metadata, spec };
}

/** @returns the batch/v1 CronJob of the cluster's logical backup (built whether or not the manifest enables it) */
export function buildLogicalBackupCronJob(cluster: Postgresql, config: OperatorConfig): DesiredObject {
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: childMetadata(
      cluster,
      config,
      logicalBackupJobName(config, cluster.metadata.name),
      objectLabels(cluster, config),
      inheritedAnnotations(cluster, config),
    ),
    spec: {
      schedule: logicalBackupSchedule(cluster.spec, config),
      concurrencyPolicy: 'Forbid',
      successfulJobsHistoryLimit: config.logical_backup_successful_jobs_history_limit,
      failedJobsHistoryLimit: config.logical_backup_failed_jobs_history_limit,
      jobTemplate: {
        spec: {
          ttlSecondsAfterFinished: config.logical_backup_ttl_seconds_after_finished,
          template: podTemplate(cluster, config),
        },
      },
    },
  };
}
