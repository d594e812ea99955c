/**
 * Real logical backups behind kwok's fake logical backup pods: for every pod that matches a selector (default
 * `application=spilo-logical-backup`, the label Zalando's logical backup Jobs give their pods) it runs, once per pod,
 * what Zalando's logical-backup image runs (its dump.sh), from the pod's environment: it finds a replica of the
 * cluster `SCOPE` through the API (pods labelled `<CLUSTER_NAME_LABEL>=<SCOPE>,spilo-role=replica`), else the master,
 * runs `pg_dumpall` against its pod IP with the `PG*` env (the password from the superuser's Secret) and writes the
 * gzip-compressed dump where the s3 upload would put it, under a local directory that stands in for the bucket:
 * `<dir>/<LOGICAL_BACKUP_S3_BUCKET>/<LOGICAL_BACKUP_S3_BUCKET_PREFIX>/<SCOPE><LOGICAL_BACKUP_S3_BUCKET_SCOPE_SUFFIX>/logical_backups/<epoch seconds>.sql.gz`.
 * Retention is not applied (the image leaves it to `aws s3api`).
 *
 * Pod IPs must be local addresses: run inside scripts/testenv/netns.sh, as for scripts/testenv/patroni-pods.ts.
 *
 * Source: Zalando postgres-operator v1.15.1, logical-backup/dump.sh
 * (https://github.com/zalando/postgres-operator/blob/v1.15.1/logical-backup/dump.sh: the replica-then-master search,
 * `pg_dumpall` with settings from the environment, the bucket path); PostgreSQL docs, pg_dumpall and "Environment
 * Variables" (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE, PGSSLMODE).
 */
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeClient, type KubeObject } from '../../lib/k8s/client';
import { PollLoop } from './poll-loop';

/** Options of {@link LogicalBackupJobs}. */
export interface LogicalBackupJobsOptions {
  /** Admin kubeconfig (pods and Secrets). */
  kubeconfig: string;
  namespace: string;
  /** Directory of PostgreSQL's client programs (`pg_dumpall`). */
  pgBin: string;
  /** The directory that stands in for the buckets. */
  dir: string;
  /** Label selector of the pods to run; default `application=spilo-logical-backup`. */
  selector?: string;
  /** How often the pods are read, in ms; default 500. */
  pollMs?: number;
  log?: (line: string) => void;
}

/** What one backup pod's run did. */
export interface BackupRun {
  pod: string;
  /** the address dumped from */
  host: string;
  /** the dump written (absolute path), when `pg_dumpall` succeeded */
  file?: string;
  /** `pg_dumpall`'s exit code, or undefined when it did not start (no member found, env unresolved) */
  exitCode?: number;
  error?: string;
}

/** Runs the logical backup of each logical backup pod once, polling the pods; `stop()` ends polling. */
export class LogicalBackupJobs {
  /** finished runs by pod uid */
  readonly runs = new Map<string, BackupRun>();
  private readonly started = new Set<string>();
  private readonly client: KubeClient;
  private readonly loop: PollLoop;

  constructor(private readonly options: LogicalBackupJobsOptions) {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(options.kubeconfig);
    this.client = new KubeClient(kubeConfig, { fieldManager: 'testenv-logical-backup-jobs' });
    this.loop = new PollLoop(
      () => this.sync(),
      options.pollMs ?? 500,
      (error) => this.say(`round failed: ${error.message}`),
    );
  }

  /** Starts polling (the first round at once). */
  start(): void {
    this.loop.start();
  }

  /** Stops polling, after the round in progress (and the dumps it started). */
  async stop(): Promise<void> {
    await this.loop.stop();
    this.client.close();
  }

  private say(line: string): void {
    this.options.log?.(`logical-backup-jobs: ${line}`);
  }

  private async sync(): Promise<void> {
    const { namespace } = this.options;
    const pods = await this.client.list('Pod', namespace, this.options.selector ?? 'application=spilo-logical-backup');
    for (const pod of pods) {
      const uid = pod.metadata?.uid;
      // Once scheduled: a pod kwok has not placed yet would not run on a real node either.
      if (!uid || this.started.has(uid) || !pod.spec?.nodeName || pod.metadata?.deletionTimestamp) continue;
      this.started.add(uid);
      const run = await this.backup(pod);
      this.runs.set(uid, run);
      this.say(`${run.pod}: ${run.file ?? run.error}`);
    }
  }

  /** Resolves a pod's env as the kubelet would: values, Secret keys, the namespace field. */
  private async envOf(pod: KubeObject): Promise<Record<string, string>> {
    const env: Record<string, string> = {};
    for (const item of (pod.spec?.containers?.[0]?.env ?? []) as KubeObject[]) {
      const ref = item.valueFrom?.secretKeyRef;
      if (item.valueFrom?.fieldRef?.fieldPath === 'metadata.namespace') env[item.name] = pod.metadata!.namespace!;
      else if (ref) {
        const secret = await this.client.get({ kind: 'Secret', namespace: this.options.namespace, name: ref.name });
        const data = secret?.data?.[ref.key];
        if (data === undefined) throw new Error(`env ${item.name}: Secret ${ref.name} has no key ${ref.key}`);
        env[item.name] = Buffer.from(data, 'base64').toString('utf8');
      } else env[item.name] = item.value ?? '';
    }
    return env;
  }

  /** dump.sh's search: a replica of the cluster, else its master; the pod IP of the first Running one. */
  private async memberAddress(env: Record<string, string>): Promise<string | undefined> {
    for (const role of ['replica', 'master']) {
      const selector = `${env.CLUSTER_NAME_LABEL}=${env.SCOPE},spilo-role=${role}`;
      const pods = await this.client.list('Pod', env.POD_NAMESPACE, selector);
      const ip = pods.find((p) => p.status?.phase === 'Running' && p.status?.podIP)?.status.podIP;
      if (ip) return ip as string;
    }
    return undefined;
  }

  private async backup(pod: KubeObject): Promise<BackupRun> {
    const name = pod.metadata!.name!;
    let env: Record<string, string>;
    try {
      env = await this.envOf(pod);
    } catch (error) {
      return { pod: name, host: '', error: (error as Error).message };
    }
    const host = await this.memberAddress(env);
    if (!host) return { pod: name, host: '', error: `no Running member of ${env.SCOPE}` };
    const folder = join(
      this.options.dir,
      env.LOGICAL_BACKUP_S3_BUCKET ?? '',
      env.LOGICAL_BACKUP_S3_BUCKET_PREFIX ?? '',
      `${env.SCOPE}${env.LOGICAL_BACKUP_S3_BUCKET_SCOPE_SUFFIX ?? ''}`,
      'logical_backups',
    );
    mkdirSync(folder, { recursive: true });
    const file = join(folder, `${Math.floor(Date.now() / 1000)}.sql.gz`);
    const connection = ['PGPORT', 'PGUSER', 'PGPASSWORD', 'PGDATABASE', 'PGSSLMODE'];
    const child = spawn(join(this.options.pgBin, 'pg_dumpall'), [], {
      env: { PATH: process.env.PATH, PGHOST: host, ...Object.fromEntries(connection.map((k) => [k, env[k] ?? ''])) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
    await pipeline(child.stdout, createGzip(), createWriteStream(file));
    const exitCode = await exited;
    return exitCode === 0
      ? { pod: name, host, file, exitCode }
      : { pod: name, host, exitCode, error: `pg_dumpall exited ${exitCode}: ${stderr.trim()}` };
  }
}
