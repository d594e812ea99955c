/**
 * The connection pooler of a cluster: per pooler (master, replica) a Deployment `<cluster>-pooler[-repl]` running
 * PgBouncer and a Service of the same name in front of it. PgBouncer connects to the master Service `<cluster>` or
 * the replica Service `<cluster>-repl` (so the master pooler follows a switchover without a restart) as the pooler
 * role, whose password its pods read from the role's credentials Secret, and looks every other user's password
 * up with `<schema>.user_lookup(text)` (installed by the role step).
 *
 * Shapes as Zalando v1.15.1 makes them (labels `application: db-connection-pooler` and `connection-pooler: <name>`,
 * the `CONNECTION_POOLER_*` env its pgbouncer image reads, pods running as uid 100 / gid 101); Zalando has no
 * PodDisruptionBudget for the pooler, so there is none here either.
 *
 * Source: Zalando postgres-operator v1.15.1 docs,
 * https://github.com/zalando/postgres-operator/blob/v1.15.1/docs/reference/cluster_manifest.md#connection-pooler,
 * https://github.com/zalando/postgres-operator/blob/v1.15.1/docs/reference/operator_parameters.md#connection-pooler-configuration
 * and https://github.com/zalando/postgres-operator/blob/v1.15.1/docs/user.md#connection-pooler; Kubernetes API
 * reference, apps/v1 Deployment and core/v1 Service.
 */
import type { OperatorConfig } from '../model/config';
import {
  POOLER_APPLICATION,
  POOLER_LABEL,
  POOLER_MAX_CLIENT_CONNECTIONS,
  POOLER_PORT,
  POOLER_ROLES,
  poolerEnabled,
  poolerName,
  poolerSettings,
  type PoolerRole,
  type PoolerSettings,
} from '../model/pooler';
import type { Postgresql } from '../model/postgresql';
import { compareQuantities, parseQuantity } from '../model/quantity';
import { inheritedAnnotations, objectLabels, propagatedAnnotations, selectorLabels, type Labels } from './labels';
import { poolerDnsName, replicaServiceName, secretName } from './names';
import { childMetadata, type DesiredObject } from './object-meta';
import { DNS_ANNOTATION, ELB_TIMEOUT_ANNOTATION } from './services';
import { affinity, tolerations } from './statefulset';

type Json = Record<string, unknown>;

/** Name of the PgBouncer container. */
export const POOLER_CONTAINER = 'connection-pooler';
/** The uid and gid PgBouncer runs as in Zalando's pooler image. */
const RUN_AS_USER = 100;
const RUN_AS_GROUP = 101;

/**
 * @param withRole the full set (objects and pods: `team`, inherited labels and `<pod_role_label>: <role>`), or
 *   only what selects the pods (Deployment selector, Service labels)
 * @returns the labels of a pooler's objects: the cluster's, with `application` replaced
 */
export function poolerLabels(cluster: Postgresql, config: OperatorConfig, role: PoolerRole, withRole: boolean): Labels {
  const base = withRole ? objectLabels(cluster, config) : selectorLabels(cluster, config);
  const labels: Labels = {
    ...base,
    application: POOLER_APPLICATION,
    [POOLER_LABEL]: poolerName(cluster.metadata.name, role),
  };
  if (withRole) labels[config.pod_role_label] = role;
  return labels;
}

/** An empty quantity, as Zalando reads one (`""`, `"0"`, `"null"`): no value. */
const given = (value: string | undefined): value is string =>
  value !== undefined && value !== '' && value !== 'null' && parseQuantity(value) !== 0;

/**
 * Resources of the PgBouncer container: the manifest's `connectionPooler.resources`, else the
 * `connection_pooler_default_*` keys (an empty key gives none); a limit below its request raised to it; with
 * `set_memory_request_to_limit` the memory request raised to the limit. No min/max rules (those are for Postgres).
 */
