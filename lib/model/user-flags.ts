/**
 * Normalizes the role flags of a manifest user the way Zalando's operator does: any case, NO- forms, LOGIN added
 * unless LOGIN or NOLOGIN is given, NOLOGIN itself dropped (it is the absence of LOGIN), duplicates collapsed, sorted.
 *
 * Source: Zalando postgres-operator docs, reference/cluster_manifest.md ("users"); behaviour of v2.0.1.
 */

/** The PostgreSQL role attributes a flag may name (without the NO prefix). */
export const ROLE_ATTRIBUTES = [
  'SUPERUSER',
  'LOGIN',
  'CREATEDB',
  'INHERIT',
  'REPLICATION',
  'BYPASSRLS',
  'CREATEROLE',
] as const;

/** Result of normalizing a flag list: the flags, or the exact reason they are invalid. */
export type FlagResult = { ok: true; flags: string[] } | { ok: false; error: string };

const attributes = new Set<string>(ROLE_ATTRIBUTES);

/**
 * @param flags the list from `spec.users.<name>` (null or empty allowed)
 * @returns upper-case flags such as `["CREATEDB","LOGIN","SUPERUSER"]`, or an error like
 *   `user flag "foo" is not valid` / `conflicting user flags: "LOGIN" and "NOLOGIN"`
 */
export function normalizeUserFlags(flags: readonly string[] | null | undefined): FlagResult {
  const seen = new Set<string>();
  for (const raw of flags ?? []) {
    if (!/^[a-zA-Z][a-zA-Z0-9]*$/.test(raw))
      return { ok: false, error: `user flag ${JSON.stringify(raw)} is not alphanumeric` };
    const flag = raw.toUpperCase();
    const base = flag.startsWith('NO') && attributes.has(flag.slice(2)) ? flag.slice(2) : flag;
    if (!attributes.has(base)) return { ok: false, error: `user flag ${JSON.stringify(raw)} is not valid` };
    const inverse = base === flag ? `NO${flag}` : base;
    if (seen.has(inverse)) {
      const [positive, negative] = base === flag ? [flag, inverse] : [inverse, flag];
      return {
        ok: false,
        error: `conflicting user flags: ${JSON.stringify(positive)} and ${JSON.stringify(negative)}`,
      };
    }
    seen.add(flag);
  }
  if (!seen.has('NOLOGIN')) seen.add('LOGIN');
  seen.delete('NOLOGIN');
  return { ok: true, flags: [...seen].sort() };
}
