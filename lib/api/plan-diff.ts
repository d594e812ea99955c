/**
 * Field-by-field differences between a desired child object and the live one, for the plan preview: what a
 * server-side apply of the desired object would change. Only the fields the desired object sets are compared (an
 * apply leaves the other fields alone); lists are compared whole, as an apply of an atomic list replaces it. Secret
 * values are never shown. Pure. Display only: whether an object changes at all is the plan's decision
 * (lib/plan/plan.ts `applyReason`), not this module's.
 */

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
const IGNORED = new Set(['metadata.managedFields', 'metadata.resourceVersion', 'metadata.uid', 'status']);

const segment = (parent: string, key: string) =>
  parent === '' ? key : /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `${parent}.${key}` : `${parent}[${JSON.stringify(key)}]`;

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * @param desired the object the sync would apply
 * @param live the object as it is, or undefined when it would be created
 * @returns the fields that differ, in the desired object's key order; for a Secret, `data` values are `<hidden>`
 */
export function fieldChanges(desired: Json, live: Json | undefined): FieldChange[] {
  const changes: FieldChange[] = [];
  const walk = (want: unknown, have: unknown, path: string) => {
    if (IGNORED.has(path)) return;
    if (isObject(want) && isObject(have)) {
      for (const [key, value] of Object.entries(want)) walk(value, have[key], segment(path, key));
      return;
    }
    if (isObject(want) && have === undefined) {
      for (const [key, value] of Object.entries(want)) walk(value, undefined, segment(path, key));
      return;
    }
    if (!same(want, have)) changes.push({ path, ...(have !== undefined ? { from: have } : {}), to: want });
  };
  walk(desired, live ?? {}, '');
  if (desired.kind !== 'Secret') return changes;
  return changes.map((c) =>
    /^(data|stringData)\b/.test(c.path)
      ? { path: c.path, ...('from' in c ? { from: '<hidden>' } : {}), to: '<hidden>' }
      : c,
  );
}
