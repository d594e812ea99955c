/**
 * Processes of real Patroni members for tests: find Debian's patroni, PostgreSQL and etcd on this machine, spawn
 * a member in its own process group (as the `postgres` user when running as root: PostgreSQL refuses root) and
 * stop it, including a postmaster that outlived a killed Patroni. Used by test/integration/patroni.ts (Patroni
 * with an etcd DCS) and scripts/testenv/patroni-pods.ts (Patroni behind kwok pods, Kubernetes DCS).
 *
 * Source: Patroni docs (https://patroni.readthedocs.io/en/latest/): configuration, "Shutdown" (SIGTERM stops
 * PostgreSQL first); PostgreSQL docs, "Shutting Down the Server" (SIGQUIT = immediate shutdown).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, closeSync, existsSync, openSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** The programs a Patroni cluster needs, found on this machine. */
export interface PatroniTools {
  patroni: string;
  pgBin: string;
  etcd: string;
  /** `[uid, gid]` of the user the members run as when this process is root; undefined when not root. */
  runAs: [number, number] | undefined;
}

/**
 * Finds patroni, the PostgreSQL binaries and etcd.
 * @returns the tools, or a string saying what is missing (for a test's `skip`)
 */
export function findPatroniTools(): PatroniTools | string {
  const patroni = ['/usr/bin/patroni', '/usr/local/bin/patroni'].find((p) => existsSync(p));
  if (!patroni) return 'patroni is not installed (Debian: apt-get install patroni; .ci/run installs it)';
  const pgBin = process.env.PG_BIN ?? newestPgBin();
  if (!pgBin || !existsSync(join(pgBin, 'initdb'))) {
    return 'no PostgreSQL server binaries (set PG_BIN or install postgresql-15)';
  }
  const etcdDirs = [
    process.env.TESTENV_BIN,
    process.env.KUBEBUILDER_ASSETS,
    join(homedir(), '.cache/postgres-operator-functions/testenv/v1.34.4/bin'),
  ];
  const etcd = etcdDirs
    .filter((d): d is string => !!d)
    .map((d) => join(d, 'etcd'))
    .find((p) => existsSync(p));
  if (!etcd) return 'no etcd binary (set TESTENV_BIN, or run scripts/testenv/build.sh)';
  let runAs: [number, number] | undefined;
  if (process.getuid?.() === 0) {
    try {
      runAs = [
        Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })),
        Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })),
      ];
    } catch {
      return 'running as root and there is no `postgres` user to run PostgreSQL as';
    }
  }
  return { patroni, pgBin, etcd, runAs };
}

function newestPgBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const majors = readdirSync(root)
    .filter((v) => /^\d+$/.test(v))
    .map(Number)
    .sort((a, b) => b - a);
  return majors.map((m) => join(root, String(m), 'bin')).find((d) => existsSync(join(d, 'initdb')));
}

/** Where and how {@link spawnLogged} runs a program. */
export interface SpawnOptions {
  /** Output (stdout and stderr) is appended here. */
  logFile: string;
  /** `[uid, gid]` to run as (through setpriv), when this process is root. */
  runAs: [number, number] | undefined;
  /** Working directory, also the program's HOME. */
  cwd?: string;
  /** Extra environment, e.g. KUBECONFIG; every PG* variable of this process is dropped. */
  env?: Record<string, string>;
  /** Start from this process's environment (default true); false: `env` only, as a container gets. */
  inheritEnv?: boolean;
  /** The PostgreSQL data directory the program runs, so an interrupted test can stop its postmaster too. */
  dataDir?: string;
}

/** Processes started here and not stopped yet, with their data dirs: killed if this process is interrupted. */
const live = new Map<ChildProcess, string | undefined>();
/** Temp dirs to remove if this process is interrupted (see {@link removeIfInterrupted}). */
const scratch = new Set<string>();
let handlersInstalled = false;
let signalsOwned = false;

/**
 * For a long-running caller that stops the members itself when it gets SIGINT or SIGTERM (the main job, `npm start`):
 * the harness then kills what is left only at exit, and does not exit on those signals in the middle of that stop.
 */
export function stopMembersOnOwnSignals(): void {
  signalsOwned = true;
}

/**
 * Registers a temp dir to remove when this test process is interrupted (SIGINT/SIGTERM) before it could clean
 * up; call the returned function once the dir is removed normally.
 */
export function removeIfInterrupted(dir: string): () => void {
  installSignalHandlers();
  scratch.add(dir);
  return () => {
    scratch.delete(dir);
  };
}

