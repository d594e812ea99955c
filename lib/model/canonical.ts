/** Sorts object keys recursively (arrays keep their order: env order and list order carry meaning). */
export function sortKeys<T>(value: T): T {
  if (Array.isArray(value)) return value.map(sortKeys) as T;
  if (value === null || typeof value !== 'object') return value;
  // Default sort = UTF-16 code unit order; no intermediate entry arrays (fleet sync sorts thousands of objects).
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) out[key] = sortKeys((value as Record<string, unknown>)[key]);
  return out as T;
}

/** JSON text with sorted keys: equal values give equal text whatever order their keys were written in. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}
