/**
 * The comparison of the differential test (differential.test.ts): objects normalized so that only what an operator
 * chose remains, flattened into named leaves, diffed, and matched against docs/differences.md's table of allowed
 * differences. Pure: no I/O.
 */

/** A parsed JSON value. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = Record<string, any>;

/** One field that differs: `key` is `Kind/name:path`; values are JSON text, `<absent>` when missing on a side. */
export interface Difference {
  key: string;
  zalando: string;
  ours: string;
}

export const ABSENT = '<absent>';
const NAMESPACE = '<namespace>';

/**
 * @returns a copy of a live object without what the API server or chance decides (uid, resourceVersion,
 *   creationTimestamp, managedFields, generation, status, clusterIP(s), node ports, owner reference uids), with
 *   Secret passwords masked (keys compared, not values), and with `namespace` replaced by `<namespace>` in every
 *   string (the two sides run in different namespaces; fields that name the namespace still compare), and each
 *   `postgresql` object's uid (`clusterUids`: uid -> cluster name) by `<uid of <cluster>>` (the logical backup's
 *   bucket scope suffix carries it)
 */
export function normalize(object: Json, namespace: string, clusterUids: Record<string, string> = {}): Json {
  const copy = JSON.parse(JSON.stringify(object)) as Json;
  const meta = copy.metadata ?? {};
  for (const key of ['uid', 'resourceVersion', 'creationTimestamp', 'managedFields', 'generation', 'selfLink'])
    delete meta[key];
  delete copy.status;
  for (const ref of meta.ownerReferences ?? []) delete ref.uid;
  if (copy.kind === 'Service' && copy.spec) {
    delete copy.spec.clusterIP;
    delete copy.spec.clusterIPs;
    delete copy.spec.healthCheckNodePort;
    for (const port of copy.spec.ports ?? []) delete port.nodePort;
  }
  if (copy.kind === 'Secret' && copy.data?.password !== undefined) copy.data.password = '<password>';
  const uids = Object.entries(clusterUids);
  return replaceStrings(copy, (s) =>
    uids.reduce(
      (text, [uid, cluster]) => text.split(uid).join(`<uid of ${cluster}>`),
      s.split(namespace).join(NAMESPACE),
    ),
  ) as Json;
}

function replaceStrings(value: unknown, replace: (s: string) => string): unknown {
  if (typeof value === 'string') return replace(value);
  if (Array.isArray(value)) return value.map((v) => replaceStrings(v, replace));
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [replace(k), replaceStrings(v, replace)]));
  return value;
}

const segment = (key: string) => (/^[A-Za-z0-9_-]+$/.test(key) ? `.${key}` : `[${key}]`);

/**
 * Flattens a value into leaves: objects by key (`.key`, or `[key]` when the key has dots or slashes), arrays of
 * objects that all have a string `name` by name (`[postgres]`) plus a `#order` leaf with the names in order, other
 * arrays by index. The `SPILO_CONFIGURATION` env value is parsed as JSON, so its fields are named by path, and its
 * key order is a `#key-order` leaf (the text is what Kubernetes compares).
 */
export function flatten(value: unknown, path = '', out = new Map<string, string>()): Map<string, string> {
  if (Array.isArray(value)) {
    const named = value.length > 0 && value.every((v) => v && typeof v === 'object' && typeof v.name === 'string');
    if (named) {
      if (value.length > 1) out.set(`${path}#order`, value.map((v) => v.name).join(','));
      for (const item of value) {
        if (item.name === 'SPILO_CONFIGURATION' && typeof item.value === 'string') {
          const parsed = JSON.parse(item.value);
          out.set(`${path}[SPILO_CONFIGURATION]#key-order`, keyOrder(parsed).join(','));
          flatten(parsed, `${path}[SPILO_CONFIGURATION]`, out);
          const { name: _name, value: _value, ...rest } = item;
          flatten(rest, `${path}[SPILO_CONFIGURATION]`, out);
        } else flatten(item, `${path}[${item.name}]`, out);
      }
    } else if (value.length === 0) out.set(path, '[]');
    else value.forEach((item, i) => flatten(item, `${path}[${i}]`, out));
    return out;
  }
  if (value && typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.length === 0) out.set(path, '{}');
    for (const [key, item] of entries) flatten(item, `${path}${segment(key)}`, out);
    return out;
  }
  out.set(path, JSON.stringify(value));
  return out;
}

