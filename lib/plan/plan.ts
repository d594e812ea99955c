/**
 * Plans the writes that converge a cluster's children: desired objects + observed objects -> actions, each with a
 * reason. Nothing to do gives no actions, which is what makes a second sync free of write requests.
 *
 * Each desired object carries a hash of itself in an annotation; a changed hash catches fields the operator stopped
 * setting (server-side apply then removes them), and the field comparison catches edits made by others.
 */
import { createHash } from 'node:crypto';
import type { DesiredObject } from '../builders/object-meta';
import { IRSA_ANNOTATION } from '../builders/service-account';
import { findDrift } from './drift';
import { POD_TEMPLATE_HASH_ANNOTATION } from '../model/annotations';

/** Annotation holding the hash of the desired object last applied. */
export const DESIRED_HASH_ANNOTATION = 'acid.zalan.do/desired-hash';

/**
 * One write: server-side apply of an owned object, creation of a shared one that is missing, or deletion of an
 * owned one no longer wanted (a pooler turned off).
 */
export interface Action {
  type: 'apply' | 'create' | 'delete';
  /** whether the object is new, an existing one changes, or it goes */
  change: 'created' | 'updated' | 'deleted';
  object: DesiredObject;
  reason: string;
  /**
   * for an apply: the merge patch to send first, which removes a field set by another field manager that the API
   * refuses beside one the operator sets (see `exclusiveFieldsPatch`)
   */
  replaceFirst?: Record<string, unknown>;
}

/**
 * Pairs of `spec` fields the API accepts only one of, by kind. policy/v1 PodDisruptionBudget: "minAvailable and
 * maxUnavailable cannot be both set". Zalando's operator v1.15 writes the critical-operation PDB with
 * `minAvailable`; this operator (as Zalando v2.0) with `maxUnavailable`. Server-side apply merges into the fields of
 * the other manager, so applying over Zalando's object would be refused (422) on every sync of a cluster taken over.
 */
const EXCLUSIVE_SPEC_FIELDS: Readonly<Record<string, ReadonlyArray<readonly [string, string]>>> = {
  PodDisruptionBudget: [['minAvailable', 'maxUnavailable']],
};

/**
 * @returns the merge patch that hands a mutually exclusive field over in one write (the live object's field set to
 *   null, the desired one set), or undefined when the live object sets none the desired one leaves out
 */
export function exclusiveFieldsPatch(
  desired: DesiredObject,
  observed: LiveObject | undefined,
): Record<string, unknown> | undefined {
  const wanted = (desired.spec ?? {}) as Record<string, unknown>;
  const live = (observed?.spec ?? {}) as Record<string, unknown>;
  const spec: Record<string, unknown> = {};
  for (const pair of EXCLUSIVE_SPEC_FIELDS[desired.kind] ?? []) {
    const [set, other] = pair[0] in wanted ? pair : [pair[1], pair[0]];
    if (set in wanted && !(other in wanted) && other in live && live[other] !== null) {
      spec[other] = null;
      spec[set] = wanted[set];
    }
  }
  return Object.keys(spec).length > 0 ? { spec } : undefined;
}

/** A live object as read from the API server. */
export type LiveObject = {
  metadata?: {
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    managedFields?: unknown[];
    deletionTimestamp?: unknown;
  };
} & Record<string, unknown>;

/** Identifies an object within a namespace: `Kind/name`. */
export function objectKey(object: Pick<DesiredObject, 'kind' | 'metadata'>): string {
  return `${object.kind}/${object.metadata.name}`;
}

/**
 * @returns a copy of the object with the hash of its content in the `acid.zalan.do/desired-hash` annotation.
 *   Secret values are left out of the hash: a password must not leak into an annotation, and a password changed
 *   in the Secret is the new truth, not a change of desired state.
 */
export function withDesiredHash(object: DesiredObject): DesiredObject {
  const data = object.data as Record<string, string> | undefined;
  const hashed = object.kind === 'Secret' && data ? { ...object, data: Object.keys(data) } : object;
  const hash = createHash('sha256').update(JSON.stringify(hashed)).digest('hex').slice(0, 16);
  return {
    ...object,
    metadata: { ...object.metadata, annotations: { ...object.metadata.annotations, [DESIRED_HASH_ANNOTATION]: hash } },
  };
}

