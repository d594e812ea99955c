/**
 * The syntax of Kubernetes label keys and values (annotation keys share the key syntax), as the API server
 * checks it, for values that come from the operator config and end up in every cluster's objects.
 *
 * - key: an optional prefix and `/`, then a name. The name has 1 to 63 characters, alphanumerics with `-`, `_`
 *   and `.` inside; the prefix is a DNS subdomain (lower-case alphanumerics and `-` in dot-separated parts, at
 *   most 253 characters).
 * - value: empty, or 1 to 63 characters with the syntax of a key's name.
 *
 * Source: Kubernetes docs, "Labels and Selectors" (Syntax and character set); apimachinery
 * `validation.IsQualifiedName` and `IsValidLabelValue`.
 *
 * @module
 */

/** The name part of a qualified name (label and annotation keys) and a label value: at most 63 characters. */
export const QUALIFIED_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
/** A DNS-1123 label (namespace, volume and container names; parts of a subdomain): at most 63 characters. */
export const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * @param key - a label or annotation key, e.g. `app.kubernetes.io/name`
 * @returns what is wrong with it (a phrase), or `undefined` when it is valid
 */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined) {
    if (prefix === '' || prefix.length > 253 || !prefix.split('.').every((part) => DNS_1123_LABEL.test(part)))
      return `the prefix of ${JSON.stringify(key)} is not a DNS subdomain`;
  }
  if (name === '') return `${JSON.stringify(key)} has an empty name`;
  if (name.length > 63) return `the name of ${JSON.stringify(key)} is longer than 63 characters`;
  if (!QUALIFIED_NAME.test(name))
    return `the name of ${JSON.stringify(key)} may hold only letters, digits, "-", "_" and "." and must start and end with a letter or digit`;
  return undefined;
}

/**
 * @param value - a label value, e.g. `spilo`
 * @returns what is wrong with it (a phrase), or `undefined` when it is valid (the empty value is)
 */
export function labelValueProblem(value: string): string | undefined {
  if (value === '') return undefined;
  if (value.length > 63) return `the value ${JSON.stringify(value)} is longer than 63 characters`;
  if (!QUALIFIED_NAME.test(value))
    return `the value ${JSON.stringify(value)} may hold only letters, digits, "-", "_" and "." and must start and end with a letter or digit`;
  return undefined;
}
