// testenv: full
// A fleet-wide rollout, end to end on the full control plane with real Patroni behind every pod: the six function
// hosts and the bridge run as processes from the bundles, each under its own ServiceAccount; `docker_image` changes
// in the operator ConfigMap; onOperatorConfigChange (called again and again by the bridge while it answers 503)
// rolls every cluster: replicas first, one switchover, the old master last, never two pods of a cluster down. The
// function is killed mid-rollout and the next invocation finishes the job. An invalid ConfigMap then disrupts
// nothing. A DCS parameter changed in a manifest reaches Patroni's dynamic configuration without new pods. Pod IPs
// must be local addresses: run-integration.sh runs this phase in scripts/testenv/netns.sh.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { FunctionSpec } from '../../lib/registry/functions';
import type { KubeClient, KubeObject } from '../../lib/k8s/client';
import { PatroniClient, patroniUrl } from '../../lib/patroni';
import { startLocal, type LocalDeployment } from '../../scripts/deploy/local';
import { findPatroniTools, removeIfInterrupted, until } from '../../scripts/testenv/patroni-process';
import { PatroniPods, patroniPodsSkipReason } from '../../scripts/testenv/patroni-pods';
import { postgresImage, rolloutManifest, waitClustersUp } from '../../scripts/testenv/rollout-fleet';
import { RolloutObserver } from '../../scripts/testenv/rollout-observer';
import { applyManifest, installCrd, testClient } from './operator';
import { ensureBundles } from './local-operator';
import { installFunctionCredentials } from './service-accounts';
import { createNamespace, deleteNamespace } from './testenv';

const tools = findPatroniTools();
const CLUSTERS = ['acid-roll-a', 'acid-roll-b'];
const INSTANCES = 3;
const OLD_IMAGE = 'ghcr.io/zalando/spilo-17:4.0-p2';
const NEW_IMAGE = 'ghcr.io/zalando/spilo-17:4.0-p3';

const skip = await patroniPodsSkipReason();

let client: KubeClient;
let ns = '';
let pods: PatroniPods | undefined;
let deployment: LocalDeployment | undefined;
const dir = mkdtempSync(path.join(tmpdir(), 'rolling-update-'));
/** set while a rollout check runs: a failing one leaves the operator's log in `dir` */
let keepLogs = false;
const forget = removeIfInterrupted(dir);

const configMap = (data: Record<string, string>) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'postgres-operator', namespace: ns },
  data: { watched_namespace: ns, docker_image: OLD_IMAGE, rollout_clusters_at_once: '2', ...data },
});

function logs(): string {
  return (
    [...(pods?.running().keys() ?? [])]
      .slice(0, 3)
      .map((p) => `--- ${p}\n${pods!.log(p, 8)}`)
      .join('\n') + `\n(function logs in ${dir}/logs)`
  );
}

/** Every cluster has INSTANCES pods labelled one master and replicas, status Running, and the pods pass `check`. */
const allHealthy = (what: string, check?: (pods: KubeObject[]) => boolean) =>
  waitClustersUp(client, ns, CLUSTERS, INSTANCES, { what, timeoutMs: 240_000, check, diagnose: logs });

before(
  async () => {
    if (skip) return;
    if (typeof tools === 'string') throw new Error(tools);
    await installCrd();
    client = testClient();
    ns = await createNamespace('rolling');
    ensureBundles();
    const credentials = await installFunctionCredentials(client, ns, dir);
    await client.apply(configMap({}));
    pods = new PatroniPods({
      kubeconfig: process.env.KUBECONFIG!,
      namespace: ns,
      tools,
      dir,
      log: (line) => {
        if (process.env.PATRONI_PODS_LOG) console.error(line);
      },
    });
    pods.start();
    deployment = await startLocal({
      logDir: path.join(dir, 'logs'),
      env: {
        OPERATOR_NAMESPACE: ns,
        WATCHED_NAMESPACE: ns,
        KUBECONFIG: credentials.bridge,
        PERIODIC_SYNC_SCHEDULE: 'off',
        LOG_LEVEL: 'info',
      },
      functionEnv: (spec: FunctionSpec) => ({ KUBECONFIG: credentials.functions.get(spec.name) }),
    });
    for (const name of CLUSTERS) {
      await applyManifest(rolloutManifest(name, INSTANCES), ns);
    }
  },
  { timeout: 120_000 },
);

after(
  async () => {
    await deployment?.stop();
    await pods?.stop();
    if (ns) await deleteNamespace(ns);
    client?.close();
    if (!process.env.KEEP_TEST_LOGS && !keepLogs) rmSync(dir, { recursive: true, force: true });
    forget();
  },
  { timeout: 120_000 },
);