/** The object without the pod template hash annotation (StatefulSets; see `statefulset.ts`). */
function withoutPodTemplateHash(object: DesiredObject): DesiredObject {
  const template = (object.spec as { template?: { metadata?: { annotations?: Record<string, string> } } } | undefined)
    ?.template;
  const annotations = template?.metadata?.annotations;
  if (!annotations || !(POD_TEMPLATE_HASH_ANNOTATION in annotations)) return object;
  const { [POD_TEMPLATE_HASH_ANNOTATION]: _hash, ...rest } = annotations;
  const metadata = { ...template!.metadata, ...(Object.keys(rest).length > 0 ? { annotations: rest } : {}) };
  if (Object.keys(rest).length === 0) delete (metadata as { annotations?: unknown }).annotations;
  return { ...object, spec: { ...(object.spec as object), template: { ...template, metadata } } };
}

const podTemplateHashOf = (object: LiveObject | DesiredObject): string | undefined =>
  (object.spec as { template?: { metadata?: { annotations?: Record<string, string> } } } | undefined)?.template
    ?.metadata?.annotations?.[POD_TEMPLATE_HASH_ANNOTATION];

function podTemplateHashDrift(desired: DesiredObject, observed: LiveObject): string | undefined {
  const wanted = podTemplateHashOf(desired);
  const live = podTemplateHashOf(observed);
  return wanted === live
    ? undefined
    : `spec.template.metadata.annotations.${POD_TEMPLATE_HASH_ANNOTATION}: ${JSON.stringify(live) ?? 'absent'} -> ${JSON.stringify(wanted)}`;
}

/** Why an owned object needs applying, or undefined when it matches. */
export function applyReason(desired: DesiredObject, observed: LiveObject | undefined): string | undefined {
  const name = `${desired.kind} ${desired.metadata.name}`;
  if (!observed) return `${name} is missing`;
  const { [DESIRED_HASH_ANNOTATION]: hash, ...annotations } = desired.metadata.annotations ?? {};
  const { annotations: _all, ...metadata } = desired.metadata;
  const content = {
    ...desired,
    metadata: Object.keys(annotations).length > 0 ? { ...metadata, annotations } : metadata,
  };
  // A new pod template hash says nothing the template fields do not say better: compare those first.
  const drift = findDrift(withoutPodTemplateHash(content), observed) ?? podTemplateHashDrift(content, observed);
  if (drift) return `${name}: ${drift}`;
  if (hash !== undefined && observed.metadata?.annotations?.[DESIRED_HASH_ANNOTATION] !== hash) {
    return `${name}: fields the operator no longer sets are removed`;
  }
  return undefined;
}

/**
 * @param owned desired objects owned by the cluster (already carrying their hash, see `withDesiredHash`)
 * @param shared desired objects shared by the namespace: created when missing, otherwise left alone except the
 *   IRSA annotation of the ServiceAccount (`irsa_role_arn`)
 * @param observed live objects by `objectKey`
 * @returns the actions in the order of `owned` then `shared`
 */
export function planChildren(
  owned: readonly DesiredObject[],
  shared: readonly DesiredObject[],
  observed: ReadonlyMap<string, LiveObject>,
): Action[] {
  const actions: Action[] = [];
  for (const object of owned) {
    const current = observed.get(objectKey(object));
    const reason = applyReason(object, current);
    if (!reason) continue;
    const replaceFirst = exclusiveFieldsPatch(object, current);
    const handover = replaceFirst
      ? `; ${Object.entries(replaceFirst.spec as Record<string, unknown>)
          .map(([field, value]) => `spec.${field} ${value === null ? 'removed' : `set to ${JSON.stringify(value)}`}`)
          .join(', ')} first (the API accepts only one of them)`
      : '';
    actions.push({
      type: 'apply',
      change: current ? 'updated' : 'created',
      object,
      reason: reason + handover,
      ...(replaceFirst ? { replaceFirst } : {}),
    });
  }
  for (const object of shared) {
    const current = observed.get(objectKey(object));
    if (!current) {
      actions.push({
        type: 'create',
        change: 'created',
        object,
        reason: `${object.kind} ${object.metadata.name} is missing`,
      });
      continue;
    }
    // Of an existing shared object only the IRSA role is kept in sync (applied alone: nothing else is taken over).
    const arn = object.metadata.annotations?.[IRSA_ANNOTATION];
    const live = current.metadata?.annotations?.[IRSA_ANNOTATION];
    if (arn !== undefined && live !== arn) {
      const {
        apiVersion,
        kind,
        metadata: { name, namespace },
      } = object;
      actions.push({
        type: 'apply',
        change: 'updated',
        object: { apiVersion, kind, metadata: { name, namespace, annotations: { [IRSA_ANNOTATION]: arn } } },
        reason: `${kind} ${name}: metadata.annotations.${IRSA_ANNOTATION}: ${JSON.stringify(live) ?? 'absent'} -> ${JSON.stringify(arn)}`,
      });
    }
  }
  return actions;
}
