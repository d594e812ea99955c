/**
 * The StatefulSet `<cluster>` running Spilo: one pod per instance, the `pgdata` claim template, `OnDelete`
 * updates (the operator, not Kubernetes, decides when a pod is recreated).
 *
 * Source: Zalando postgres-operator docs, reference/operator_parameters.md and reference/cluster_manifest.md;
 * Kubernetes API reference, apps/v1 StatefulSet and core/v1 PodSpec.
 */
import type { OperatorConfig } from '../model/config';
import type { Postgresql } from '../model/postgresql';
import { inheritedAnnotations, objectLabels, propagatedAnnotations, selectorLabels } from './labels';
import { childMetadata, type DesiredObject } from './object-meta';
import { POSTGRES_CONTAINER } from '../model/sidecars';
import { postgresResources } from './resources';
import { buildSidecars } from './sidecars';
import { TLS_MOUNT, tlsVolumes } from './tls';
import { spiloEnv } from './spilo-env';

type Json = Record<string, unknown>;

/** Annotation Zalando puts on pods that must be recreated to pick up a new pod template. */
export const ROLLING_UPDATE_ANNOTATION = 'zalando-postgres-operator-rolling-update-required';

const PGDATA_MOUNT = '/home/postgres/pgdata';

/** @returns the manifest's tolerations, else the config's `toleration`; undefined when there are none */
export function tolerations(cluster: Postgresql, config: OperatorConfig): Json[] | undefined {
  if (cluster.spec.tolerations && cluster.spec.tolerations.length > 0) return cluster.spec.tolerations as Json[];
  if (Object.keys(config.toleration).length === 0) return undefined;
  const { key, operator, value, effect } = config.toleration;
  const toleration: Json = {};
  if (key) toleration.key = key;
  if (operator) toleration.operator = operator;
  if (value) toleration.value = value;
  if (effect) toleration.effect = effect;
  return [toleration];
}

function nodeAffinity(cluster: Postgresql, config: OperatorConfig): Json | undefined {
  const manifest = cluster.spec.nodeAffinity as Json | undefined;
  const readiness = Object.entries(config.node_readiness_label).sort(([a], [b]) => (a < b ? -1 : 1));
  if (readiness.length === 0) return manifest;
  const expressions = readiness.map(([key, value]) => ({ key, operator: 'In', values: [value] }));
  const required = manifest?.requiredDuringSchedulingIgnoredDuringExecution as
    { nodeSelectorTerms?: Json[] } | undefined;
  const terms = required?.nodeSelectorTerms ?? [];
  let merged: Json[];
  if (terms.length === 0) merged = [{ matchExpressions: expressions }];
  else if (config.node_readiness_label_merge.toUpperCase() === 'AND') {
    merged = terms.map((term) => ({
      ...term,
      matchExpressions: [...((term.matchExpressions as Json[]) ?? []), ...expressions],
    }));
  } else merged = [...terms, { matchExpressions: expressions }];
  return { ...manifest, requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: merged } };
}

/**
 * @param antiAffinityLabels the labels of the pods to keep apart (with `enable_pod_antiaffinity`)
 * @returns the node affinity (manifest and `node_readiness_label`) and the pod anti-affinity, or undefined
 */
export function affinity(
  cluster: Postgresql,
  config: OperatorConfig,
  antiAffinityLabels: Record<string, string>,
): Json | undefined {
  const out: Json = {};
  const node = nodeAffinity(cluster, config);
  if (node) out.nodeAffinity = node;
  if (config.enable_pod_antiaffinity) {
    const term = {
      labelSelector: { matchLabels: antiAffinityLabels },
      topologyKey: config.pod_antiaffinity_topology_key,
    };
    out.podAntiAffinity = config.pod_antiaffinity_preferred_during_scheduling
      ? { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, podAffinityTerm: term }] }
      : { requiredDuringSchedulingIgnoredDuringExecution: [term] };
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Annotations of a cluster's pods: `custom_pod_annotations`, the manifest's `podAnnotations`, the IAM role, the inherited ones. */
export function podAnnotations(cluster: Postgresql, config: OperatorConfig): Record<string, string> {
  const annotations: Record<string, string> = { ...config.custom_pod_annotations, ...cluster.spec.podAnnotations };
  if (config.kube_iam_role) annotations['iam.amazonaws.com/role'] = config.kube_iam_role;
  return { ...annotations, ...inheritedAnnotations(cluster, config) };
}

