/**
 * Metadata every object has once the API server stores it (`metadata.name`, `metadata.resourceVersion`), read from
 * objects typed with @kubernetes/client-node's models, where every field is optional. An object without them was
 * not read from the API (or was built wrong): that is a bug, and it fails loudly here instead of later as
 * `undefined`.
 *
 * Note on those models: they type timestamps (`creationTimestamp`, `deletionTimestamp`, MicroTime fields) as
 * `Date`, but objects read as JSON carry RFC 3339 strings; test such fields for presence only, or give them a
 * string type (as `lease.ts` does for the Lease spec).
 *
 * Source: Kubernetes API conventions, "Metadata" (name and resourceVersion are set on every persisted object).
 */
/** The part of an object these read: a typed model (`KubernetesObject`), a desired object, a manifest. */
type Named = { kind?: string; metadata?: { name?: string; namespace?: string; resourceVersion?: string } };

/** @returns `Kind namespace/name` for messages, as far as the object tells */
const what = (object: Named) => {
  const { namespace, name } = object.metadata ?? {};
  return `${object.kind ?? 'object'} ${namespace ? `${namespace}/` : ''}${name ?? '(no name)'}`;
};

/** @returns the object's `metadata.name`; throws when it has none (never so for an object read from the API) */
export function nameOf(object: Named): string {
  const name = object.metadata?.name;
  if (typeof name !== 'string') throw new Error(`${what(object)} has no metadata.name`);
  return name;
}

/** @returns the object's `metadata.resourceVersion`; throws when it has none (never so for an object read from the API) */
export function resourceVersionOf(object: Named): string {
  const version = object.metadata?.resourceVersion;
  if (typeof version !== 'string') throw new Error(`${what(object)} has no metadata.resourceVersion`);
  return version;
}

/**
 * @returns the object's `metadata.namespace`; throws when it has none (a namespaced object read from the API
 *   always has one)
 */
export function namespaceOf(object: Named): string {
  const namespace = object.metadata?.namespace;
  if (typeof namespace !== 'string') throw new Error(`${what(object)} has no metadata.namespace`);
  return namespace;
}
