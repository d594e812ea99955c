/**
 * `npm run bench -- create-cost [clusters]` (default 60): what making one cluster's children costs the API server,
 * by the way they are written. For each cluster, the objects a new cluster's plan makes (the owned ones: StatefulSet,
 * Services, Endpoints, Secrets, PDBs under `manifests/configmap.yaml`) are written all at once, one cluster after the
 * other, three ways in turn (`rounds` times, interleaved):
 *
 * - `post`: a plain create (POST), as Zalando's operator makes them;
 * - `apply`: server-side apply, as this operator updates them;
 * - `applyNew`: server-side apply that only creates (`KubeClient.applyNew`), as this operator's first sync makes them.
 *
 * Printed per cluster: the wall time of its round of writes, and the CPU time kube-apiserver and etcd used
 * (utime + stime from /proc: the API server of $KUBECONFIG, or the local plane the bench starts, must run on this
 * machine).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { secretUsers } from '../lib/builders';
import { KubeClient, type KubeObject, type ObjectToWrite } from '../lib/k8s/client';
import { parseOperatorConfig } from '../lib/model/config';
import { validatePostgresql, validationOptions } from '../lib/model/validate';
import { planCluster } from '../lib/plan/cluster';
import { derivedPasswords } from '../lib/sync/operator/passwords';

const configPath = fileURLToPath(new URL('../manifests/configmap.yaml', import.meta.url));
const manifestPath = fileURLToPath(new URL('../manifests/minimal-postgres-manifest.yaml', import.meta.url));
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
const WAYS = ['post', 'apply', 'applyNew'] as const;

/** @returns a reader of the user + system CPU seconds of the process whose command line matches `pattern` */
function cpuOf(pattern: string): () => number {
  const found = execFileSync('pgrep', ['-f', pattern], { encoding: 'utf8' }).trim().split('\n');
  if (found.length !== 1 || !found[0])
    throw new Error(`expected one process matching ${pattern}, found ${found.length}`);
  const pid = found[0];
  return () => {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  };
}

/**
 * @returns CPU readers of the API server the client talks to and of its etcd: processes of this machine, found by
 *   the API server's `--secure-port` and its `--etcd-servers`; throws when they are not local
 */
function controlPlaneCpu(client: KubeClient): { apiserver: () => number; etcd: () => number } {
  const port = new URL(client.kubeConfig.getCurrentCluster()!.server).port;
  const pattern = `kube-apiserver .*--secure-port=${port}( |$)`;
  const pid = execFileSync('pgrep', ['-f', pattern], { encoding: 'utf8' }).trim();
  const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  const etcdUrl = args.find((a) => a.startsWith('--etcd-servers='))?.split('=')[1];
  if (!etcdUrl) throw new Error('the API server has no --etcd-servers');
  return { apiserver: cpuOf(pattern), etcd: cpuOf(`etcd .*--listen-client-urls=${etcdUrl}( |$)`) };
}

/**
 * @param clusters clusters written each way and round
 * @returns per way: wall ms and API server / etcd CPU ms per cluster, summed over the rounds
 */
export async function benchCreateCost(clusters: number, rounds = 2): Promise<Record<string, unknown>> {
  const client = KubeClient.fromDefault({ timeoutMs: 60_000 });
  const { apiserver, etcd } = controlPlaneCpu(client);
  const parsed = parseOperatorConfig(parse(readFileSync(configPath, 'utf8')).data);
  if (!parsed.ok) throw new Error('manifests/configmap.yaml is invalid');
  const config = parsed.config;
  const manifest = parse(readFileSync(manifestPath, 'utf8')) as KubeObject;
  const passwords = derivedPasswords(Buffer.from('create-cost-password-key-0123456789'));
  const childrenOf = (namespace: string, i: number): ObjectToWrite[] => {
    const raw = { ...manifest, metadata: { name: `acid-cost-${i}`, namespace, uid: `uid-${i}`, generation: 1 } };
    const validation = validatePostgresql(raw, validationOptions(config));
    if (!validation.ok) throw new Error('the minimal manifest is invalid');
    const cluster = { ...validation.cluster, metadata: { ...validation.cluster.metadata, namespace } };
    const { users } = secretUsers(cluster, config);
    const derived = Object.fromEntries(users.map((u) => [u, passwords(`uid-${i}`, u)]));
    const plan = planCluster(cluster, new Map(), derived, { config, fieldManager: client.fieldManager });
    return plan.actions.filter((a) => a.type === 'apply').map((a) => a.object);
  };
  const totals = Object.fromEntries(WAYS.map((w) => [w, { wallMs: 0, apiserverMs: 0, etcdMs: 0, objects: 0 }]));
  for (let round = 0; round < rounds; round++) {
    for (const way of WAYS) {
      const namespace = `create-cost-${way.toLowerCase()}-${round}-${Date.now().toString(36)}`;
      await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
      const all = Array.from({ length: clusters }, (_, i) => childrenOf(namespace, i));
      const [api0, etcd0, t0] = [apiserver(), etcd(), performance.now()];
      for (const objects of all)
        await Promise.all(
          objects.map((o) =>
            way === 'post' ? client.create(o) : way === 'apply' ? client.apply(o) : client.applyNew(o),
          ),
        );
      const total = totals[way]!;
      total.wallMs += performance.now() - t0;
      total.apiserverMs += (apiserver() - api0) * 1000;
      total.etcdMs += (etcd() - etcd0) * 1000;
      total.objects += all.flat().length;
      await client.delete({ kind: 'Namespace', name: namespace });
    }
  }
  const perCluster = (ms: number) => Math.round((ms / (clusters * rounds)) * 10) / 10;
  const report = Object.fromEntries(
    WAYS.map((way) => {
      const t = totals[way]!;
      return [
        way,
        {
          'objects per cluster': t.objects / (clusters * rounds),
          'wall ms per cluster': perCluster(t.wallMs),
          'kube-apiserver CPU ms per cluster': perCluster(t.apiserverMs),
          'etcd CPU ms per cluster': perCluster(t.etcdMs),
        },
      ];
    }),
  );
  console.table(report);
  client.close();
  return { benchmark: 'create-cost', clusters, rounds, load: readFileSync('/proc/loadavg', 'utf8').trim(), report };
}
