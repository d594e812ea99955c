/**
 * The number of database pods: the manifest's `numberOfInstances` clamped by `max_instances` then `min_instances`
 * (-1 = no limit), a standby cluster always 1, and no clamping when the manifest carries the
 * `ignore_instance_limits_annotation_key` annotation with value "true".
 *
 * Source: Zalando postgres-operator docs, reference/operator_parameters.md (min_instances, max_instances).
 */
import type { OperatorConfig } from '../model/config';
import type { Postgresql } from '../model/postgresql';

/** @returns the replicas of the StatefulSet, and a note when the manifest's number was changed */
export function numberOfInstances(cluster: Postgresql, config: OperatorConfig): { instances: number; note?: string } {
  const wanted = cluster.spec.numberOfInstances;
  if (cluster.spec.standby) {
    return wanted === 1
      ? { instances: 1 }
      : { instances: 1, note: `standby clusters run exactly 1 instance (manifest asks for ${wanted})` };
  }
  const ignoreKey = config.ignore_instance_limits_annotation_key;
  if (ignoreKey && cluster.metadata.annotations?.[ignoreKey] === 'true') return { instances: wanted };
  let instances = wanted;
  if (config.max_instances >= 0 && instances > config.max_instances) instances = config.max_instances;
  if (config.min_instances >= 0 && instances < config.min_instances) instances = config.min_instances;
  if (instances === wanted) return { instances };
  return {
    instances,
    note: `adjusted number of instances from ${wanted} to ${instances} (min: ${config.min_instances}, max: ${config.max_instances})`,
  };
}
