/**
 * PodDisruptionBudgets: the master PDB (`pdb_name_format`) keeps a drain from evicting the master before a
 * switchover; the critical-operation PDB protects pods Spilo labels `critical-operation: "true"` while it
 * bootstraps or upgrades.
 *
 * Source: Zalando postgres-operator docs, reference/operator_parameters.md (enable_pod_disruption_budget,
 * pdb_name_format, pdb_master_label_selector); Kubernetes API reference, policy/v1 PodDisruptionBudget.
 */
import type { OperatorConfig } from '../model/config';
import type { Postgresql } from '../model/postgresql';
import { inheritedAnnotations, objectLabels, selectorLabels } from './labels';
import { criticalOpPdbName, pdbName } from './names';
import { childMetadata, type DesiredObject } from './object-meta';

/** @returns the master PDB and the critical-operation PDB */
export function buildPodDisruptionBudgets(
  cluster: Postgresql,
  config: OperatorConfig,
  instances: number,
): DesiredObject[] {
  const enabled = config.enable_pod_disruption_budget && instances > 0;
  const labels = objectLabels(cluster, config);
  const annotations = inheritedAnnotations(cluster, config);
  const masterSelector = config.pdb_master_label_selector
    ? { ...selectorLabels(cluster, config), [config.pod_role_label]: 'master' }
    : selectorLabels(cluster, config);
  let minAvailable = enabled ? 1 : 0;
  const patroni = cluster.spec.patroni;
  if (enabled && !config.pdb_master_label_selector && patroni?.synchronous_mode_strict) {
    minAvailable = (patroni.synchronous_node_count ?? 1) + 1;
  }
  return [
    {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: childMetadata(cluster, config, pdbName(config, cluster.metadata.name), labels, annotations),
      spec: { minAvailable, selector: { matchLabels: masterSelector } },
    },
    {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: childMetadata(cluster, config, criticalOpPdbName(cluster.metadata.name), labels, annotations),
      spec: {
        maxUnavailable: enabled ? 0 : '100%',
        selector: { matchLabels: { ...selectorLabels(cluster, config), 'critical-operation': 'true' } },
      },
    },
  ];
}
