/**
 * `npm run bench -- sync [clusters]`: time of `syncCluster` for a new cluster and for an unchanged one on a real
 * API server (median and p99), and the requests each makes, by verb.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { KubeClient } from '../lib/k8s/client';
import { installCrd } from '../lib/k8s/crd';
import { silentLogger } from '../lib/log/logger';
import { parseOperatorConfig } from '../lib/model/config';
import { derivedPasswords } from '../lib/sync/operator/passwords';
import { syncCluster } from '../lib/sync/cluster/sync-cluster';
import { summarize } from './stats';
import { syncContext, type SyncContext } from '../lib/sync/context';

const crdPath = fileURLToPath(new URL('../manifests/postgresql.crd.yaml', import.meta.url));
const manifestPath = fileURLToPath(new URL('../manifests/minimal-postgres-manifest.yaml', import.meta.url));
const configPath = fileURLToPath(new URL('../manifests/configmap.yaml', import.meta.url));

type Counts = Record<string, number>;
const perSync = (total: Counts, runs: number) =>
  Object.fromEntries(Object.entries(total).map(([verb, n]) => [verb, Math.round((n / runs) * 100) / 100]));
const add = (into: Counts, from: Counts) => {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
};

/** Runs the benchmark; @returns the results object (also printed) */
export async function benchSync(clusters: number) {
  const client = KubeClient.fromDefault();
  await installCrd(client, parse(readFileSync(crdPath, 'utf8')));
  const parsedConfig = parseOperatorConfig(parse(readFileSync(configPath, 'utf8')).data);
  if (!parsedConfig.ok) throw new Error('manifests/configmap.yaml is invalid');
  const namespace = `bench-sync-${Date.now().toString(36)}`;
  await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  const manifest = parse(readFileSync(manifestPath, 'utf8'));
  const ctx: SyncContext = syncContext({
    client,
    config: parsedConfig.config,
    log: silentLogger,
    now: () => new Date(),
    newPassword: derivedPasswords(Buffer.from('benchmark-password-key-0123456789')),
  });
  const names = Array.from({ length: clusters }, (_, i) => `acid-bench-${i}`);
  for (const name of names) await client.create({ ...manifest, metadata: { name, namespace } });

  const phases: Record<
    string,
    { samples: number[]; counts: Counts; byKind: Counts; writesPerSync: number[]; children: number }
  > = {};
  for (const phase of ['new cluster', 'unchanged cluster']) {
    const result = {
      samples: [] as number[],
      counts: {} as Counts,
      byKind: {} as Counts,
      writesPerSync: [] as number[],
      children: 0,
    };
    for (const name of names) {
      client.counter.reset();
      const start = process.hrtime.bigint();
      const outcome = await syncCluster(ctx, namespace, name);
      result.samples.push(Number(process.hrtime.bigint() - start) / 1e6);
      if (outcome.outcome !== 'synced') throw new Error(`sync of ${name} ended ${outcome.outcome}: ${outcome.error}`);
      add(result.counts, client.counter.snapshot());
      add(result.byKind, Object.fromEntries(client.counter.byResource));
      result.writesPerSync.push(client.counter.writes());
      result.children = Math.max(result.children, outcome.actions.length);
    }
    phases[phase] = result;
  }
  const report = {
    benchmark: 'syncCluster',
    clusters,
    namespace,
    server: client.kubeConfig.getCurrentCluster()?.server,
    phases: Object.fromEntries(
      Object.entries(phases).map(([phase, r]) => [
        phase,
        {
          ...summarize(r.samples),
          requestsPerSync: perSync(r.counts, clusters),
          requestsPerSyncByKind: perSync(r.byKind, clusters),
          maxWritesPerSync: Math.max(...r.writesPerSync),
          childObjectsWritten: r.children,
        },
      ]),
    ),
  };
  client.close();
  return report;
}
