/**
 * Real PgBouncer behind kwok's fake connection pooler pods: for every Running pod that matches a selector (default
 * `application=db-connection-pooler`, the label Zalando's pooler Deployments give their pods) and has a pod IP, it
 * starts Debian's `pgbouncer` listening on the pod's IP, configured from the pod's environment the way Zalando's
 * pooler image configures itself: `PGHOST`/`PGPORT` the database Service, `PGUSER`/`PGPASSWORD` (from the pooler
 * role's Secret) the `auth_user`, `PGSCHEMA` the schema of the `auth_query` function, `CONNECTION_POOLER_*` the
 * pool mode and sizes. Every other user is looked up with `SELECT * FROM <schema>.user_lookup($1)`, so the pooler
 * never sees their passwords.
 *
 * There is no cluster DNS nor kube-proxy: the Service name in `PGHOST` is followed to the first address of the
 * Endpoints of that name (the master Endpoints Patroni writes, the replica Endpoints the endpoints controller fills),
 * as kube-proxy would lead the Service's cluster IP there; when that address changes (a switchover), the harness
 * rewrites the configuration and reloads PgBouncer (SIGHUP), which reconnects its server connections. A pod that
 * goes away has its PgBouncer stopped.
 *
 * Pod IPs must be local addresses: run inside scripts/testenv/netns.sh, as for scripts/testenv/patroni-pods.ts.
 *
 * Source: PgBouncer docs, https://www.pgbouncer.org/config.html (databases, listen_addr, auth_type, auth_file,
 * auth_user, auth_query, pool_mode, default_pool_size, min_pool_size, reserve_pool_size, max_client_conn,
 * max_db_connections; SIGHUP reloads); Zalando postgres-operator v1.15.1 docs,
 * https://github.com/zalando/postgres-operator/blob/v1.15.1/docs/user.md#connection-pooler (the pod environment).
 */
import { type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeClient, type KubeObject } from '../../lib/k8s/client';
import { PollLoop } from './poll-loop';
import { spawnLogged, stopProcess, tail } from './patroni-process';

/** Where Debian's package puts the program. */
export const PGBOUNCER = '/usr/sbin/pgbouncer';

/** Options of {@link PoolerPods}. */
export interface PoolerPodsOptions {
  /** Admin kubeconfig (pods, their Secrets, Endpoints). */
  kubeconfig: string;
  namespace: string;
  /** Label selector of the pods to back; default `application=db-connection-pooler`. */
  selector?: string;
  /** Directory for each pod's configuration and log (`<pod>-<uid>/`). */
  dir: string;
  /** `[uid, gid]` to run PgBouncer as (it refuses to run as root). */
  runAs: [number, number] | undefined;
  /** How often the pods and Endpoints are read, in ms; default 500. */
  pollMs?: number;
  log?: (line: string) => void;
}

/** One running PgBouncer: its pod incarnation, the database address it points at, its process. */
interface Bouncer {
  uid: string;
  dir: string;
  target: string;
  settings: Settings;
  process: ChildProcess;
}

/** What a pod's environment asks of PgBouncer. */
interface Settings {
  ip: string;
  service: string;
  port: string;
  user: string;
  password: string;
  schema: string;
  env: Record<string, string>;
}

/** Starts and stops a PgBouncer per pooler pod, polling the pods; `stop()` ends them all. */
export class PoolerPods {
  private readonly bouncers = new Map<string, Bouncer>();
  private readonly client: KubeClient;
  private readonly loop: PollLoop;

  constructor(private readonly options: PoolerPodsOptions) {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(options.kubeconfig);
    this.client = new KubeClient(kubeConfig, { fieldManager: 'testenv-pooler-pods' });
    this.loop = new PollLoop(
      () => this.sync(),
      options.pollMs ?? 500,
      (error) => this.say(`round failed: ${error.message}`),
    );
    mkdirSync(options.dir, { recursive: true });
    if (options.runAs) chownSync(options.dir, ...options.runAs);
  }

  /** Starts polling (the first round at once). */
  start(): void {
    this.loop.start();
  }

  /** Stops polling and every PgBouncer. */
  async stop(): Promise<void> {
    await this.loop.stop();
    await Promise.all([...this.bouncers.values()].map((b) => stopProcess(b.process, 5_000)));
    this.bouncers.clear();
    this.client.close();
  }

  /** @returns the address a pod's PgBouncer points at now, by pod name (for tests) */
  targets(): Record<string, string> {
    return Object.fromEntries([...this.bouncers].map(([pod, b]) => [pod, b.target]));
  }

  /** @returns the end of a pod's PgBouncer log (for test failures) */
  logOf(pod: string): string {
    const bouncer = this.bouncers.get(pod);
    return bouncer ? tail(join(bouncer.dir, 'pgbouncer.log')) : `(no PgBouncer for ${pod})`;
  }

  private say(line: string): void {
    this.options.log?.(`pooler-pods: ${line}`);
  }

