/**
 * Field-by-field differences between a desired child object and the live one, for the plan preview: what a
 * server-side apply of the desired object would change. The comparison is the plan's own (`differences` of
 * lib/plan/drift.ts): only the fields the desired object sets, lists element by element (so fields the API server
 * defaults inside a container are not changes), quantities by amount. Secret values are never shown. Pure. Display
 * only: whether an object changes at all is the plan's decision (lib/plan/plan.ts `applyReason`).
 */
import { differences } from '../plan/drift';

/** One field that changes: its path (`spec.replicas`, `metadata.labels["team"]`), the live and the desired value. */
export interface FieldChange {
  path: string;
  /** the live value; undefined when the field is absent */
  from?: unknown;
  /** the desired value; undefined when the field goes */
  to?: unknown;
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** Fields the API server or the operator's bookkeeping owns: never shown as a change. */
const IGNORED = ['metadata.managedFields', 'metadata.resourceVersion', 'metadata.uid', 'status'];

const segment = (parent: string, key: string | number) =>
  typeof key === 'number'
    ? `${parent}[${key}]`
    : parent === ''
      ? key
      : /^[A-Za-z_][A-Za-z0-9_]*$/.test(key)
        ? `${parent}.${key}`
        : `${parent}[${JSON.stringify(key)}]`;

/** A new object (or section) is shown field by field, as the fields it will have. */
function leaves(path: string, value: unknown, out: FieldChange[]): void {
  if (isObject(value) && Object.keys(value).length > 0)
    for (const [key, inner] of Object.entries(value)) leaves(segment(path, key), inner, out);
  else out.push({ path, to: value });
}

/**
 * @param desired the object the sync would apply
 * @param live the object as it is, or undefined when it would be created
 * @returns the fields that differ, in the desired object's key order; for a Secret, `data` values are `<hidden>`
 */
export function fieldChanges(desired: Json, live: Json | undefined): FieldChange[] {
  const changes: FieldChange[] = [];
  for (const d of differences(desired, live ?? {})) {
    const path = d.path.reduce<string>(segment, '');
    if (IGNORED.some((ignored) => path === ignored || path.startsWith(`${ignored}.`))) continue;
    if (d.observed === undefined) leaves(path, d.desired, changes);
    else changes.push({ path, from: d.observed, to: d.desired });
  }
  if (desired.kind !== 'Secret') return changes;
  return changes.map((c) =>
    /^(data|stringData)\b/.test(c.path)
      ? { path: c.path, ...('from' in c ? { from: '<hidden>' } : {}), to: '<hidden>' }
      : c,
  );
}
