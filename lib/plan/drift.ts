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
  const here = path || '(object)';
  if (Array.isArray(desired)) {
    if (!Array.isArray(observed) || observed.length !== desired.length)
      return `${here}: ${show(observed)} -> ${show(desired)}`;
    for (let i = 0; i < desired.length; i++) {
      const drift = findDrift(desired[i], observed[i], `${path}[${i}]`);
      if (drift) return drift;
    }
    return undefined;
  }
  if (desired !== null && typeof desired === 'object') {
    if (observed === null || typeof observed !== 'object' || Array.isArray(observed))
      return `${here}: ${show(observed)} -> ${show(desired)}`;
    for (const [key, value] of Object.entries(desired)) {
      const drift = findDrift(value, (observed as Record<string, unknown>)[key], path ? `${path}.${key}` : key);
      if (drift) return drift;
    }
    return undefined;
  }
  if (desired === observed) return undefined;
  if (typeof desired === 'string' && typeof observed === 'string' && sameQuantity(desired, observed)) return undefined;
  return `${here}: ${show(observed)} -> ${show(desired)}`;
}

/**
 * Every difference, not only the first: for a report that names each field (e.g. taking over a StatefulSet another
 * operator built). Same comparison as `findDrift`; arrays of another length are one difference.
 * @param limit at most this many differences are listed (a last entry says how many more there are)
 * @returns the differences as `path: observed -> desired`, in field order; empty when none
 */
export function listDrift(desired: unknown, observed: unknown, path = '', limit = 20): string[] {
  const found: string[] = [];
  collectDrift(desired, observed, path, found);
  if (found.length <= limit) return found;
  return [...found.slice(0, limit), `... and ${found.length - limit} more`];
}

function collectDrift(desired: unknown, observed: unknown, path: string, found: string[]): void {
  const here = path || '(object)';
  if (Array.isArray(desired)) {
    if (!Array.isArray(observed) || observed.length !== desired.length) {
      found.push(`${here}: ${show(observed)} -> ${show(desired)}`);
      return;
    }
    desired.forEach((item, i) => collectDrift(item, observed[i], `${path}[${i}]`, found));
    return;
  }
  if (desired !== null && typeof desired === 'object') {
    if (observed === null || typeof observed !== 'object' || Array.isArray(observed)) {
      found.push(`${here}: ${show(observed)} -> ${show(desired)}`);
      return;
    }
    for (const [key, value] of Object.entries(desired))
      collectDrift(value, (observed as Record<string, unknown>)[key], path ? `${path}.${key}` : key, found);
    return;
  }
  const drift = findDrift(desired, observed, path);
  if (drift) found.push(drift);
}
