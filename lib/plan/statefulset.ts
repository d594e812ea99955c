/**
 * How a change of the StatefulSet reaches the running cluster. Kubernetes updates a StatefulSet in place except
 * for `selector`, `serviceName`, `podManagementPolicy` and `volumeClaimTemplates`; with the `OnDelete` strategy a
 * new pod template reaches a pod only when the pod is recreated. So, as Zalando's operator does
 * (v1.15.1 `compareStatefulSetWith` in
 * https://github.com/zalando/postgres-operator/blob/v1.15.1/pkg/cluster/cluster.go, `syncStatefulSet` in sync.go,
 * `preScaleDown` in resources.go, `syncVolumes` in volumes.go):
 *
 * - an immutable field that differs: re-create the StatefulSet with orphan propagation (its pods keep running and
 *   are adopted by the new one);
 * - a pod template change the pods must be recreated for: mark the pods with
 *   `zalando-postgres-operator-rolling-update-required` (the recreation is the rolling update's job). Not for
 *   Patroni settings in `SPILO_CONFIGURATION`'s `bootstrap.dcs` (Patroni applies them at runtime), not for the
 *   Spilo image with `enable_lazy_spilo_upgrade`, not for pod annotations, and not when the StatefulSet was built
 *   by another operator (a takeover: the differences are reported field by field, the pods keep running);
 * - pod annotations only: patch them onto the running pods (Zalando v1.7+ does the same, no restart);
 * - a larger volume: grow the PersistentVolumeClaims, then re-create for the claim template; a smaller one is
 *   refused and the running size kept;
 * - fewer replicas: the StatefulSet removes the highest ordinals, so the caller checks that the master is not
 *   among them.
 *
 * Each desired pod template carries the hash of its recreate-relevant part (annotation
 * `acid.zalan.do/pod-template-hash`), so the pods created from it carry it too: a pod with another hash runs an
 * older template. Pure: no I/O; the field manager is passed in.
 *
 * Source: Kubernetes API reference, apps/v1 StatefulSetSpec (which fields may change) and "Server-Side Apply"
 * (managedFields); Zalando postgres-operator docs, reference/operator_parameters.md (enable_lazy_spilo_upgrade,
 * storage_resize_mode).
 */
import { createHash } from 'node:crypto';
import type { DesiredObject } from '../builders/object-meta';
import { ROLLING_UPDATE_ANNOTATION } from '../builders/statefulset';
import { POD_TEMPLATE_HASH_ANNOTATION } from '../model/annotations';
import { canonicalJson } from '../model/canonical';
import { compareQuantities, parseQuantity } from '../model/quantity';
import { findDrift } from './drift';
import { templateDifferences } from './template-differences';
import type { LiveObject } from './plan';

/** Settings that change the plan. */
export interface StatefulSetPlanOptions {
  /** `enable_lazy_spilo_upgrade`: an image change alone does not mark pods */
  lazySpiloUpgrade: boolean;
  /** the operator's server-side apply field manager (finds the template annotations it set before) */
  fieldManager: string;
}

/** A change that is not made, with the Event reason and the message for status and Event. */
export interface Refusal {
  reason: string;
  message: string;
}

/** What to do with the StatefulSet. */
export interface StatefulSetChange {
  /** the StatefulSet to apply: with the pod template hash, and refused changes reverted to what runs */
  desired: DesiredObject;
  /** why it must be deleted (orphaning its pods) and created again; or why it is being waited for */
  recreate?: string;
  /** the observed StatefulSet is already being deleted: only wait for it to go, then create */
  awaitDeletion?: boolean;
  /** why the pods must be recreated (they are marked for a rolling update) */
  rollingUpdate?: string;
  /**
   * The live StatefulSet was built by another operator (its pod template has no pod-template-hash, e.g. Zalando's
   * operator before a takeover): its pods are not marked, whatever the template differences; these are listed
   * field by field for the Event and the log. Absent for a StatefulSet this operator built.
   */
  adoption?: { differences: string[] };
  /** annotations to set on (and keys to remove from) the running pods, for an annotation-only template change */
  podAnnotations?: { set: Record<string, string>; remove: string[] };
  /** the volume grows: the PersistentVolumeClaims are resized before the claim template changes */
  volumeResize?: { from: string; to: string };
  /** replicas go down: the highest ordinals are removed */
  scaleDown?: { from: number; to: number };
  refusals: Refusal[];
}

type Json = Record<string, unknown>;
const obj = (value: unknown): Json =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {};

/** SPILO_CONFIGURATION texts without `bootstrap.dcs`, by input: a fleet shares a few distinct texts. */
const dcsFree = new Map<string, string>();

