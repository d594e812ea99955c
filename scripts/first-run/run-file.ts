/**
 * What a running `npm start` tells `npm run psql` (the file `.testenv/main-run.json`, see {@link MAIN_STATE_DIR}): where its API server is and,
 * when the plane runs in a private network namespace (scripts/testenv/netns.sh), the process whose namespaces to
 * enter to reach it and the pod IPs.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Where the main job keeps its state: `main/` (the local plane), `main-logs/`, `main-run.json`. Env
 * `MAIN_STATE_DIR` moves it (the first-run test does, so it never meets a developer's `npm start`).
 */
export const MAIN_STATE_DIR = (
  process.env.MAIN_STATE_DIR ?? fileURLToPath(new URL('../../.testenv', import.meta.url))
).replace(/\/$/, '');

/** The file's path. */
export const RUN_FILE = `${MAIN_STATE_DIR}/main-run.json`;

/** The main job's run, as written to {@link RUN_FILE}. */
export interface MainRun {
  /** the main job's process id; with `netns`, a process inside the namespace */
  pid: number;
  /** the kubeconfig of its local control plane */
  kubeconfig: string;
  /** whether the plane and the pods run in a private network and mount namespace (enter with nsenter) */
  netns: boolean;
  namespace: string;
  cluster: string;
}

/** Writes the run file (replacing one left by an earlier run). */
export function writeRun(run: MainRun): void {
  mkdirSync(MAIN_STATE_DIR, { recursive: true });
  writeFileSync(RUN_FILE, `${JSON.stringify(run, null, 2)}\n`);
}

/** Removes the run file if it is this process's. */
export function removeRun(pid = process.pid): void {
  if (readRun()?.pid === pid) rmSync(RUN_FILE, { force: true });
}

/** @returns the run of an `npm start` that is still running, or undefined */
export function readRun(): MainRun | undefined {
  if (!existsSync(RUN_FILE)) return undefined;
  let run: MainRun;
  try {
    run = JSON.parse(readFileSync(RUN_FILE, 'utf8')) as MainRun;
  } catch {
    return undefined;
  }
  try {
    process.kill(run.pid, 0);
  } catch {
    return undefined;
  }
  return run;
}