/**
 * The ConfigMap of `pod_environment_configmap` (`name` or `namespace/name`) when it is in the cluster's namespace;
 * envFrom cannot reach another namespace, so one elsewhere is left out (and reported by `buildCluster`).
 */
export function podEnvironmentConfigMap(cluster: Postgresql, config: OperatorConfig): string | undefined {
  const value = config.pod_environment_configmap;
  if (!value) return undefined;
  if (!value.includes('/')) return value;
  const [namespace, name] = value.split('/', 2) as [string, string];
  return namespace === (cluster.metadata.namespace ?? 'default') ? name : undefined;
}

/** envFrom of the Spilo container: the manifest's, then the pod environment ConfigMap and Secret of the config. */
function envFrom(cluster: Postgresql, config: OperatorConfig): Json[] | undefined {
  const sources: Json[] = [...((cluster.spec.envFrom ?? []) as Json[])];
  const configMap = podEnvironmentConfigMap(cluster, config);
  if (configMap) sources.push({ configMapRef: { name: configMap } });
  if (config.pod_environment_secret) sources.push({ secretRef: { name: config.pod_environment_secret } });
  return sources.length > 0 ? sources : undefined;
}

/** The data volume mount of the Spilo container and of every sidecar. */
function pgdataMount(cluster: Postgresql): Json {
  const volume = cluster.spec.volume;
  const mount: Json = { name: 'pgdata', mountPath: PGDATA_MOUNT };
  if (volume.subPath) mount[volume.isSubPathExpr ? 'subPathExpr' : 'subPath'] = volume.subPath;
  return mount;
}

function postgresContainer(cluster: Postgresql, config: OperatorConfig, shm: boolean): Json {
  const securityContext: Json = {
    privileged: config.spilo_privileged,
    allowPrivilegeEscalation: config.spilo_allow_privilege_escalation,
    readOnlyRootFilesystem: false,
  };
  if (config.additional_pod_capabilities.length > 0)
    securityContext.capabilities = { add: config.additional_pod_capabilities };
  const container: Json = {
    name: 'postgres',
    image: cluster.spec.dockerImage || config.docker_image,
    imagePullPolicy: 'IfNotPresent',
    ports: [8008, 5432, 8080].map((containerPort) => ({ containerPort, protocol: 'TCP' })),
    resources: postgresResources(cluster, config),
    env: spiloEnv(cluster, config),
    volumeMounts: [pgdataMount(cluster), ...(shm ? [{ name: 'dshm', mountPath: '/dev/shm' }] : [])],
    securityContext,
  };
  const sources = envFrom(cluster, config);
  if (sources) container.envFrom = sources;
  if (config.enable_readiness_probe) {
    container.readinessProbe = {
      httpGet: { path: '/readiness', port: 8008, scheme: 'HTTP' },
      initialDelaySeconds: 6,
      periodSeconds: 10,
      timeoutSeconds: 5,
      successThreshold: 1,
      failureThreshold: 3,
    };
  }
  if (cluster.spec.livenessProbe) container.livenessProbe = cluster.spec.livenessProbe;
  return container;
}

function podSecurityContext(cluster: Postgresql, config: OperatorConfig): Json | undefined {
  const out: Json = {};
  const runAsUser = cluster.spec.spiloRunAsUser ?? config.spilo_runasuser;
  const runAsGroup = cluster.spec.spiloRunAsGroup ?? config.spilo_runasgroup;
  const fsGroup = cluster.spec.spiloFSGroup ?? config.spilo_fsgroup;
  if (runAsUser != null) out.runAsUser = runAsUser;
  if (runAsGroup != null) out.runAsGroup = runAsGroup;
  if (fsGroup != null) out.fsGroup = fsGroup;
  return Object.keys(out).length > 0 ? out : undefined;
}

type AdditionalVolume = NonNullable<Postgresql['spec']['additionalVolumes']>[number];

/**
 * The manifest's `additionalVolumes` as Zalando v1.15.1 mounts them (addAdditionalVolumes): a volume per entry,
 * except one on a mount path already taken or on the data directory; mounted, in the order given, into each
 * container its `targetContainers` names (`postgres` when empty; `all` for every container, sidecars included).
 *
 * @param containers the pod's containers, whose `volumeMounts` get the mounts appended
 * @returns the volumes
 */