export function poolerResources(cluster: Postgresql, config: OperatorConfig): { requests: Labels; limits: Labels } {
  const spec = cluster.spec.connectionPooler?.resources as { requests?: Labels; limits?: Labels } | undefined;
  const pick = (value: string | undefined, fallback: string): string | undefined =>
    given(value) ? value : given(fallback) ? fallback : undefined;
  const requests: Labels = {};
  const limits: Labels = {};
  const set = (list: Labels, key: string, value: string | undefined) => value !== undefined && (list[key] = value);
  set(requests, 'cpu', pick(spec?.requests?.cpu, config.connection_pooler_default_cpu_request));
  set(requests, 'memory', pick(spec?.requests?.memory, config.connection_pooler_default_memory_request));
  set(limits, 'cpu', pick(spec?.limits?.cpu, config.connection_pooler_default_cpu_limit));
  set(limits, 'memory', pick(spec?.limits?.memory, config.connection_pooler_default_memory_limit));
  for (const key of ['cpu', 'memory']) {
    if (requests[key] && limits[key] && compareQuantities(limits[key], requests[key]) < 0) limits[key] = requests[key];
  }
  if (config.set_memory_request_to_limit && limits.memory) {
    if (!requests.memory || compareQuantities(requests.memory, limits.memory) < 0) requests.memory = limits.memory;
  }
  return { requests, limits };
}

function poolerEnv(cluster: Postgresql, config: OperatorConfig, role: PoolerRole, settings: PoolerSettings): Json[] {
  const secret = secretName(config, cluster.metadata.name, settings.user);
  const fromSecret = (key: string) => ({ secretKeyRef: { name: secret, key } });
  const { pool } = settings;
  return [
    { name: 'PGHOST', value: role === 'master' ? cluster.metadata.name : replicaServiceName(cluster.metadata.name) },
    { name: 'PGPORT', value: String(POOLER_PORT) },
    { name: 'PGUSER', valueFrom: fromSecret('username') },
    { name: 'PGSCHEMA', value: settings.schema },
    { name: 'PGPASSWORD', valueFrom: fromSecret('password') },
    { name: 'CONNECTION_POOLER_PORT', value: String(POOLER_PORT) },
    { name: 'CONNECTION_POOLER_MODE', value: settings.mode },
    { name: 'CONNECTION_POOLER_DEFAULT_SIZE', value: String(pool.defaultSize) },
    { name: 'CONNECTION_POOLER_MIN_SIZE', value: String(pool.minSize) },
    { name: 'CONNECTION_POOLER_RESERVE_SIZE', value: String(pool.reserveSize) },
    { name: 'CONNECTION_POOLER_MAX_CLIENT_CONN', value: String(POOLER_MAX_CLIENT_CONNECTIONS) },
    { name: 'CONNECTION_POOLER_MAX_DB_CONN', value: String(pool.maxDBConnections) },
  ];
}

function podTemplate(cluster: Postgresql, config: OperatorConfig, role: PoolerRole, settings: PoolerSettings): Json {
  const container: Json = {
    name: POOLER_CONTAINER,
    image: settings.image,
    imagePullPolicy: 'IfNotPresent',
    resources: poolerResources(cluster, config),
    ports: [{ containerPort: POOLER_PORT, protocol: 'TCP' }],
    readinessProbe: { tcpSocket: { port: POOLER_PORT } },
    securityContext: { allowPrivilegeEscalation: false },
    env: poolerEnv(cluster, config, role, settings),
  };
  const securityContext: Json = { runAsUser: RUN_AS_USER, runAsGroup: RUN_AS_GROUP };
  const fsGroup = cluster.spec.spiloFSGroup ?? config.spilo_fsgroup;
  if (fsGroup != null) securityContext.fsGroup = fsGroup;
  const spec: Json = {
    serviceAccountName: config.pod_service_account_name,
    terminationGracePeriodSeconds: Math.round(config.pod_terminate_grace_period / 1000),
    containers: [container],
    securityContext,
  };
  const podTolerations = tolerations(cluster, config);
  if (podTolerations) spec.tolerations = podTolerations;
  // Pooler pods are kept apart from each other (their selector labels), not from the database pods.
  const podAffinity = affinity(cluster, config, poolerLabels(cluster, config, role, false));
  if (podAffinity) spec.affinity = podAffinity;
  const metadata: Json = { labels: poolerLabels(cluster, config, role, true) };
  if (cluster.metadata.namespace) metadata.namespace = cluster.metadata.namespace;
  // Zalando v1.15.1 gives pooler pods the custom and manifest pod annotations, without kube_iam_role.
  const annotations = {
    ...config.custom_pod_annotations,
    ...cluster.spec.podAnnotations,
    ...inheritedAnnotations(cluster, config),
  };
  if (Object.keys(annotations).length > 0) metadata.annotations = annotations;
  return { metadata, spec };
}

