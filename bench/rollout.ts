/**
 * `npm run bench -- rollout [clusters] [instances] [at-once]` (default 20 clusters of 3 pods, 5 at once): a
 * fleet-wide rolling update on the full control plane (kube-controller-manager, scheduler, kwok) with a real Patroni
 * + PostgreSQL behind every pod, driven by the operator as deployed locally (six function hosts and the bridge as
 * processes, from the built bundles). `docker_image` changes in the operator ConfigMap; the run ends when every pod
 * has been replaced, runs the new image, and every cluster's `RollingUpdate` condition says Completed.
 *
 * Prints: set-up time (clusters up with Patroni), rollout wall time, and per cluster the most pods down at once
 * (scripts/testenv/rollout-observer.ts: not Ready or not a running Patroni member), the switchovers (`Switchover`
 * Events of the operator; promotions, i.e. how far the leader's timeline moved; leader changes seen) and the pods
 * replaced. A cluster where any of these is off is printed with its Events, and the logs are kept. Needs root for the network namespace (it re-runs
 * itself in scripts/testenv/netns.sh) and Debian's patroni and postgresql packages.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { KubeClient } from '../lib/k8s/client';
import { installCrd } from '../lib/k8s/crd';
import { startLocal } from '../scripts/deploy/local';
import { findPatroniTools } from '../scripts/testenv/patroni-process';
import { PatroniPods } from '../scripts/testenv/patroni-pods';
import { clusterPods, postgresImage, rolloutManifest, waitClustersUp } from '../scripts/testenv/rollout-fleet';
import { RolloutObserver } from '../scripts/testenv/rollout-observer';

const root = fileURLToPath(new URL('../', import.meta.url));
const OLD_IMAGE = 'ghcr.io/zalando/spilo-17:4.0-p2';
const NEW_IMAGE = 'ghcr.io/zalando/spilo-17:4.0-p3';

/** @returns the report: set-up and rollout wall times, and per cluster what the observer saw */
export async function benchRollout(
  clusters: number,
  instances: number,
  atOnce: number,
): Promise<Record<string, unknown>> {
  const tools = findPatroniTools();
  if (typeof tools === 'string') throw new Error(tools);
  if (!existsSync(`${root}dist/host/host.js`)) {
    execFileSync(process.execPath, [`${root}node_modules/tsx/dist/cli.mjs`, `${root}scripts/build.ts`, '--quiet'], {
      stdio: 'inherit',
    });
  }
  const client = KubeClient.fromDefault({ fieldManager: 'bench-rollout' });
  await installCrd(client, parse(readFileSync(`${root}manifests/postgresql.crd.yaml`, 'utf8')));
  const namespace = `bench-rollout-${Date.now().toString(36)}`;
  await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-rollout-'));
  const config = (image: string) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'postgres-operator', namespace },
    data: {
      watched_namespace: namespace,
      docker_image: image,
      rollout_clusters_at_once: String(atOnce),
      rollout_cluster_delay: '0s',
    },
  });
  await client.apply(config(OLD_IMAGE));
  const pods = new PatroniPods({ kubeconfig: process.env.KUBECONFIG!, namespace, tools, dir });
  pods.start();
  const deployment = await startLocal({
    logDir: path.join(dir, 'logs'),
    env: {
      OPERATOR_NAMESPACE: namespace,
      WATCHED_NAMESPACE: namespace,
      PERIODIC_SYNC_SCHEDULE: 'off',
      LOG_LEVEL: 'warn',
    },
  });
  const names = Array.from({ length: clusters }, (_, i) => `acid-bench-${String(i).padStart(2, '0')}`);
  const diagnose = () => `(function logs in ${path.join(dir, 'logs')})`;
  let keep = false;
  try {
    const setupStart = Date.now();
    for (const name of names)
      await client.apply({ ...rolloutManifest(name, instances), metadata: { name, namespace } });
    console.error(`bench: ${clusters} clusters of ${instances} applied; waiting for Patroni in every pod...`);
    await waitClustersUp(client, namespace, names, instances, {
      what: 'every cluster up',
      timeoutMs: 1_800_000,
      diagnose,
    });
    const setupMs = Date.now() - setupStart;
    console.error(`bench: set-up took ${(setupMs / 1000).toFixed(1)} s; rolling out ${NEW_IMAGE}...`);

    const before = new Map(
      (await client.list('Pod', namespace, 'application=spilo')).map((p) => [
        p.metadata!.name as string,
        p.metadata!.uid as string,
      ]),
    );
    const observer = new RolloutObserver({
      client,
      namespace,
      clusters: new Map(names.map((n) => [n, instances])),
      pollMs: 250,
    });
    await observer.start();
    const start = Date.now();
    await client.apply(config(NEW_IMAGE));
    const progress = setInterval(() => {
      const done = [...observer.records.values()].filter((r) => r.recreated.length >= instances).length;
      console.error(`bench: ${((Date.now() - start) / 1000).toFixed(0)} s: ${done} of ${clusters} clusters rolled`);
    }, 15_000);
    try {
      await waitClustersUp(client, namespace, names, instances, {
        what: 'every pod replaced on the new image',
        timeoutMs: 3_600_000,
        diagnose,
        check: (own) =>
          own.every(
            (p) => postgresImage(p) === NEW_IMAGE && p.metadata!.uid !== before.get(p.metadata!.name as string),
          ),
      });
      await waitClustersUp(client, namespace, names, instances, {
        what: 'RollingUpdate Completed',
        timeoutMs: 300_000,
        diagnose,
        check: () => true,
      });
    } finally {
      clearInterval(progress);
    }
    const wallMs = Date.now() - start;
    const records = await observer.stop();
    const events = await client.list('Event', namespace);
    const perCluster = names.map((name) => {
      const r = records.get(name)!;
      return {
        cluster: name,
        maxPodsDown: r.maxDown,
        leaderChanges: r.leaders.length - 1,
        promotions: (r.timelines.highest ?? 0) - (r.timelines.first ?? 0),
        switchoverEvents: events.filter((e) => e.involvedObject?.name === name && e.reason === 'Switchover').length,
        podsReplaced: r.recreated.length,
        oldMasterLast: r.recreated[r.recreated.length - 1]?.pod === r.leaders[0],
        unreadableRounds: r.unreadable,
        leadersSeen: r.leaders,
        replaced: r.recreated.map((x) => `${x.pod} (${x.role})`),
        worstMoment: r.worst,
      };
    });
    const odd = perCluster.filter(
      (c) => c.maxPodsDown > 1 || c.leaderChanges !== 1 || c.promotions !== 1 || c.podsReplaced !== instances,
    );
    if (odd.length > 0) {
      // Keep what explains them: the function logs, the Patroni logs, and the cluster's Events.
      keep = true;
      for (const c of odd) {
        console.error(`bench: ${c.cluster} ${JSON.stringify(c)}`);
        for (const e of events.filter((x) => x.involvedObject?.name === c.cluster))
          console.error(`  event ${e.lastTimestamp ?? e.eventTime} ${e.reason}: ${e.message}`);
      }
      console.error(`bench: logs kept in ${dir}`);
    }
    console.table(perCluster.map(({ leadersSeen: _l, replaced: _r, worstMoment: _w, ...c }) => c));
    const stillOld = (await Promise.all(names.map((n) => clusterPods(client, namespace, n))))
      .flat()
      .filter((p) => postgresImage(p) !== NEW_IMAGE);
    return {
      benchmark: 'rollout',
      clusters,
      instances,
      rolloutClustersAtOnce: atOnce,
      setupSeconds: setupMs / 1000,
      rolloutWallSeconds: wallMs / 1000,
      maxPodsDownInAnyCluster: Math.max(...perCluster.map((c) => c.maxPodsDown)),
      switchoverEventsPerCluster: {
        min: Math.min(...perCluster.map((c) => c.switchoverEvents)),
        max: Math.max(...perCluster.map((c) => c.switchoverEvents)),
      },
      promotionsPerCluster: {
        min: Math.min(...perCluster.map((c) => c.promotions)),
        max: Math.max(...perCluster.map((c) => c.promotions)),
      },
      oldMasterLastEverywhere: perCluster.every((c) => c.oldMasterLast),
      podsNotOnNewImage: stillOld.length,
      perCluster,
    };
  } finally {
    await deployment.stop();
    await pods.stop();
    await client.delete({ kind: 'Namespace', name: namespace }).catch(() => undefined);
    client.close();
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
}
