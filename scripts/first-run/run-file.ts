/**
 * What a running `npm start` tells `npm run psql` (the file `.testenv/main-run.json`): where its API server is and,
 * when the plane runs in a private network namespace (scripts/testenv/netns.sh), the process whose namespaces to
 * enter to reach it and the pod IPs.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The file's path. */
export const RUN_FILE = fileURLToPath(new URL('../../.testenv/main-run.json', import.meta.url));

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
