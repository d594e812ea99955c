/**
 * The master Service `<cluster>` and the replica Service `<cluster>-repl`, with the Endpoints `<cluster>` that
 * Patroni fills with the leader's address (endpoints mode: the master Service has no selector).
 *
 * Source: Zalando postgres-operator docs, reference/cluster_manifest.md (enableMasterLoadBalancer,
 * allowedSourceRanges, serviceAnnotations) and reference/operator_parameters.md (load balancer keys,
 * kubernetes_use_configmaps); Kubernetes API reference, core/v1 Service and Endpoints.
 */
import type { OperatorConfig } from '../model/config';
import type { Postgresql } from '../model/postgresql';
import { inheritedAnnotations, roleLabels, selectorLabels } from './labels';
import { dnsName, replicaServiceName } from './names';
import { childMetadata, type DesiredObject } from './object-meta';

type Role = 'master' | 'replica';

/** The annotation external-dns reads the host name of a load balancer from. */
export const DNS_ANNOTATION = 'external-dns.alpha.kubernetes.io/hostname';

/** The annotation of the AWS load balancer's idle connection timeout (seconds). */
export const ELB_TIMEOUT_ANNOTATION = 'service.beta.kubernetes.io/aws-load-balancer-connection-idle-timeout';

/**
 * Whether a role's Service is a load balancer: the manifest's `enable*LoadBalancer` wins, then the deprecated
 * `useLoadBalancer`/`replicaLoadBalancer` (used only when neither new field is set), then the config.
 */
export function loadBalancerEnabled(cluster: Postgresql, config: OperatorConfig, role: Role): boolean {
  const spec = cluster.spec;
  const explicit = role === 'master' ? spec.enableMasterLoadBalancer : spec.enableReplicaLoadBalancer;
  if (explicit !== undefined) return explicit;
  if (spec.enableMasterLoadBalancer === undefined && spec.enableReplicaLoadBalancer === undefined) {
    const deprecated = role === 'master' ? spec.useLoadBalancer : spec.replicaLoadBalancer;
    if (deprecated !== undefined) return deprecated;
  }
  return role === 'master' ? config.enable_master_load_balancer : config.enable_replica_load_balancer;
}

function nodePortEnabled(cluster: Postgresql, role: Role): boolean {
  return (role === 'master' ? cluster.spec.enableMasterNodePort : cluster.spec.enableReplicaNodePort) === true;
}

function annotations(
  cluster: Postgresql,
  config: OperatorConfig,
  role: Role,
  loadBalancer: boolean,
): Record<string, string> {
  const roleSpecific =
    role === 'master' ? cluster.spec.masterServiceAnnotations : cluster.spec.replicaServiceAnnotations;
  const out: Record<string, string> = {
    ...config.custom_service_annotations,
    ...cluster.spec.serviceAnnotations,
    ...roleSpecific,
    ...inheritedAnnotations(cluster, config),
  };
  if (loadBalancer) {
    // Zalando v1.15.1 (generateServiceAnnotations): a load balancer gets an idle timeout of an hour unless the
    // config or manifest gives one.
    out[ELB_TIMEOUT_ANNOTATION] ??= '3600';
    out[DNS_ANNOTATION] = dnsName(cluster, config, role);
  }
  return out;
}

/** @returns the core/v1 Service of a role */
export function buildService(cluster: Postgresql, config: OperatorConfig, role: Role): DesiredObject {
  const name = role === 'master' ? cluster.metadata.name : replicaServiceName(cluster.metadata.name);
  const nodePort = nodePortEnabled(cluster, role);
  const loadBalancer = !nodePort && loadBalancerEnabled(cluster, config, role);
  const port: Record<string, unknown> = { name: 'postgresql', port: 5432, targetPort: 5432, protocol: 'TCP' };
  const fixedNodePort = role === 'master' ? cluster.spec.masterNodePort : cluster.spec.replicaNodePort;
  if (nodePort && fixedNodePort) port.nodePort = fixedNodePort;
  const spec: Record<string, unknown> = {
    type: nodePort ? 'NodePort' : loadBalancer ? 'LoadBalancer' : 'ClusterIP',
    ports: [port],
  };
  if (role === 'replica' || config.kubernetes_use_configmaps) {
    spec.selector = { ...selectorLabels(cluster, config), [config.pod_role_label]: role };
  }
  if (loadBalancer) {
    const ranges = cluster.spec.allowedSourceRanges ?? [];
    spec.loadBalancerSourceRanges = ranges.length > 0 ? ranges : ['127.0.0.1/32'];
    spec.externalTrafficPolicy = config.external_traffic_policy;
  }
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: childMetadata(
      cluster,
      config,
      name,
      roleLabels(cluster, config, role),
      annotations(cluster, config, role, loadBalancer),
    ),
    spec,
  };
}

/**
 * @returns the master Endpoints, created empty for Patroni to fill; undefined in ConfigMap mode, where the master
 *   Service selects the leader pod itself
 */
export function buildMasterEndpoints(cluster: Postgresql, config: OperatorConfig): DesiredObject | undefined {
  if (config.kubernetes_use_configmaps) return undefined;
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: childMetadata(
      cluster,
      config,
      cluster.metadata.name,
      roleLabels(cluster, config, 'master'),
      inheritedAnnotations(cluster, config),
    ),
  };
}
