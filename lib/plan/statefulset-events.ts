/**
 * The Events of the StatefulSet steps of a sync (`lib/sync/cluster/statefulset-steps.ts`): what was done to the
 * volumes, the pods and the StatefulSet, worded for `kubectl describe postgresql`. No Event when a step changed
 * nothing (e.g. every pod was already marked).
 */
import { ROLLING_UPDATE_ANNOTATION } from '../builders/statefulset';
import type { StatefulSetChange } from './statefulset';

/** A Normal Event about the cluster. */
export interface StepReport {
  type: 'Normal';
  reason: string;
  message: string;
}

/**
 * @param grown the claims resized
 * @returns `VolumeResized`, or undefined when none was
 */
export function volumesResizedReport(
  grown: readonly string[],
  resize: NonNullable<StatefulSetChange['volumeResize']>,
): StepReport | undefined {
  if (grown.length === 0) return undefined;
  return {
    type: 'Normal',
    reason: 'VolumeResized',
    message: `Resized PersistentVolumeClaims ${grown.join(', ')} from ${resize.from} to ${resize.to}`,
  };
}

/**
 * @param statefulSet the StatefulSet's name
 * @param flagged the pods marked by this sync
 * @param why the template change that needs new pods; undefined when the StatefulSet is new (its pods predate it)
 * @returns `RollingUpdateRequired`, or undefined when no pod was marked
 */
export function podsMarkedReport(
  statefulSet: string,
  flagged: readonly string[],
  why: string | undefined,
): StepReport | undefined {
  if (flagged.length === 0) return undefined;
  return {
    type: 'Normal',
    reason: 'RollingUpdateRequired',
    message:
      `Marked pods ${flagged.join(', ')} for a rolling update: ` +
      (why ?? `they were not created by StatefulSet ${statefulSet} as it is now`),
  };
}

/**
 * @param patched the pods whose annotations were patched
 * @returns `PodAnnotationsUpdated` naming the keys set and removed (sorted), or undefined when no pod was patched
 */
export function podAnnotationsReport(
  change: NonNullable<StatefulSetChange['podAnnotations']>,
  patched: readonly string[],
): StepReport | undefined {
  if (patched.length === 0) return undefined;
  const keys = [...Object.keys(change.set), ...change.remove].sort();
  return {
    type: 'Normal',
    reason: 'PodAnnotationsUpdated',
    message: `Updated annotations ${keys.join(', ')} of pods ${patched.join(', ')}`,
  };
}

/**
 * @param why the change Kubernetes refuses in place (`StatefulSetChange.recreate`)
 * @returns `StatefulSetRecreated`
 */
export function statefulSetRecreatedReport(statefulSet: string, why: string): StepReport {
  return {
    type: 'Normal',
    reason: 'StatefulSetRecreated',
    message: `Re-created StatefulSet ${statefulSet}, keeping its pods: ${why}`,
  };
}

/**
 * @param statefulSet the StatefulSet's name
 * @param differences its pod template's differences from ours (`StatefulSetChange.adoption`)
 * @returns `StatefulSetAdopted`: Normal when the template already matched; Warning naming every difference when
 *   not, since the running pods keep the other operator's template until they are recreated
 */
export function adoptionReport(
  statefulSet: string,
  differences: readonly string[],
): { type: 'Normal' | 'Warning'; reason: string; message: string } {
  const taken = `Took over StatefulSet ${statefulSet}, which another operator built`;
  if (differences.length === 0)
    return { type: 'Normal', reason: 'StatefulSetAdopted', message: `${taken}: its pod template already matches` };
  return {
    type: 'Warning',
    reason: 'StatefulSetAdopted',
    message:
      `${taken}, without a rolling update: its pods keep running and get this operator's pod template when they ` +
      `are next recreated (annotate them ${ROLLING_UPDATE_ANNOTATION}=true to roll them now). ` +
      `Pod template differences: ${differences.join('; ')}`,
  };
}