/** SPILO_CONFIGURATION without `bootstrap.dcs` (Patroni takes those at runtime, they do not need new pods). */
function withoutDcs(value: string): string {
  let out = dcsFree.get(value);
  if (out !== undefined) return out;
  try {
    const parsed = JSON.parse(value) as { bootstrap?: Json };
    if (parsed.bootstrap && typeof parsed.bootstrap === 'object') delete parsed.bootstrap.dcs;
    out = JSON.stringify(parsed);
  } catch {
    out = value;
  }
  if (dcsFree.size > 1000) dcsFree.clear();
  dcsFree.set(value, out);
  return out;
}

/**
 * The part of a pod template whose change needs new pods: no annotations, `SPILO_CONFIGURATION` without
 * `bootstrap.dcs`, and (lazy upgrade) no Spilo image. Copies only what it changes; the input is not modified.
 */
export function recreateRelevant(template: unknown, lazySpiloUpgrade: boolean): Json {
  const { annotations: _annotations, ...metadata } = obj(obj(template).metadata);
  const spec = obj(obj(template).spec);
  const containers = ((spec.containers ?? []) as Json[]).map((container) => {
    if (container.name !== 'postgres') return container;
    const { image: _image, ...rest } = container;
    const copy: Json = lazySpiloUpgrade ? rest : { ...container };
    if (Array.isArray(container.env)) {
      copy.env = (container.env as Json[]).map((v) =>
        v.name === 'SPILO_CONFIGURATION' && typeof v.value === 'string' ? { ...v, value: withoutDcs(v.value) } : v,
      );
    }
    return copy;
  });
  return { ...obj(template), metadata, spec: { ...spec, containers } };
}

/**
 * @param template a desired pod template (keys already sorted by `buildCluster`, so plain JSON is stable)
 * @returns the 16-hex-digit hash of its recreate-relevant part
 */
export function podTemplateHash(template: unknown, lazySpiloUpgrade: boolean): string {
  return createHash('sha256')
    .update(JSON.stringify(recreateRelevant(template, lazySpiloUpgrade)))
    .digest('hex')
    .slice(0, 16);
}

const templateAnnotations = (sts: Json | undefined): Record<string, string> =>
  obj(obj(obj(obj(sts?.spec).template).metadata).annotations) as Record<string, string>;

/** Template annotation keys the field manager applied (from managedFields), so keys others set are left alone. */
function ownedTemplateAnnotations(observed: LiveObject, fieldManager: string): Set<string> {
  const owned = new Set<string>();
  for (const entry of (observed.metadata?.managedFields ?? []) as Json[]) {
    if (entry.manager !== fieldManager) continue;
    const annotations = obj(obj(obj(obj(obj(entry.fieldsV1)['f:spec'])['f:template'])['f:metadata'])['f:annotations']);
    for (const key of Object.keys(annotations)) if (key.startsWith('f:')) owned.add(key.slice(2));
  }
  return owned;
}

/** Claim template fields compared exactly (the API server adds status and defaults elsewhere). */
function claimTemplates(sts: Json): unknown[] {
  return ((obj(sts.spec).volumeClaimTemplates ?? []) as Json[]).map((t) => {
    const metadata = obj(t.metadata);
    const spec = obj(t.spec);
    const storage = obj(obj(spec.resources).requests).storage;
    return {
      name: metadata.name,
      labels: metadata.labels ?? {},
      annotations: metadata.annotations ?? {},
      accessModes: spec.accessModes,
      storage: typeof storage === 'string' ? parseQuantity(storage) : storage,
      storageClassName: spec.storageClassName,
      volumeMode: spec.volumeMode ?? 'Filesystem',
      selector: spec.selector,
    };
  });
}

/** @returns why the StatefulSet cannot be updated in place, or undefined */
function immutableChange(desired: Json, observed: Json): string | undefined {
  const d = obj(desired.spec);
  const o = obj(observed.spec);
  if (canonicalJson(d.selector) !== canonicalJson(o.selector))
    return `spec.selector: ${JSON.stringify(o.selector)} -> ${JSON.stringify(d.selector)}`;
  if (d.serviceName !== o.serviceName)
    return `spec.serviceName: ${JSON.stringify(o.serviceName)} -> ${JSON.stringify(d.serviceName)}`;
  if ((d.podManagementPolicy ?? 'OrderedReady') !== (o.podManagementPolicy ?? 'OrderedReady')) {
    return `spec.podManagementPolicy: ${JSON.stringify(o.podManagementPolicy)} -> ${JSON.stringify(d.podManagementPolicy)}`;
  }
  const before = claimTemplates(observed);
  const after = claimTemplates(desired);
  if (canonicalJson(before) !== canonicalJson(after)) {
    const drift = findDrift(d.volumeClaimTemplates, o.volumeClaimTemplates, 'spec.volumeClaimTemplates');
    return drift ?? 'spec.volumeClaimTemplates changed';
  }
  return undefined;
}

const storageOf = (sts: Json): string | undefined => {
  const first = ((obj(sts.spec).volumeClaimTemplates ?? []) as Json[])[0];
  const storage = obj(obj(obj(first?.spec).resources).requests).storage;
  return typeof storage === 'string' ? storage : undefined;
};

