/**
 * One run at a time per process for work that reads the whole fleet (fleet sync): the periodic sync and an operator
 * config change often start together (the bridge's start delivers both), and two runs side by side hold two
 * inventories and take turns on the one CPU, each slower than the pair in a row. A run asked for while an equal
 * one (same key and fingerprint) is in flight gets that run's result; any other waits for it and then runs.
 *
 * The registry is process-wide (`globalThis`), not per module: the one-process deployment loads every function's
 * bundle, each with its own copy of this module.
 */

interface InFlight {
  fingerprint: string;
  done: Promise<unknown>;
}

const REGISTRY = Symbol.for('postgres-operator-functions.one-at-a-time');

function registry(): Map<string, InFlight> {
  const holder = globalThis as { [REGISTRY]?: Map<string, InFlight> };
  return (holder[REGISTRY] ??= new Map());
}

/**
 * Runs `run` after the run of the same `key` in flight in this process, or joins that run when it has the same
 * `fingerprint` (the caller would do exactly the same work).
 * @param key what the runs share, e.g. `fleet-sync`
 * @param fingerprint what makes two runs the same work, e.g. the config and options as JSON
 * @returns `run`'s result, or the joined run's; rejects as that run rejects
 */
export async function oneAtATime<T>(key: string, fingerprint: string, run: () => Promise<T>): Promise<T> {
  const runs = registry();
  for (;;) {
    const current = runs.get(key);
    if (!current) break;
    if (current.fingerprint === fingerprint) return current.done as Promise<T>;
    await current.done.catch(() => undefined);
  }
  const done = run();
  const entry = { fingerprint, done };
  runs.set(key, entry);
  try {
    return await done;
  } finally {
    if (runs.get(key) === entry) runs.delete(key);
  }
}