function mountAdditionalVolumes(entries: readonly AdditionalVolume[], containers: Json[]): Json[] {
  const volumes: Json[] = [];
  const paths = new Set<string>();
  for (const volume of entries) {
    if (paths.has(volume.mountPath) || volume.mountPath === PGDATA_MOUNT) continue;
    paths.add(volume.mountPath);
    volumes.push({ name: volume.name, ...(volume.volumeSource as Json) });
    const targets = volume.targetContainers?.length ? volume.targetContainers : [POSTGRES_CONTAINER];
    const mount: Json = { name: volume.name, mountPath: volume.mountPath };
    if (volume.subPath) mount[volume.isSubPathExpr ? 'subPathExpr' : 'subPath'] = volume.subPath;
    for (const container of containers) {
      if (targets.includes('all') || targets.includes(String(container.name)))
        container.volumeMounts = [...((container.volumeMounts ?? []) as Json[]), { ...mount }];
    }
  }
  return volumes;
}

/** The memory volume `share_pgsocket_with_sidecars` mounts at /var/run/postgresql in every container (addVarRunVolume). */
const RUN_VOLUME = 'postgresql-run';

/**
 * The Secret `additional_secret_mount` (e.g. cloud credentials for WAL-G) as Zalando v1.15.1 mounts it
 * (addSecretVolume): a volume of the Secret's name, mounted at `additional_secret_mount_path` in every container of
 * the pod, after the shared socket volume and before the manifest's additional volumes. As the first of those
 * entries here, a manifest volume on its path is not mounted (Zalando would mount both and the API server refuse
 * the StatefulSet); {@link additionalSecretNotes} says so.
 * Source: https://github.com/zalando/postgres-operator/blob/v1.15.1/docs/reference/operator_parameters.md (additional_secret_mount).
 */
function additionalSecretVolume(config: OperatorConfig): AdditionalVolume[] {
  if (!config.additional_secret_mount) return [];
  return [
    {
      name: config.additional_secret_mount,
      mountPath: config.additional_secret_mount_path,
      targetContainers: ['all'],
      volumeSource: { secret: { secretName: config.additional_secret_mount } },
    },
  ];
}

/**
 * @returns a note for each manifest volume that the `additional_secret_mount` Secret keeps out: one of its name (the
 *   pod would have two volumes of one name) or on its mount path
 */
export function additionalSecretNotes(cluster: Postgresql, config: OperatorConfig): string[] {
  const [secret] = additionalSecretVolume(config);
  if (!secret) return [];
  const named = [
    ...(cluster.spec.additionalVolumes ?? []).map((v, i) => ({ ...v, field: `spec.additionalVolumes.${i}` })),
    ...tlsVolumes(cluster).map((v) => ({
      ...v,
      field: v.mountPath === TLS_MOUNT ? 'spec.tls.secretName' : 'spec.tls.caSecretName',
    })),
  ];
  return named
    .filter((v) => v.name === secret.name || v.mountPath === secret.mountPath)
    .map(
      (v) =>
        `${v.field}: volume ${JSON.stringify(v.name)} is not mounted: the operator config's additional_secret_mount ` +
        `takes ${v.name === secret.name ? 'that volume name' : `the mount path ${secret.mountPath}`}`,
    );
}

/** @returns the notes of the sidecars (resources adjusted, global sidecars left out), for `buildCluster` */
export function sidecarNotes(cluster: Postgresql, config: OperatorConfig): string[] {
  return buildSidecars(cluster, config, pgdataMount(cluster)).notes;
}