test(
  'docker_image changes: every cluster rolls replicas first, one switchover, the master last, one pod down at most; ' +
    'the function is killed mid-rollout and the next invocation finishes',
  { skip, timeout: 600_000 },
  async () => {
    await allHealthy('both clusters up with Patroni, status Running', (list) =>
      list.every((p) => postgresImage(p) === OLD_IMAGE),
    );
    const observer = new RolloutObserver({
      client,
      namespace: ns,
      clusters: new Map(CLUSTERS.map((c) => [c, INSTANCES])),
    });
    await observer.start();
    const before = new Map(
      (await client.list('Pod', ns, 'application=spilo')).map((p) => [
        p.metadata!.name as string,
        p.metadata!.uid as string,
      ]),
    );

    await client.apply(configMap({ docker_image: NEW_IMAGE }));
    // Kill the function as soon as the first pod has been replaced: it may be in the middle of an invocation.
    await until(
      'a first pod replaced',
      180_000,
      async () => ([...observer.records.values()].some((r) => r.recreated.length > 0) ? true : undefined),
      logs,
    );
    // Both functions that carry a rollout on (the config change, retried by the bridge, and on-update, called for the
    // status changes) are killed.
    await Promise.all(['on-operator-config-change', 'on-update'].map((f) => deployment!.killAndRestart(f)));

    await allHealthy('every pod replaced and running the new image', (list) =>
      list.every(
        (p) =>
          postgresImage(p) === NEW_IMAGE &&
          p.metadata!.uid !== before.get(p.metadata!.name as string) &&
          p.metadata?.annotations?.['zalando-postgres-operator-rolling-update-required'] === undefined,
      ),
    );
    await until(
      'the RollingUpdate conditions say Completed',
      60_000,
      async () => {
        const objects = await Promise.all(
          CLUSTERS.map((name) => client.get({ kind: 'postgresql', namespace: ns, name })),
        );
        return objects.every((o) =>
          (o!.status.conditions as KubeObject[]).some(
            (c) => c.type === 'RollingUpdate' && c.status === 'False' && c.reason === 'Completed',
          ),
        )
          ? true
          : undefined;
      },
      logs,
    );
    const records = await observer.stop();

    for (const name of CLUSTERS) {
      const record = records.get(name)!;
      const detail =
        `${name}: ${JSON.stringify(record)} (pod watch restarts: ${observer.watchRestarts}; ` +
        `the operator's log is kept in ${dir})`;
      keepLogs = true; // until this cluster's checks pass
      assert.equal(record.recreated.length, INSTANCES, `every pod replaced exactly once: ${detail}`);
      assert.deepEqual(
        record.recreated.map((r) => r.role),
        Array(INSTANCES).fill('replica'),
        `only replicas are recreated: the old master after the switchover made it one: ${detail}`,
      );
      assert.equal(record.leaders.length, 2, `exactly one switchover: ${detail}`);
      assert.equal(
        record.recreated[INSTANCES - 1]!.pod,
        record.leaders[0],
        `the old master's pod goes last: ${detail}`,
      );
      assert.ok(record.maxDown <= 1, `never two pods down at once: ${detail}`);
      const events = (await client.list('Event', ns)).filter((e) => e.involvedObject?.name === name);
      assert.equal(events.filter((e) => e.reason === 'Switchover').length, 1, `one Switchover Event: ${detail}`);
      keepLogs = false;
    }
  },
);