/**
 * A test process killed by SIGINT/SIGTERM (Ctrl-C, an interrupted run-integration.sh) runs no `after` hooks, and
 * the members run in their own process groups and sessions: kill them here, synchronously, then exit.
 */
function installSignalHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  const killAll = (): void => {
    for (const [child, dataDir] of live) {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
      if (dataDir) killPostmaster(dataDir);
    }
    live.clear();
    for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
    scratch.clear();
  };
  process.once('exit', killAll);
  if (signalsOwned) return;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killAll();
      process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
    });
  }
}

/**
 * Spawns a program in its own process group (so a stop reaches its helpers), detached from this process's
 * event loop; as root with `runAs`, through `setpriv` as that user (setpriv execs, so the PID stays the
 * program's).
 */
export function spawnLogged(program: string, args: string[], options: SpawnOptions): ChildProcess {
  const { logFile, runAs, cwd } = options;
  const fd = openSync(logFile, 'a');
  if (runAs) chownSync(logFile, ...runAs);
  const [cmd, cmdArgs] = runAs
    ? ['setpriv', [`--reuid=${runAs[0]}`, `--regid=${runAs[1]}`, '--clear-groups', '--', program, ...args]]
    : [program, args];
  const env: NodeJS.ProcessEnv = {
    ...(options.inheritEnv === false ? {} : process.env),
    HOME: cwd ?? process.env.HOME,
  };
  for (const key of Object.keys(env)) if (key.startsWith('PG')) delete env[key];
  Object.assign(env, options.env);
  const child = spawn(cmd, cmdArgs, { detached: true, stdio: ['ignore', fd, fd], cwd, env });
  closeSync(fd);
  child.unref();
  installSignalHandlers();
  live.set(child, options.dataDir);
  child.once('exit', () => live.delete(child));
  return child;
}

/**
 * Stops a process started by {@link spawnLogged}: SIGTERM to its process group, SIGKILL after `graceMs`;
 * resolves once it has exited (at once when it is not running).
 */
export async function stopProcess(child: ChildProcess | undefined, graceMs: number): Promise<void> {
  if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const signal = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-child.pid!, sig);
    } catch {
      /* already gone */
    }
  };
  signal('SIGTERM');
  const timer = setTimeout(() => signal('SIGKILL'), graceMs);
  // The child is unref'd (spawnLogged), so after the SIGKILL timer nothing would keep the event loop alive to
  // deliver its 'exit', and a test awaiting this would end as "Promise resolution is still pending".
  const keepAlive = setInterval(() => undefined, 1_000);
  await exited;
  clearTimeout(timer);
  clearInterval(keepAlive);
}

/**
 * PostgreSQL's postmaster runs in its own session (Patroni starts it with setsid), so a Patroni killed hard
 * leaves it behind: stop it by the PID in its postmaster.pid (immediate shutdown, SIGQUIT).
 */
export function killPostmaster(dataDir: string): void {
  const pidFile = join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 1) return;
  try {
    process.kill(pid, 'SIGQUIT');
  } catch {
    /* not running */
  }
}

/** Polls `check` every 250 ms until it returns a value; throws with `describe()` after `timeoutMs`. */
export async function until<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | undefined>,
  describe: () => string = () => '',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms\n${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** @returns the last `lines` lines of a log file (of those `keep` accepts), or a note that it does not exist */
export function tail(file: string, lines = 40, keep: (line: string) => boolean = () => true): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').filter(keep).slice(-lines).join('\n');
  } catch {
    return `(no ${file})`;
  }
}

/**
 * The `bootstrap.dcs` section of the test clusters: short timings so leader changes are quick (Patroni's defaults
 * are ttl 30, loop_wait 10, retry_timeout 10), small PostgreSQL settings, no fsync, and what pg_rewind needs to bring
 * a demoted master back (full_page_writes, wal_log_hints). Source: Patroni "Dynamic Configuration Settings".
 * @param maximumLagOnFailover bytes a replica may lag and still be promoted
 */
export function testClusterDcs(maximumLagOnFailover: number): Record<string, unknown> {
  return {
    ttl: 20,
    loop_wait: 1,
    retry_timeout: 5,
    maximum_lag_on_failover: maximumLagOnFailover,
    postgresql: {
      use_pg_rewind: true,
      use_slots: true,
      parameters: {
        max_connections: 20,
        shared_buffers: '16MB',
        wal_level: 'replica',
        hot_standby: 'on',
        max_wal_senders: 10,
        max_replication_slots: 10,
        wal_keep_size: '64MB',
        fsync: 'off',
        synchronous_commit: 'off',
        full_page_writes: 'on',
        wal_log_hints: 'on',
      },
    },
  };
}
