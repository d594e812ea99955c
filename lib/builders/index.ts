/**
 * Builds the complete desired set of a cluster's children from the validated manifest and the operator config.
 * Pure and deterministic: object keys are sorted, so the same inputs always give byte-identical objects.
 */
import { sortKeys } from '../model/canonical';
import type { OperatorConfig } from '../model/config';
import type { Postgresql } from '../model/postgresql';
import { numberOfInstances } from './instances';
import { buildLogicalBackupCronJob } from './logical-backup';
import { logicalBackupEnabled } from '../model/logical-backup';
import { resourceNotes } from './resources';
import type { DesiredObject } from './object-meta';
import { buildPodDisruptionBudgets } from './pdb';
import { buildPoolers } from './pooler';
import { anyPoolerEnabled, poolerSettings } from '../model/pooler';
import { buildSecrets, secretUsers, type SecretFields } from './secrets';
import { buildPodServiceAccount } from './service-account';
import { buildMasterEndpoints, buildService } from './services';
import { additionalSecretNotes, buildStatefulSet, podEnvironmentConfigMap, sidecarNotes } from './statefulset';
import { tlsEnabled } from './tls';

export type { DesiredObject } from './object-meta';
export { secretFields, secretUsers, type SecretFields } from './secrets';
export { ROLLING_UPDATE_ANNOTATION } from './statefulset';

/** What the builders need besides the manifest and config. */
export interface BuildInputs {
  /** username -> password for every user `secretUsers` returns: existing ones from their Secrets, new ones random */
  passwords: Readonly<Record<string, string>>;
  /** username -> the Secret's `username` and `nextRotation` kept from the existing Secret (`secretFields`) */
  secretFields?: Readonly<Record<string, SecretFields>>;
}

/**
 * The desired children and the notes a sync reports (clamped instances, skipped users, and each value used in place
 * of the one given: resources raised or capped, the shm volume kept on), once, as a Warning naming the field.
 */
export interface DesiredState {
  /**
   * owned by the cluster, in apply order: Endpoints, Services, Secrets, PDBs, pooler Services and Deployments, the
   * logical backup CronJob, StatefulSet
   */
  objects: DesiredObject[];
  /** shared by the namespace (pod ServiceAccount and RoleBinding): created when missing, never owned */
  shared: DesiredObject[];
  notes: string[];
}

/** @returns the desired children of the cluster; throws only on caller bugs (a missing password) */
export function buildCluster(cluster: Postgresql, config: OperatorConfig, inputs: BuildInputs): DesiredState {
  const { instances, note } = numberOfInstances(cluster, config);
  const users = secretUsers(cluster, config);
  const endpoints = buildMasterEndpoints(cluster, config);
  const objects = [
    ...(endpoints ? [endpoints] : []),
    buildService(cluster, config, 'master'),
    buildService(cluster, config, 'replica'),
    ...buildSecrets(cluster, config, users.users, inputs.passwords, inputs.secretFields),
    ...buildPodDisruptionBudgets(cluster, config, instances),
    ...buildPoolers(cluster, config),
    ...(logicalBackupEnabled(cluster.spec) ? [buildLogicalBackupCronJob(cluster, config)] : []),
    buildStatefulSet(cluster, config, instances),
  ];
  const notes = [
    ...(note ? [note] : []),
    ...users.skipped.map((s) => s.reason),
    ...resourceNotes(cluster, config),
    ...sidecarNotes(cluster, config),
    ...additionalSecretNotes(cluster, config),
    ...(anyPoolerEnabled(cluster.spec) ? poolerSettings(cluster.spec, config).notes : []),
  ];
  // Zalando v1.15.1: the manifest can switch the shm volume on, not off (see statefulset.ts).
  if (cluster.spec.enableShmVolume === false && config.enable_shm_volume)
    notes.push('spec.enableShmVolume: false given, true used (enable_shm_volume is on in the operator config)');
  if (config.pod_environment_configmap && !podEnvironmentConfigMap(cluster, config)) {
    notes.push(
      `pod_environment_configmap ${config.pod_environment_configmap} is in another namespace: the pods cannot load it with envFrom`,
    );
  }
  // Zalando's docs ask for Spilo's group as fsGroup with TLS: the key is mounted readable by owner and group only.
  if (tlsEnabled(cluster) && (cluster.spec.spiloFSGroup ?? config.spilo_fsgroup) == null)
    notes.push(
      'spec.tls: neither spec.spiloFSGroup nor spilo_fsgroup is set: Spilo reads the key (mode 0640) only if the pod runs with its group as fsGroup (103 in the Spilo images)',
    );
  const shared = buildPodServiceAccount(config, cluster.metadata.namespace ?? 'default');
  return { objects: objects.map(sortKeys), shared: shared.map(sortKeys), notes };
}
