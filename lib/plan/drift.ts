/**
 * Finds where an observed object no longer matches what the operator wants. Only the fields the operator sets are
 * compared: fields the API server defaults (clusterIP, terminationMessagePath, ...) or others add are ignored,
 * and quantities compare by amount (`0.5` equals `500m`).
 */
import { sameQuantity } from '../model/quantity';

const show = (value: unknown): string => {
  const text = JSON.stringify(value);
  return text === undefined ? 'absent' : text.length > 60 ? `${text.slice(0, 57)}...` : text;
};

/** One difference: where (keys and list indexes from the object's root), and the observed and desired values there. */
export interface Difference {
  path: Array<string | number>;
  observed: unknown;
  desired: unknown;
}

/** @returns the path as `spec.template.spec.containers[0].image`, after `prefix`; `(object)` for the root */
function dotted(path: ReadonlyArray<string | number>, prefix = ''): string {
  const text = path.reduce<string>(
    (out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${key}` : key),
    prefix,
  );
  return text || '(object)';
}

const describe = (d: Difference, prefix: string) =>
  `${dotted(d.path, prefix)}: ${show(d.observed)} -> ${show(d.desired)}`;

/**
 * @param desired the fields the operator sets
 * @param observed the live object (or part of it)
 * @param path the dotted path of `desired` (for the message)
 * @returns the first difference as `path: observed -> desired` (e.g. `spec.replicas: 2 -> 3`), or undefined
 */
export function findDrift(desired: unknown, observed: unknown, path = ''): string | undefined {
  const [first] = differences(desired, observed, 1);
  return first && describe(first, path);
}

/**
 * Every difference, not only the first: for a report that names each field (e.g. taking over a StatefulSet another
 * operator built). Same comparison as `findDrift`; arrays of another length are one difference.
 * @param limit at most this many differences are listed (a last entry says how many more there are)
 * @returns the differences as `path: observed -> desired`, in field order; empty when none
 */
export function listDrift(desired: unknown, observed: unknown, path = '', limit = 20): string[] {
  const found = differences(desired, observed).map((d) => describe(d, path));
  if (found.length <= limit) return found;
  return [...found.slice(0, limit), `... and ${found.length - limit} more`];
}

/**
 * The comparison of `findDrift` as data, for a caller that shows the values (the operator API's plan preview).
 * @param stopAt at most this many differences are collected
 * @returns the differences in field order; empty when none
 */
export function differences(desired: unknown, observed: unknown, stopAt = Infinity): Difference[] {
  const found: Difference[] = [];
  collectDrift(desired, observed, [], found, stopAt);
  return found;
}

/** Walks `desired` and appends each difference to `found`, stopping once it holds `stopAt` of them. */
function collectDrift(
  desired: unknown,
  observed: unknown,
  path: Array<string | number>,
  found: Difference[],
  stopAt: number,
): void {
  if (Array.isArray(desired)) {
    if (!Array.isArray(observed) || observed.length !== desired.length) {
      found.push({ path, observed, desired });
      return;
    }
    for (let i = 0; i < desired.length && found.length < stopAt; i++)
      collectDrift(desired[i], observed[i], [...path, i], found, stopAt);
    return;
  }
  if (desired !== null && typeof desired === 'object') {
    if (observed === null || typeof observed !== 'object' || Array.isArray(observed)) {
      found.push({ path, observed, desired });
      return;
    }
    for (const [key, value] of Object.entries(desired)) {
      if (found.length >= stopAt) return;
      collectDrift(value, (observed as Record<string, unknown>)[key], [...path, key], found, stopAt);
    }
    return;
  }
  if (desired === observed) return;
  if (typeof desired === 'string' && typeof observed === 'string' && sameQuantity(desired, observed)) return;
  found.push({ path, observed, desired });
}
