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