test(
  'an invalid ConfigMap change disrupts nothing: no pod is flagged or replaced, the last applied config stays',
  { skip, timeout: 180_000 },
  async () => {
    const before = new Map(
      (await client.list('Pod', ns, 'application=spilo')).map((p) => [
        p.metadata!.name as string,
        p.metadata!.uid as string,
      ]),
    );
    const eventsBefore = (await client.list('Event', ns)).length;
    await client.apply(
      configMap({ docker_image: 'ghcr.io/zalando/spilo-17:broken', rollout_clusters_at_once: 'zero' }),
    );
    await until(
      'a Warning Event InvalidConfiguration',
      60_000,
      async () =>
        (await client.list('Event', ns)).some(
          (e) => e.reason === 'InvalidConfiguration' && e.involvedObject?.kind === 'ConfigMap',
        )
          ? true
          : undefined,
      logs,
    );
    // Every syncing function runs meanwhile: a sync of each cluster through the bridge (sync-now) and a periodic sync.
    for (const name of CLUSTERS) {
      await client.mergePatch(
        { kind: 'postgresql', namespace: ns, name },
        { metadata: { annotations: { 'acid.zalan.do/sync-now': 'true' } } },
      );
    }
    await until(
      'the sync-now annotations honoured',
      60_000,
      async () => {
        const objects = await Promise.all(
          CLUSTERS.map((name) => client.get({ kind: 'postgresql', namespace: ns, name })),
        );
        return objects.every((o) => o!.metadata!.annotations?.['acid.zalan.do/sync-now'] === undefined)
          ? true
          : undefined;
      },
      logs,
    );
    const periodic = deployment!.functions.find((f) => f.name === 'periodic-sync')!;
    const answer = await fetch(periodic.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    assert.ok(answer.status === 200, `periodic sync answered ${answer.status}: ${await answer.text()}`);

    const after = await client.list('Pod', ns, 'application=spilo');
    assert.deepEqual(
      new Map(after.map((p) => [p.metadata!.name as string, p.metadata!.uid as string])),
      before,
      'no pod was replaced',
    );
    assert.ok(
      after.every(
        (p) =>
          postgresImage(p) === NEW_IMAGE &&
          !p.metadata?.annotations?.['zalando-postgres-operator-rolling-update-required'],
      ),
      'no pod flagged; the pods keep the last applied image',
    );
    for (const name of CLUSTERS) {
      const sts = await client.get({ kind: 'StatefulSet', namespace: ns, name });
      assert.equal(
        postgresImage({ spec: sts!.spec.template.spec } as KubeObject),
        NEW_IMAGE,
        `StatefulSet ${name} keeps the last applied image`,
      );
    }
    assert.ok((await client.list('Event', ns)).length > eventsBefore);
  },
);

test(
  "a DCS parameter and a Patroni setting changed in the manifest reach Patroni's dynamic configuration with no pod " +
    'recreated; a second sync writes nothing',
  { skip, timeout: 180_000 },
  async () => {
    const name = CLUSTERS[0]!;
    const ofCluster = (list: KubeObject[]) => list.filter((p) => p.metadata?.labels?.['cluster-name'] === name);
    const uids = async () =>
      new Map(
        ofCluster(await client.list('Pod', ns, 'application=spilo')).map((p) => [
          p.metadata!.name as string,
          p.metadata!.uid as string,
        ]),
      );
    const configEvents = async () =>
      (await client.list('Event', ns)).filter(
        (e) => e.involvedObject?.name === name && e.reason === 'PatroniConfigUpdated',
      );
    await client.apply(configMap({ docker_image: NEW_IMAGE })); // valid again: the same data as last applied
    const before = await uids();
    await client.mergePatch(
      { kind: 'postgresql', namespace: ns, name },
      { spec: { postgresql: { parameters: { max_connections: '30' } }, patroni: { ttl: 25 } } },
    );

    // (An earlier sync may have set failsafe_mode, which Zalando's operator writes whenever its key is set: that
    // Event is another one.)
    const events = await until(
      'a PatroniConfigUpdated Event for the change',
      60_000,
      async () => {
        const found = (await configEvents()).filter((e) => /ttl: 20 -> 25/.test(e.message as string));
        return found.length > 0 ? found : undefined;
      },
      logs,
    );
    assert.equal(events.length, 1);
    const configEventsAfterChange = (await configEvents()).map((e) => e.metadata?.name);
    assert.match(
      events[0]!.message as string,
      /: ttl: 20 -> 25, postgresql\.parameters\.max_connections: 20 -> 30; a parameter that needs a restart/,
    );

    const pods = ofCluster(await client.list('Pod', ns, 'application=spilo'));
    const master = pods.find((p) => p.metadata?.labels?.['spilo-role'] === 'master')!;
    const config = await new PatroniClient(patroniUrl(master.status.podIP as string)).getConfig();
    assert.equal(config.ttl, 25);
    assert.equal((config.postgresql as { parameters: Record<string, unknown> }).parameters.max_connections, '30');
    // max_connections takes a restart, which a change of the dynamic configuration alone does not do.
    await until(
      'every member has a pending restart',
      30_000,
      async () => {
        const statuses = await Promise.all(
          pods.map((p) => new PatroniClient(patroniUrl(p.status.podIP as string)).getStatus()),
        );
        return statuses.every((st) => st.pending_restart === true) ? true : undefined;
      },
      logs,
    );

    // Another sync of the cluster finds Patroni in line with the manifest: no second change.
    await client.mergePatch(
      { kind: 'postgresql', namespace: ns, name },
      { metadata: { annotations: { 'acid.zalan.do/sync-now': 'true' } } },
    );
    await until(
      'the sync-now annotation honoured',
      60_000,
      async () =>
        (await client.get({ kind: 'postgresql', namespace: ns, name }))!.metadata!.annotations?.[
          'acid.zalan.do/sync-now'
        ] === undefined
          ? true
          : undefined,
      logs,
    );
    assert.deepEqual(
      (await configEvents()).map((e) => e.metadata?.name),
      configEventsAfterChange,
      'no further PatroniConfigUpdated',
    );
    assert.deepEqual(await uids(), before, 'no pod was recreated');
    assert.ok(
      ofCluster(await client.list('Pod', ns, 'application=spilo')).every(
        (p) => p.metadata?.annotations?.['zalando-postgres-operator-rolling-update-required'] === undefined,
      ),
      'no pod flagged',
    );
  },
);
