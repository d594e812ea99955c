/**
 * A throwaway Patroni cluster for integration tests: one etcd (Patroni's DCS) and N Patroni + PostgreSQL members,
 * all real processes on loopback in a temp dir, each member on its own address (127.x.y.k, ports 8008 and 5432,
 * the way each pod has its own IP), stopped and removed by `stop()`.
 *
 * Needs: Debian's `patroni` (3.x) and PostgreSQL server binaries (`/usr/lib/postgresql/<major>/bin`, or
 * `PG_BIN`), and an `etcd` binary (`$TESTENV_BIN`, `$KUBEBUILDER_ASSETS`, or the build cache of
 * scripts/testenv/build.sh). PostgreSQL refuses to run as root, so as root the members run as the `postgres`
 * user (setpriv), and their directories are handed to it.
 *
 * Source: Patroni YAML configuration docs (https://patroni.readthedocs.io/en/latest/yaml_configuration.html):
 * `restapi`, `etcd3`, `bootstrap.dcs`, `postgresql`; Patroni 3.0.2's sample member config
 * (https://github.com/patroni/patroni/blob/v3.0.2/postgres0.yml).
 */
import type { ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { PatroniClient, patroniUrl, type PatroniCluster } from '../../lib/patroni';
import {
  killPostmaster,
  removeIfInterrupted,
  spawnLogged,
  stopProcess,
  tail,
  testClusterDcs,
  until,
  type PatroniTools,
} from '../../scripts/testenv/patroni-process';

export { findPatroniTools, until, type PatroniTools } from '../../scripts/testenv/patroni-process';

/** Test passwords of the members' PostgreSQL roles (loopback only, thrown away with the cluster). */
export const PASSWORDS = { superuser: 'patroni-test-superuser', replication: 'patroni-test-standby' } as const;

/** One member of a test cluster. */
export interface TestMember {
  name: string;
  /** The address the member listens on (REST API :8008, PostgreSQL :5432), like a pod IP. */
  host: string;
  apiUrl: string;
  client: PatroniClient;
  dir: string;
  process: ChildProcess | undefined;
}

/** Options of {@link startPatroniCluster}. */
export interface PatroniClusterOptions {
  /** Patroni `scope` (the cluster name); default `pgtest`. */
  scope?: string;
  /** Member count (named `<scope>-0` ...), default 3. The first one bootstraps and leads. */
  members?: number;
  /** How long to wait for the cluster to be healthy, in ms; default 120000. */
  timeoutMs?: number;
}

/** A running test cluster; call `stop()` when done (also after a failed test). */
export interface PatroniTestCluster {
  scope: string;
  members: TestMember[];
  etcdEndpoint: string;
  dir: string;
  member(name: string): TestMember;
  /**
   * Waits until one member leads and every other one is a replica that streams with a known lag on the
   * leader's timeline.
   */
  waitHealthy(timeoutMs?: number): Promise<PatroniCluster>;
  /** Stops one member's Patroni (SIGTERM: Patroni stops its PostgreSQL first); its data dir is kept. */
  stopMember(name: string): Promise<void>;
  /** Starts a stopped member again on its kept data dir. */
  startMember(name: string): void;
  /** The tail of a member's log (Patroni and PostgreSQL) without its idle-loop lines, for failure messages. */
  log(name: string, lines?: number): string;
  /** Stops every process and removes the temp dir. */
  stop(): Promise<void>;
}

/**
 * Whether a Patroni log line says something in a failure message: not the once-a-loop "no action" and "Lock owner"
 * lines (an idle member writes them every second and they would fill the tail), and of a pg_controldata dump
 * (indented lines) only the cluster state.
 */
function tellingLogLine(line: string): boolean {
  if (line.includes('INFO: no action.') || line.includes('INFO: Lock owner:')) return false;
  return !/^\s/.test(line) || line.includes('Database cluster state');
}

/**
 * Starts etcd and the members: the first one alone (it runs initdb and takes the leader key), then the others,
 * which clone it with pg_basebackup.
 * @throws Error with the members' logs when the cluster is not healthy within `timeoutMs`
 */
export async function startPatroniCluster(
  tools: PatroniTools,
  options: PatroniClusterOptions = {},
): Promise<PatroniTestCluster> {
  const scope = options.scope ?? 'pgtest';
  const count = options.members ?? 3;
  const timeoutMs = options.timeoutMs ?? 120_000;
  const dir = mkdtempSync(join(tmpdir(), 'patroni-'));
  const forget = removeIfInterrupted(dir);
  const processes: ChildProcess[] = [];
  let etcd: ChildProcess | undefined;
  // A random 127.x.y.0/24 per cluster, so parallel runs (and other users of 8008/5432) do not collide.
  const net = `127.${randomInt(16, 250)}.${randomInt(1, 250)}`;
  const members: TestMember[] = [];

  const stop = async (): Promise<void> => {
    await Promise.all(members.map((m) => stopProcess(m.process, 30_000)));
    for (const m of members) killPostmaster(join(m.dir, 'data'));
    await stopProcess(etcd, 10_000);
    if (process.env.KEEP_TEST_LOGS) console.error(`# patroni test cluster kept: ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
    forget();
  };

  try {
    const [clientPort, peerPort] = await freePorts(2);
    const etcdEndpoint = `http://127.0.0.1:${clientPort}`;
    etcd = spawnLogged(
      tools.etcd,
      [
        '--name=patroni-test',
        `--data-dir=${join(dir, 'etcd')}`,
        `--listen-client-urls=${etcdEndpoint}`,
        `--advertise-client-urls=${etcdEndpoint}`,
        `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
        `--initial-cluster=patroni-test=http://127.0.0.1:${peerPort}`,
        '--unsafe-no-fsync',
        '--log-level=warn',
      ],
      { logFile: join(dir, 'etcd.log'), runAs: undefined },
    );
    processes.push(etcd);
    await until(
      'etcd healthy',
      20_000,
      async () => {
        const res = await fetch(`${etcdEndpoint}/health`).catch(() => undefined);
        return res?.ok ? true : undefined;
      },
      () => tail(join(dir, 'etcd.log')),
    );

    for (let i = 0; i < count; i++) {
      const name = `${scope}-${i}`;
      const host = `${net}.${i + 1}`;
      const memberDir = join(dir, name);
      mkdirSync(memberDir, { mode: 0o700 });
      writeFileSync(
        join(memberDir, 'patroni.yml'),
        stringify(memberConfig(tools, scope, name, host, memberDir, `127.0.0.1:${clientPort}`)),
      );
      if (tools.runAs) chownSync(memberDir, ...tools.runAs);
      if (tools.runAs) chownSync(join(memberDir, 'patroni.yml'), ...tools.runAs);
      const apiUrl = patroniUrl(host);
      members.push({
        name,
        host,
        apiUrl,
        dir: memberDir,
        process: undefined,
        client: new PatroniClient(apiUrl, { timeoutMs: 3_000 }),
      });
    }
    if (tools.runAs) chownSync(dir, ...tools.runAs);

    const start = (m: TestMember): void => {
      m.process = spawnLogged(tools.patroni, [join(m.dir, 'patroni.yml')], {
        logFile: join(m.dir, 'patroni.log'),
        runAs: tools.runAs,
        cwd: m.dir,
        dataDir: join(m.dir, 'data'),
      });
    };
    const logs = (): string =>
      members.map((m) => `--- ${m.name}\n${tail(join(m.dir, 'patroni.log'), 50, tellingLogLine)}`).join('\n');

    start(members[0]!);
    await until(
      `${members[0]!.name} leads`,
      timeoutMs,
      async () => {
        const status = await members[0]!.client.getStatus().catch(() => undefined);
        return status?.state === 'running' && (status.role === 'master' || status.role === 'primary')
          ? true
          : undefined;
      },
      logs,
    );
    for (const m of members.slice(1)) start(m);

    const cluster: PatroniTestCluster = {
      scope,
      members,
      etcdEndpoint,
      dir,
      member(name) {
        const found = members.find((m) => m.name === name);
        if (!found) throw new Error(`no member ${name} in ${scope}`);
        return found;
      },
      async waitHealthy(ms = timeoutMs) {
        return until(
          `${scope}: one leader and ${count - 1} streaming replicas`,
          ms,
          async () => {
            for (const m of members) {
              const view = await m.client.getCluster().catch(() => undefined);
              if (!view || view.members.length !== count) continue;
              const leaders = view.members.filter((x) => x.role === 'leader');
              // On the leader's timeline: a demoted leader is a replica before it has followed the new timeline.
              const replicas = view.members.filter(
                (x) =>
                  x.role !== 'leader' &&
                  (x.state === 'running' || x.state === 'streaming') &&
                  typeof x.lag === 'number' &&
                  x.timeline === leaders[0]?.timeline,
              );
              if (leaders.length === 1 && leaders[0]!.state === 'running' && replicas.length === count - 1) return view;
            }
            return undefined;
          },
          logs,
        );
      },
      async stopMember(name) {
        const m = cluster.member(name);
        await stopProcess(m.process, 30_000);
        killPostmaster(join(m.dir, 'data'));
        m.process = undefined;
      },
      startMember(name) {
        const m = cluster.member(name);
        if (m.process && m.process.exitCode === null) throw new Error(`${name} is running`);
        start(m);
      },
      log(name, lines = 50) {
        return tail(join(cluster.member(name).dir, 'patroni.log'), lines, tellingLogLine);
      },
      stop,
    };
    await cluster.waitHealthy();
    return cluster;
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}

/** One member's Patroni configuration: etcd v3 DCS, short timings, everything inside the member's dir. */
function memberConfig(
  tools: PatroniTools,
  scope: string,
  name: string,
  host: string,
  dir: string,
  etcdHost: string,
): Record<string, unknown> {
  return {
    scope,
    name,
    restapi: { listen: `${host}:8008`, connect_address: `${host}:8008` },
    etcd3: { hosts: [etcdHost] },
    bootstrap: {
      dcs: testClusterDcs(1048576),
      initdb: [{ encoding: 'UTF8' }, { locale: 'C' }, 'no-sync'],
      pg_hba: ['local all all trust', 'host replication standby 0.0.0.0/0 md5', 'host all all 0.0.0.0/0 md5'],
    },
    postgresql: {
      listen: `${host}:5432`,
      connect_address: `${host}:5432`,
      data_dir: join(dir, 'data'),
      bin_dir: tools.pgBin,
      pgpass: join(dir, 'pgpass'),
      authentication: {
        superuser: { username: 'postgres', password: PASSWORDS.superuser },
        replication: { username: 'standby', password: PASSWORDS.replication },
        rewind: { username: 'postgres', password: PASSWORDS.superuser },
      },
      parameters: { unix_socket_directories: dir },
      basebackup: { checkpoint: 'fast' },
    },
  };
}

async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const s = createServer();
          s.once('error', reject);
          s.listen(0, '127.0.0.1', () => resolve(s));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}