/**
 * @param desired the StatefulSet as built (from `buildStatefulSet`)
 * @param observed the live StatefulSet, if any
 * @returns the StatefulSet to apply and the steps around it
 */
export function planStatefulSet(
  desired: DesiredObject,
  observed: LiveObject | undefined,
  options: StatefulSetPlanOptions,
): StatefulSetChange {
  const builtTemplate = obj(obj(desired.spec).template);
  const hash = podTemplateHash(builtTemplate, options.lazySpiloUpgrade);
  const template: Json = {
    ...builtTemplate,
    metadata: {
      ...obj(builtTemplate.metadata),
      annotations: { ...templateAnnotations(desired as Json), [POD_TEMPLATE_HASH_ANNOTATION]: hash },
    },
  };
  const next = { ...desired, spec: { ...obj(desired.spec), template } } as DesiredObject & { spec: Json };
  const change: StatefulSetChange = { desired: next, refusals: [] };
  if (!observed) return change;
  if (observed.metadata?.deletionTimestamp) {
    return {
      ...change,
      recreate: `StatefulSet ${desired.metadata.name} is being deleted: it is created again once it is gone`,
      awaitDeletion: true,
    };
  }

  const wanted = storageOf(next);
  const running = storageOf(observed as Json);
  if (wanted && running && parseQuantity(wanted) !== undefined && parseQuantity(running) !== undefined) {
    const order = compareQuantities(wanted, running);
    if (order < 0) {
      const [first, ...others] = next.spec.volumeClaimTemplates as Json[];
      const claims = obj(first!.spec);
      next.spec.volumeClaimTemplates = [
        {
          ...first,
          spec: {
            ...claims,
            resources: {
              ...obj(claims.resources),
              requests: { ...obj(obj(claims.resources).requests), storage: running },
            },
          },
        },
        ...others,
      ];
      change.refusals.push({
        reason: 'VolumeShrinkRefused',
        message: `cannot shrink persistent volume: volume.size ${wanted} is smaller than the current ${running}; keeping ${running}`,
      });
    } else if (order > 0) change.volumeResize = { from: running, to: wanted };
  }

  const recreate = immutableChange(next as Json, observed as Json);
  if (recreate) change.recreate = recreate;
  const liveTemplate = obj(obj(observed.spec).template);
  const liveHash = templateAnnotations(observed as Json)[POD_TEMPLATE_HASH_ANNOTATION];
  // Most syncs find the template unchanged: compare it whole first, the recreate-relevant parts only on a difference.
  const drift =
    findDrift(template, liveTemplate) === undefined
      ? undefined
      : findDrift(
          recreateRelevant(template, options.lazySpiloUpgrade),
          recreateRelevant(liveTemplate, options.lazySpiloUpgrade),
          'spec.template',
        );
  if (liveHash === undefined) {
    // Adoption: the pods run a template another operator built from the same manifest and config, so a difference
    // here says how the two operators build, not what the user asked for. Marking the pods would restart a whole
    // fleet on a takeover; they take the new template when they are next recreated. A change asked for after
    // this sync meets a template with our hash and marks the pods as usual.
    change.adoption = {
      differences: drift
        ? templateDifferences(
            recreateRelevant(template, options.lazySpiloUpgrade),
            recreateRelevant(liveTemplate, options.lazySpiloUpgrade),
          )
        : [],
    };
  } else if (drift) change.rollingUpdate = drift;
  else if (liveHash !== hash) change.rollingUpdate = 'spec.template: fields the pods no longer get are removed';

  const wantedAnnotations = templateAnnotations(next as Json);
  const liveAnnotations = templateAnnotations(observed as Json);
  const skip = new Set([POD_TEMPLATE_HASH_ANNOTATION, ROLLING_UPDATE_ANNOTATION]);
  const set = Object.fromEntries(
    Object.entries(wantedAnnotations).filter(([k, v]) => !skip.has(k) && liveAnnotations[k] !== v),
  );
  const owned = ownedTemplateAnnotations(observed, options.fieldManager);
  const remove = Object.keys(liveAnnotations)
    .filter((k) => !skip.has(k) && !(k in wantedAnnotations) && owned.has(k))
    .sort();
  if (Object.keys(set).length > 0 || remove.length > 0) change.podAnnotations = { set, remove };

  const from = obj(observed.spec).replicas as number | undefined;
  const to = next.spec.replicas as number;
  if (from !== undefined && to < from) change.scaleDown = { from, to };
  return change;
}

/** @returns the ordinal of a StatefulSet pod (`<sts>-<n>`), or undefined for another name */
export function podOrdinal(stsName: string, podName: string): number | undefined {
  if (!podName.startsWith(`${stsName}-`)) return undefined;
  const rest = podName.slice(stsName.length + 1);
  return /^\d+$/.test(rest) ? Number(rest) : undefined;
}
