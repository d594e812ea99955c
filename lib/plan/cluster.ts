/**
 * The plan of one cluster: its desired children (built from the manifest with the given passwords) against the
 * children observed, as the writes that converge them. Shared by `syncCluster` (children read by label) and fleet
 * sync (children from one list per kind), so "in sync" means the same in both. Pure: the config, the field manager
 * and the passwords are passed in.
 */
import { buildCluster, secretFields, secretUsers, type DesiredObject, type DesiredState } from '../builders';
import { numberOfInstances } from '../builders/instances';
import { rotationSettings, rotationsDue } from '../roles/rotation';
import { secretName } from '../builders/names';
import { POD_TEMPLATE_HASH_ANNOTATION } from '../model/annotations';
import type { OperatorConfig } from '../model/config';
import type { Postgresql } from '../model/postgresql';
import { objectKey, planChildren, withDesiredHash, type Action, type LiveObject } from './plan';
import { logicalBackupRemovals } from './logical-backup';
import { poolerRemovals } from './pooler';
import { planStatefulSet, type Refusal, type StatefulSetChange } from './statefulset';

/** What planning a cluster needs besides the manifest and what was observed. */
export interface ClusterPlanSettings {
  config: OperatorConfig;
  /** the operator's server-side apply field manager (finds the pod template annotations it set before) */
  fieldManager: string;
  /** replicas to keep instead of the manifest's: a scale-down held for a switchover (`scale-down.ts`) */
  keepReplicas?: number;
}

/** The desired children of a cluster and the actions that bring the observed ones there. */
export interface ClusterPlan {
  state: DesiredState;
  actions: Action[];
  /** how the StatefulSet change reaches the running cluster (see `statefulset.ts`) */
  statefulSet: StatefulSetChange;
  /** the instances the manifest asks for (after the builders' clamping; a held scale-down does not change it) */
  instances: number;
}

/** A plan with every change it refuses: a held scale-down (`scale-down.ts`) first, then the StatefulSet's. */
export type ClusterPlanResult = ClusterPlan & { refusals: Refusal[] };

/** @returns whether the plan writes to children (a sync makes those writes only holding the cluster's Lease) */
export const needsWrites = (plan: ClusterPlan): boolean => plan.actions.length > 0;

/** @returns the StatefulSet's `spec.replicas` of a desired state (0 when it has none) */
const replicasOf = (statefulSet: DesiredObject | undefined): number =>
  (statefulSet?.spec as { replicas?: number } | undefined)?.replicas ?? 0;

/** @returns a lookup of the decoded `username` and `nextRotation` of each user's observed Secret */
function rotationFieldsOf(cluster: Postgresql, config: OperatorConfig, observed: ReadonlyMap<string, LiveObject>) {
  const decode = (value: string | undefined) =>
    value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8');
  return (user: string) => {
    const data = observed.get(`Secret/${secretName(config, cluster.metadata.name, user)}`)?.data as
      Record<string, string> | undefined;
    return data && { username: decode(data.username), nextRotation: decode(data.nextRotation) };
  };
}

/**
 * @param now the clock of the sync (periodic sync passes its own)
 * @returns the users whose password rotation is due (see `rotationsDue`): the fleet sync runs the role step for them
 */
export function passwordRotationsDue(
  cluster: Postgresql,
  config: OperatorConfig,
  observed: ReadonlyMap<string, LiveObject>,
  now: Date,
): string[] {
  // The role step, the only one that rotates, does not run without database access or instances.
  if (!config.enable_database_access || numberOfInstances(cluster, config).instances <= 0) return [];
  const { users, system } = secretUsers(cluster, config);
  const { modes } = rotationSettings(
    cluster,
    config,
    users.filter((u) => !system.includes(u)),
    system,
  );
  return rotationsDue(modes, rotationFieldsOf(cluster, config, observed), now);
}

/**
 * Builds the desired children (with the given passwords) and plans them against what was observed. The
 * StatefulSet is planned first (`planStatefulSet`): it gets its pod template hash, and refused changes (a smaller
 * volume) are reverted to what runs before the other actions are planned.
 * @param observed live children by `Kind/name` (shared objects included)
 * @param passwords username -> password for every user with a Secret
 * @returns the plan; throws only on caller bugs (a missing password)
 */
export function planCluster(
  cluster: Postgresql,
  observed: ReadonlyMap<string, LiveObject>,
  passwords: Readonly<Record<string, string>>,
  settings: ClusterPlanSettings,
): ClusterPlan {
  // A rotated Secret's username and next rotation date are the truth, as its password is (`lib/roles/rotation.ts`).
  const fields = secretFields(cluster, settings.config, rotationFieldsOf(cluster, settings.config, observed));
  const built = buildCluster(cluster, settings.config, { passwords, secretFields: fields });
  let sts = built.objects.find((o) => o.kind === 'StatefulSet');
  if (!sts) throw new Error(`the builders made no StatefulSet for ${cluster.metadata.name}`);
  const instances = replicasOf(sts);
  // A held scale-down keeps the replicas that run.
  if (settings.keepReplicas !== undefined)
    sts = { ...sts, spec: { ...(sts.spec as object), replicas: settings.keepReplicas } };
  const statefulSet = planStatefulSet(sts, observed.get(objectKey(sts)), {
    lazySpiloUpgrade: settings.config.enable_lazy_spilo_upgrade,
    fieldManager: settings.fieldManager,
  });
  const state = { ...built, objects: built.objects.map((o) => (o.kind === 'StatefulSet' ? statefulSet.desired : o)) };
  return {
    state,
    actions: [
      ...planChildren(state.objects.map(withDesiredHash), state.shared, observed),
      ...poolerRemovals(cluster, settings.config, state.objects, observed),
      ...logicalBackupRemovals(cluster, state.objects, observed),
    ],
    statefulSet,
    instances,
  };
}

/**
 * @param statefulSet a StatefulSet planned by `planStatefulSet` (its pod template carries the hash)
 * @returns the pod template hash annotation of its pod template; throws when there is none (a caller bug)
 */
export function desiredPodTemplateHash(statefulSet: DesiredObject): string {
  const spec = statefulSet.spec as { template?: { metadata?: { annotations?: Record<string, string> } } } | undefined;
  const hash = spec?.template?.metadata?.annotations?.[POD_TEMPLATE_HASH_ANNOTATION];
  if (hash === undefined)
    throw new Error(`StatefulSet ${statefulSet.metadata.name} has no ${POD_TEMPLATE_HASH_ANNOTATION} annotation`);
  return hash;
}

/**
 * @param statefulSet a desired StatefulSet
 * @returns its selector's `matchLabels` (empty when it has none)
 */
export function desiredSelector(statefulSet: DesiredObject): Record<string, string> {
  return (
    (statefulSet.spec as { selector?: { matchLabels?: Record<string, string> } } | undefined)?.selector?.matchLabels ??
    {}
  );
}