function podSpec(cluster: Postgresql, config: OperatorConfig): Json {
  // Zalando v1.15.1 (mountShmVolumeNeeded): the manifest can switch the shm volume on, not off.
  const shm = cluster.spec.enableShmVolume === true || config.enable_shm_volume;
  const containers = [
    postgresContainer(cluster, config, shm),
    ...buildSidecars(cluster, config, pgdataMount(cluster)).containers,
  ];
  const volumes: Json[] = shm ? [{ name: 'dshm', emptyDir: { medium: 'Memory' } }] : [];
  if (config.share_pgsocket_with_sidecars) {
    volumes.push({ name: RUN_VOLUME, emptyDir: { medium: 'Memory' } });
    for (const container of containers)
      container.volumeMounts = [
        ...((container.volumeMounts ?? []) as Json[]),
        { name: RUN_VOLUME, mountPath: '/var/run/postgresql' },
      ];
  }
  // Zalando v1.15.1 mounts the additional Secret first, then the manifest's volumes, then the TLS Secrets.
  const secret = additionalSecretVolume(config);
  const taken = new Set(secret.map((v) => v.name));
  const manifestVolumes = [...(cluster.spec.additionalVolumes ?? []), ...tlsVolumes(cluster)];
  volumes.push(
    ...mountAdditionalVolumes([...secret, ...manifestVolumes.filter((v) => !taken.has(v.name))], containers),
  );
  const spec: Json = {
    serviceAccountName: config.pod_service_account_name,
    terminationGracePeriodSeconds: Math.round(config.pod_terminate_grace_period / 1000),
    containers,
  };
  const initContainers = cluster.spec.initContainers ?? cluster.spec.init_containers;
  if (initContainers && initContainers.length > 0) spec.initContainers = initContainers;
  const security = podSecurityContext(cluster, config);
  if (security) spec.securityContext = security;
  const podTolerations = tolerations(cluster, config);
  if (podTolerations) spec.tolerations = podTolerations;
  // Zalando v1.15.1 (generatePodTemplate, podAffinity) selects by the pod template's labels, team included.
  const podAffinity = affinity(cluster, config, objectLabels(cluster, config));
  if (podAffinity) spec.affinity = podAffinity;
  const priorityClass =
    cluster.spec.podPriorityClassName ?? cluster.spec.pod_priority_class_name ?? config.pod_priority_class_name;
  if (priorityClass) spec.priorityClassName = priorityClass;
  if (cluster.spec.schedulerName) spec.schedulerName = cluster.spec.schedulerName;
  if (cluster.spec.topologySpreadConstraints?.length)
    spec.topologySpreadConstraints = cluster.spec.topologySpreadConstraints;
  if (volumes.length > 0) spec.volumes = volumes;
  return spec;
}

function claimTemplate(cluster: Postgresql, config: OperatorConfig): Json {
  const volume = cluster.spec.volume;
  const spec: Json = {
    accessModes: ['ReadWriteOnce'],
    resources: { requests: { storage: volume.size } },
    volumeMode: 'Filesystem',
  };
  if (volume.storageClass) spec.storageClassName = volume.storageClass;
  if (volume.selector) spec.selector = volume.selector;
  const annotations = inheritedAnnotations(cluster, config);
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    // Zalando v1.15.1 (generatePersistentVolumeClaimTemplate) gives the claims the inherited annotations too.
    metadata: {
      name: 'pgdata',
      labels: objectLabels(cluster, config),
      ...(annotations ? { annotations } : {}),
    },
    spec,
  };
}

const retention = (value: string | undefined) => (value?.toLowerCase() === 'delete' ? 'Delete' : 'Retain');

/**
 * @param instances replicas after min/max clamping (see `instances.ts`)
 * @returns the apps/v1 StatefulSet
 */
export function buildStatefulSet(cluster: Postgresql, config: OperatorConfig, instances: number): DesiredObject {
  const name = cluster.metadata.name;
  const annotations = podAnnotations(cluster, config);
  // Zalando v1.15.1 (generatePodTemplate) names the namespace in the pod template's metadata too.
  const templateMeta: Json = { labels: objectLabels(cluster, config) };
  if (cluster.metadata.namespace) templateMeta.namespace = cluster.metadata.namespace;
  const template: Json = { metadata: templateMeta, spec: podSpec(cluster, config) };
  if (Object.keys(annotations).length > 0) (template.metadata as Json).annotations = annotations;
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: childMetadata(
      cluster,
      config,
      name,
      objectLabels(cluster, config),
      propagatedAnnotations(cluster, config),
    ),
    spec: {
      replicas: instances,
      selector: { matchLabels: selectorLabels(cluster, config) },
      serviceName: name,
      podManagementPolicy: config.pod_management_policy === 'parallel' ? 'Parallel' : 'OrderedReady',
      updateStrategy: { type: 'OnDelete' },
      persistentVolumeClaimRetentionPolicy: {
        whenDeleted: retention(config.persistent_volume_claim_retention_policy.when_deleted),
        whenScaled: retention(config.persistent_volume_claim_retention_policy.when_scaled),
      },
      template,
      volumeClaimTemplates: [claimTemplate(cluster, config)],
    },
  };
}