function keyOrder(value: unknown, path = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => keyOrder(v, `${path}[${i}]`));
  if (value && typeof value === 'object')
    return Object.entries(value).flatMap(([k, v]) => [`${path}.${k}`, ...keyOrder(v, `${path}.${k}`)]);
  return [];
}

/**
 * @returns the differences between Zalando's and our object of one kind and name (either may be missing: then one
 *   difference with path `(object)`). A `#key-order` leaf counts only when both sides have the same keys.
 */
export function diffObjects(kind: string, name: string, zalando?: Json, ours?: Json): Difference[] {
  const prefix = `${kind}/${name}:`;
  if (!zalando || !ours)
    return [{ key: `${prefix}(object)`, zalando: zalando ? 'exists' : ABSENT, ours: ours ? 'exists' : ABSENT }];
  const z = flatten(zalando);
  const o = flatten(ours);
  const out: Difference[] = [];
  for (const path of [...new Set([...z.keys(), ...o.keys()])].sort()) {
    const a = z.get(path) ?? ABSENT;
    const b = o.get(path) ?? ABSENT;
    if (a === b) continue;
    if (path.endsWith('#key-order') && [...a.split(',')].sort().join() !== [...b.split(',')].sort().join()) continue;
    if (path.endsWith('#order') && [...a.split(',')].sort().join() !== [...b.split(',')].sort().join()) continue;
    out.push({ key: `${prefix}${path.replace(/^\./, '')}`, zalando: a, ours: b });
  }
  return out;
}

/** A row of the table in docs/differences.md: the pattern of its first cell and the rest as written. */
export interface AllowedRow {
  pattern: string;
  zalando: string;
  ours: string;
  reason: string;
}

/**
 * Reads the table under the heading `# Differences from Zalando's operator` (docs/differences.md): one row per difference, its
 * first cell a `code` pattern over `Kind/name:path`, `*` standing for any text.
 * @throws Error when the section or its table is missing, or a row has no pattern
 */
export function allowedDifferences(readme: string): AllowedRow[] {
  const start = readme.search(/^#{1,2} Differences from Zalando's operator/m);
  if (start < 0) throw new Error('docs/differences.md has no heading "# Differences from Zalando\'s operator"');
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  const rows = section
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .slice(2);
  if (rows.length === 0) throw new Error('the differences section has no table rows');
  return rows.map((line) => {
    const cells = line
      .slice(1, line.trimEnd().length - 1)
      .split(/(?<!\\)\|/)
      .map((c) => c.trim().replace(/\\\|/g, '|'));
    const pattern = /^`([^`]+)`$/.exec(cells[0] ?? '')?.[1];
    if (!pattern) throw new Error(`a differences row has no \`pattern\` in its first cell: ${line}`);
    return { pattern, zalando: cells[1] ?? '', ours: cells[2] ?? '', reason: cells[3] ?? '' };
  });
}

const globRegExp = (pattern: string) =>
  new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);

/** @returns the keys no pattern matches, and the patterns that match no key */
export function matchAllowed(keys: string[], patterns: string[]): { unlisted: string[]; unused: string[] } {
  const regexps = patterns.map(globRegExp);
  const used = new Set<number>();
  const unlisted = new Set<string>();
  for (const key of keys) {
    const hits = regexps.map((r, i) => (r.test(key) ? i : -1)).filter((i) => i >= 0);
    if (hits.length === 0) unlisted.add(key);
    for (const i of hits) used.add(i);
  }
  return { unlisted: [...unlisted], unused: patterns.filter((_, i) => !used.has(i)) };
}