  private async sync(): Promise<void> {
    const { namespace } = this.options;
    const pods = await this.client.list('Pod', namespace, this.options.selector ?? 'application=db-connection-pooler');
    const running = new Map<string, KubeObject>();
    for (const pod of pods) {
      if (pod.status?.phase === 'Running' && pod.status?.podIP && !pod.metadata?.deletionTimestamp)
        running.set(pod.metadata!.name!, pod);
    }
    for (const [name, bouncer] of [...this.bouncers]) {
      if (running.get(name)?.metadata?.uid === bouncer.uid) continue;
      await stopProcess(bouncer.process, 5_000);
      this.bouncers.delete(name);
      this.say(`stopped ${name}`);
    }
    for (const [name, pod] of running) {
      const current = this.bouncers.get(name);
      const settings = current?.settings ?? (await this.settingsOf(pod));
      if (!settings) continue;
      const target = await this.serviceAddress(settings.service);
      if (!target) continue;
      if (!current) this.startBouncer(name, pod.metadata!.uid!, settings, target);
      else if (current.target !== target) {
        current.target = target;
        this.writeConfig(current.dir, settings, target);
        current.process.kill('SIGHUP');
        this.say(`${name} follows ${settings.service} to ${target}`);
      }
    }
  }

  /** Reads a pod's environment, the secretKeyRef values from their Secrets. */
  private async settingsOf(pod: KubeObject): Promise<Settings | undefined> {
    const container = pod.spec?.containers?.[0];
    const env: Record<string, string> = {};
    for (const item of (container?.env ?? []) as KubeObject[]) {
      if (item.value !== undefined) env[item.name] = item.value;
      const ref = item.valueFrom?.secretKeyRef;
      if (!ref) continue;
      const secret = await this.client.get({ kind: 'Secret', namespace: this.options.namespace, name: ref.name });
      const data = secret?.data?.[ref.key];
      if (data === undefined) return undefined;
      env[item.name] = Buffer.from(data, 'base64').toString('utf8');
    }
    const { PGHOST, PGPORT, PGUSER, PGPASSWORD, PGSCHEMA } = env;
    if (!PGHOST || !PGUSER || !PGPASSWORD || !PGSCHEMA) return undefined;
    return {
      ip: pod.status.podIP,
      service: PGHOST,
      port: PGPORT ?? '5432',
      user: PGUSER,
      password: PGPASSWORD,
      schema: PGSCHEMA,
      env,
    };
  }

  /** @returns the first address of the Endpoints named like the Service, as kube-proxy would route to */
  private async serviceAddress(service: string): Promise<string | undefined> {
    const endpoints = await this.client.get({ kind: 'Endpoints', namespace: this.options.namespace, name: service });
    return (endpoints?.subsets as KubeObject[] | undefined)?.flatMap((s) => (s.addresses ?? []) as KubeObject[])[0]?.ip;
  }

  private writeConfig(dir: string, s: Settings, target: string): void {
    const e = s.env;
    const ini = [
      '[databases]',
      `* = host=${target} port=${s.port} auth_user=${s.user}`,
      '',
      '[pgbouncer]',
      `listen_addr = ${s.ip}`,
      `listen_port = ${e.CONNECTION_POOLER_PORT ?? '5432'}`,
      `unix_socket_dir = ${dir}`,
      `pidfile = ${join(dir, 'pgbouncer.pid')}`,
      `logfile = ${join(dir, 'pgbouncer.log')}`,
      'auth_type = scram-sha-256',
      `auth_file = ${join(dir, 'userlist.txt')}`,
      `auth_query = SELECT * FROM ${s.schema}.user_lookup($1)`,
      `pool_mode = ${e.CONNECTION_POOLER_MODE ?? 'transaction'}`,
      `default_pool_size = ${e.CONNECTION_POOLER_DEFAULT_SIZE ?? '20'}`,
      `min_pool_size = ${e.CONNECTION_POOLER_MIN_SIZE ?? '0'}`,
      `reserve_pool_size = ${e.CONNECTION_POOLER_RESERVE_SIZE ?? '0'}`,
      `max_client_conn = ${e.CONNECTION_POOLER_MAX_CLIENT_CONN ?? '100'}`,
      `max_db_connections = ${e.CONNECTION_POOLER_MAX_DB_CONN ?? '0'}`,
      // Patroni's PostgreSQL runs with ssl = on (patroni-pods.ts), as Spilo's.
      'server_tls_sslmode = require',
      'ignore_startup_parameters = extra_float_digits,options',
      '',
    ].join('\n');
    const quote = (text: string) => `"${text.replaceAll('"', '""')}"`;
    writeFileSync(join(dir, 'pgbouncer.ini'), ini);
    writeFileSync(join(dir, 'userlist.txt'), `${quote(s.user)} ${quote(s.password)}\n`, { mode: 0o600 });
    if (this.options.runAs)
      for (const f of ['pgbouncer.ini', 'userlist.txt']) chownSync(join(dir, f), ...this.options.runAs);
  }

  private startBouncer(pod: string, uid: string, settings: Settings, target: string): void {
    const dir = join(this.options.dir, `${pod}-${uid}`);
    if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
    if (this.options.runAs) chownSync(dir, ...this.options.runAs);
    this.writeConfig(dir, settings, target);
    const process = spawnLogged(PGBOUNCER, [join(dir, 'pgbouncer.ini')], {
      logFile: join(dir, 'stdout.log'),
      runAs: this.options.runAs,
      cwd: dir,
    });
    this.bouncers.set(pod, { uid, dir, target, settings, process });
    this.say(`started ${pod} on ${settings.ip}:5432 -> ${settings.service} (${target})`);
  }
}

/** @returns why the pooler harness cannot run here, or false (in CI a missing pgbouncer fails the test instead) */
export function poolerPodsSkipReason(): string | false {
  if (existsSync(PGBOUNCER) || process.env.CI === 'true') return false;
  return `${PGBOUNCER} is missing: apt-get install pgbouncer`;
}