/** @returns the apps/v1 Deployment of a pooler */
export function buildPoolerDeployment(cluster: Postgresql, config: OperatorConfig, role: PoolerRole): DesiredObject {
  const settings = poolerSettings(cluster.spec, config);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: childMetadata(
      cluster,
      config,
      poolerName(cluster.metadata.name, role),
      poolerLabels(cluster, config, role, true),
      propagatedAnnotations(cluster, config),
    ),
    spec: {
      replicas: settings.instances,
      selector: { matchLabels: poolerLabels(cluster, config, role, false) },
      template: podTemplate(cluster, config, role, settings),
    },
  };
}

/** Whether a pooler's Service is a load balancer: the manifest's flag, else the config's. */
function poolerLoadBalancer(cluster: Postgresql, config: OperatorConfig, role: PoolerRole): boolean {
  const spec = cluster.spec;
  const flag = role === 'master' ? spec.enableMasterPoolerLoadBalancer : spec.enableReplicaPoolerLoadBalancer;
  if (flag !== undefined) return flag;
  return role === 'master' ? config.enable_master_pooler_load_balancer : config.enable_replica_pooler_load_balancer;
}

/**
 * @returns the core/v1 Service of a pooler: ClusterIP, a LoadBalancer (`enable*PoolerLoadBalancer`, with
 *   `allowedSourceRanges` and the external-dns name) or a NodePort (`enable*PoolerNodePort`, which wins)
 */
export function buildPoolerService(cluster: Postgresql, config: OperatorConfig, role: PoolerRole): DesiredObject {
  const name = poolerName(cluster.metadata.name, role);
  const spec = cluster.spec;
  const nodePort = (role === 'master' ? spec.enableMasterPoolerNodePort : spec.enableReplicaPoolerNodePort) === true;
  const loadBalancer = !nodePort && poolerLoadBalancer(cluster, config, role);
  const port: Json = { name, port: POOLER_PORT, targetPort: POOLER_PORT, protocol: 'TCP' };
  const fixedNodePort = role === 'master' ? spec.masterPoolerNodePort : spec.replicaPoolerNodePort;
  if (nodePort && fixedNodePort) port.nodePort = fixedNodePort;
  const serviceSpec: Json = {
    type: nodePort ? 'NodePort' : loadBalancer ? 'LoadBalancer' : 'ClusterIP',
    ports: [port],
    selector: { [POOLER_LABEL]: name },
  };
  const annotations: Record<string, string> = {
    ...config.custom_service_annotations,
    ...spec.serviceAnnotations,
    ...(role === 'master' ? spec.masterServiceAnnotations : spec.replicaServiceAnnotations),
  };
  if (loadBalancer) {
    const ranges = spec.allowedSourceRanges ?? [];
    serviceSpec.loadBalancerSourceRanges = ranges.length > 0 ? ranges : ['127.0.0.1/32'];
    serviceSpec.externalTrafficPolicy = config.external_traffic_policy;
    annotations[ELB_TIMEOUT_ANNOTATION] ??= '3600';
    annotations[DNS_ANNOTATION] = poolerDnsName(cluster, config, role);
  }
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: childMetadata(cluster, config, name, poolerLabels(cluster, config, role, false), {
      ...annotations,
      ...inheritedAnnotations(cluster, config),
    }),
    spec: serviceSpec,
  };
}

/** @returns the Deployment and Service of every pooler the manifest turns on (master first) */
export function buildPoolers(cluster: Postgresql, config: OperatorConfig): DesiredObject[] {
  return POOLER_ROLES.filter((role) => poolerEnabled(cluster.spec, role)).flatMap((role) => [
    buildPoolerService(cluster, config, role),
    buildPoolerDeployment(cluster, config, role),
  ]);
}
