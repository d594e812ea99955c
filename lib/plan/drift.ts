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

/**
 * @param desired the fields the operator sets
 * @param observed the live object (or part of it)
 * @param path the dotted path of `desired` (for the message)
 * @returns the first difference as `path: observed -> desired` (e.g. `spec.replicas: 2 -> 3`), or undefined
 */
export function findDrift(desired: unknown, observed: unknown, path = ''): string | undefined {
  const found: string[] = [];
  collectDrift(desired, observed, path, found, 1);
  return found[0];
}

/**
 * Every difference, not only the first: for a report that names each field (e.g. taking over a StatefulSet another
 * operator built). Same comparison as `findDrift`; arrays of another length are one difference.
 * @param limit at most this many differences are listed (a last entry says how many more there are)
 * @returns the differences as `path: observed -> desired`, in field order; empty when none
 */
export function listDrift(desired: unknown, observed: unknown, path = '', limit = 20): string[] {
  const found: string[] = [];
  collectDrift(desired, observed, path, found, Infinity);
  if (found.length <= limit) return found;
  return [...found.slice(0, limit), `... and ${found.length - limit} more`];
}

/** Walks `desired` and appends each difference to `found`, stopping once it holds `stopAt` of them. */
function collectDrift(desired: unknown, observed: unknown, path: string, found: string[], stopAt: number): void {
  const here = path || '(object)';
  if (Array.isArray(desired)) {
    if (!Array.isArray(observed) || observed.length !== desired.length) {
      found.push(`${here}: ${show(observed)} -> ${show(desired)}`);
      return;
    }
    for (let i = 0; i < desired.length && found.length < stopAt; i++)
      collectDrift(desired[i], observed[i], `${path}[${i}]`, found, stopAt);
    return;
  }
  if (desired !== null && typeof desired === 'object') {
    if (observed === null || typeof observed !== 'object' || Array.isArray(observed)) {
      found.push(`${here}: ${show(observed)} -> ${show(desired)}`);
      return;
    }
    for (const [key, value] of Object.entries(desired)) {
      if (found.length >= stopAt) return;
      collectDrift(value, (observed as Record<string, unknown>)[key], path ? `${path}.${key}` : key, found, stopAt);
    }
    return;
  }
  if (desired === observed) return;
  if (typeof desired === 'string' && typeof observed === 'string' && sameQuantity(desired, observed)) return;
  found.push(`${here}: ${show(observed)} -> ${show(desired)}`);
}
