/**
 * What a warm process remembers of the clusters its fleet syncs found in sync, so that the next fleet sync skips
 * the build and plan of a cluster none of whose inputs changed (at 10,000 clusters that work is most of a fleet
 * sync's CPU: 0.3-0.7 ms per cluster).
 *
 * The in-memory diff (`diff.ts`) is a function of the listed `postgresql` object, its listed children, the
 * namespace's shared objects, the operator config and the clock. The first four are named here by their versions:
 * every object's `resourceVersion` (which changes with any write to it, status included) and a hash of the parsed
 * config (computed once per config object; only the entries of the last config seen are kept). The clock only sets
 * the transition times of a status that changes, and when a password rotation is due, which the diff checks again
 * at every visit.
 *
 * One entry per cluster uid: a 16-hex-digit hash of the inputs, and the two findings a decision reads besides
 * drift (pods' progress, the master Endpoints having an address).
 */
import { createHash } from 'node:crypto';
import type { KubeObject } from '../../k8s/client';
import type { OperatorConfig } from '../../model/config';

/** What is remembered of a cluster found in sync. */
export interface InSync {
  /** the pods' progress as the diff found it (e.g. `1 of 1 pods ready`) */
  progress: string;
  /** whether the master Endpoints had an address */
  masterUp: boolean;
}

type Entry = InSync & { inputs: string };

/** The hash of each config object seen (each invocation parses or copies its own). */
const configHashes = new WeakMap<OperatorConfig, string>();
/** The clusters found in sync under the last config seen. */
let memo: { config: string; clusters: Map<string, Entry> } | undefined;

const hash = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 16);

/** @returns the entries of this config, made empty when another config was seen last and `create` is set */
function clustersOf(config: OperatorConfig, create: boolean): Map<string, Entry> | undefined {
  let key = configHashes.get(config);
  if (key === undefined) configHashes.set(config, (key = hash(JSON.stringify(config))));
  if (memo?.config !== key) {
    if (!create) return undefined;
    memo = { config: key, clusters: new Map() };
  }
  return memo.clusters;
}

/**
 * @param raw the `postgresql` object as listed
 * @param objects its children and the namespace's shared objects as listed
 * @returns a hash of the versions of all of them, or undefined when one has no resourceVersion (then nothing is
 *   remembered)
 */
export function inputsOf(raw: KubeObject, objects: Iterable<[string, KubeObject]>): string | undefined {
  const versions: string[] = [];
  for (const [key, object] of objects) {
    const version = object.metadata?.resourceVersion;
    if (!version) return undefined;
    versions.push(`${key}@${version}`);
  }
  const own = raw.metadata?.resourceVersion;
  if (!own) return undefined;
  return hash(`${own}\n${versions.sort().join('\n')}`);
}

/** @returns what was remembered of the cluster when it was last found in sync with these same inputs, or undefined */
export function knownInSync(config: OperatorConfig, uid: string, inputs: string): InSync | undefined {
  const entry = clustersOf(config, false)?.get(uid);
  return entry?.inputs === inputs ? entry : undefined;
}

/** Remembers that the cluster is in sync with these inputs (or forgets it, with `found` undefined). */
export function rememberInSync(config: OperatorConfig, uid: string, inputs: string, found: InSync | undefined): void {
  if (!found) {
    clustersOf(config, false)?.delete(uid);
    return;
  }
  clustersOf(config, true)!.set(uid, { ...found, inputs });
}

/** Forgets every cluster (a benchmark's first run then diffs them all, as a cold process does). */
export function forgetAllInSync(): void {
  memo = undefined;
}
