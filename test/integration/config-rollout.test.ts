// onOperatorConfigChange and the last applied configuration, on the real apiserver: a valid change is synced to
// the fleet and recorded on the ConfigMap; the same change again (or our own annotation update) writes nothing; an
// invalid change raises one Warning Event and disrupts nothing, while every sync keeps the last good config.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { applyOperatorConfigChange } from '../../lib/sync/config/change';
import type { Outcome } from '../../lib/runtime/handler';
import type { KubeClient, KubeObject } from '../../lib/k8s/client';
import { silentLogger } from '../../lib/log/logger';
import { LAST_APPLIED_CONFIG_ANNOTATION, canonicalConfigData } from '../../lib/sync/operator/history';
import { createOperatorContext } from '../../lib/sync/operator/load';
import { syncCluster } from '../../lib/sync/cluster/sync-cluster';
import { installCrd, reference, testClient } from './operator';
import { createNamespace, deleteNamespace } from './testenv';

const CONFIG_MAP = 'postgres-operator';
const image = (tag: string) => `registry.example/spilo:${tag}`;

describe('operator config changes', { timeout: 120_000 }, () => {
  let client: KubeClient;
  let ns = '';
  let env: Record<string, string | undefined> = {};

  /** Calls the handler's logic as the host does: read the operator config, then handle an update event. */
  async function deliver(configMap = CONFIG_MAP, callEnv = env, deadlineMs = 60_000) {
    const operator = await createOperatorContext(client, silentLogger, callEnv);
    const event = {
      source: 'cloudevents' as const,
      action: 'update' as const,
      ref: { kind: 'ConfigMap', namespace: ns, name: configMap },
    };
    const outcome = await applyOperatorConfigChange(operator, event.ref, {
      client,
      log: silentLogger,
      deadlineMs,
      parallelism: Number(callEnv.SYNC_PARALLELISM ?? 4),
      now: () => new Date(),
    });
    return outcome as Outcome & { result: Record<string, unknown> };
  }
  /** Write requests made while `fn` runs, by `verb Kind`. */
  async function writesDuring(fn: () => Promise<unknown>): Promise<Record<string, number>> {
    const before = new Map(client.counter.byResource);
    await fn();
    const out: Record<string, number> = {};
    for (const [key, n] of client.counter.byResource) {
      const verb = key.split(' ')[0]!;
      if (['create', 'apply', 'patch', 'update', 'delete'].includes(verb) && n > (before.get(key) ?? 0))
        out[key] = n - (before.get(key) ?? 0);
    }
    return out;
  }
  const setData = (data: Record<string, string>, name = CONFIG_MAP) =>
    client.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns }, data });
  const configMap = (name = CONFIG_MAP) => client.get<KubeObject>({ kind: 'ConfigMap', namespace: ns, name });
  const lastApplied = async () =>
    (await configMap())!.metadata!.annotations?.[LAST_APPLIED_CONFIG_ANNOTATION] as string | undefined;
  const statefulSet = (name: string) => client.get<KubeObject>({ kind: 'StatefulSet', namespace: ns, name });
  const imageOf = async (name: string) => (await statefulSet(name))!.spec.template.spec.containers[0].image as string;
  const configEvents = async (reason: string, name = CONFIG_MAP) =>
    (await client.list<KubeObject>('Event', ns)).filter(
      (e) => e.involvedObject.kind === 'ConfigMap' && e.involvedObject.name === name && e.reason === reason,
    );
  const createCluster = async (name: string) => {
    await client.create({ ...reference('v2.0.1/minimal-postgres-manifest.yaml'), metadata: { name, namespace: ns } });
    const operator = await createOperatorContext(client, silentLogger, env);
    assert.ok(operator.ok);
    return syncCluster(operator.ctx, ns, name);
  };

  before(async () => {
    await installCrd();
    client = testClient();
    ns = await createNamespace('config-rollout');
    env = { OPERATOR_NAMESPACE: ns, WATCHED_NAMESPACE: ns };
    await setData({ docker_image: image('1') });
    const result = await createCluster('acid-one');
    assert.equal(result.outcome, 'synced', result.error);
  });
  after(async () => {
    client?.close();
    if (ns) await deleteNamespace(ns);
  });

  it('the first valid config is applied: the annotation and a Normal Event', async () => {
    const { result, retryable } = await deliver();
    assert.ok(!retryable, JSON.stringify(result));
    assert.equal(result.applied, true);
    assert.equal(await lastApplied(), canonicalConfigData({ docker_image: image('1') }));
    const events = await configEvents('ConfigurationChanged');
    assert.equal(events.length, 1);
    assert.equal(events[0]!.type, 'Normal');
    assert.match(
      events[0]!.message,
      /^operator configuration applied; first configuration applied \(1 key\); no cluster's objects change$/,
    );
  });

  it('a changed docker_image syncs the cluster, names the key and the cluster, then records the annotation', async () => {
    await setData({ docker_image: image('2'), workers: '4' });
    const { result, retryable } = await deliver();
    assert.ok(!retryable, JSON.stringify(result));
    assert.equal(result.applied, true);
    assert.equal(await imageOf('acid-one'), image('2'));
    assert.deepEqual(result.changes, ['+workers: "4"', `docker_image: "${image('1')}" -> "${image('2')}"`]);
    assert.equal(await lastApplied(), canonicalConfigData({ docker_image: image('2'), workers: '4' }));
    const events = await configEvents('ConfigurationChanged');
    assert.equal(events.length, 2);
    const latest = events.find((e) => e.message.includes('docker_image'))!;
    assert.match(latest.message, /^operator configuration applied; changed keys: docker_image, workers; /);
    assert.match(latest.message, new RegExp(`clusters synced: ${ns}/acid-one$`));
  });

  it('the same change delivered twice (or our own annotation update) makes zero writes', async () => {
    for (let i = 0; i < 2; i++) {
      let outcome: Awaited<ReturnType<typeof deliver>> | undefined;
      assert.deepEqual(
        await writesDuring(async () => {
          outcome = await deliver();
        }),
        {},
      );
      assert.equal(outcome!.result.unchanged, 'the configuration is the one last applied');
    }
  });

  it('an invalid change records one Warning Event naming every bad key, and writes nothing else', async () => {
    await setData({ docker_image: image('3'), workers: 'many', resync_period: 'soon' });
    const before = (await statefulSet('acid-one'))!.metadata!.resourceVersion;
    let outcome: Awaited<ReturnType<typeof deliver>> | undefined;
    assert.deepEqual(
      await writesDuring(async () => {
        outcome = await deliver();
      }),
      { 'create Event': 1 },
    );
    assert.equal(outcome!.result.using, 'last-applied');
    assert.equal(outcome!.retryable, undefined);
    const warnings = await configEvents('InvalidConfiguration');
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]!.type, 'Warning');
    assert.match(
      warnings[0]!.message,
      /key "workers".*key "resync_period".*the last applied configuration stays in force/,
    );
    assert.equal((await statefulSet('acid-one'))!.metadata!.resourceVersion, before, 'the cluster is not touched');
    assert.equal(await lastApplied(), canonicalConfigData({ docker_image: image('2'), workers: '4' }));

    // The same invalid content again: found by the Event's name, nothing recorded twice.
    assert.deepEqual(await writesDuring(() => deliver()), {});
    assert.equal((await configEvents('InvalidConfiguration')).length, 1);
  });

  it('while the ConfigMap is invalid, syncs use the last applied config: a new cluster is created with it', async () => {
    const operator = await createOperatorContext(client, silentLogger, env);
    assert.ok(operator.ok, 'a context despite the invalid data');
    assert.equal(operator.configSource, 'last-applied');
    assert.deepEqual(
      operator.currentErrors.map((e) => e.key),
      ['workers', 'resync_period'],
    );
    assert.match(
      operator.warnings[0]!,
      /is invalid \(workers, resync_period\): the last applied configuration is used/,
    );
    assert.equal(operator.ctx.config.docker_image, image('2'));
    const existing = await syncCluster(operator.ctx, ns, 'acid-one');
    assert.deepEqual(existing.actions, [], 'nothing changes for the running cluster');
    const created = await createCluster('acid-two');
    assert.equal(created.outcome, 'synced', created.error);
    assert.equal(await imageOf('acid-two'), image('2'));
  });

  it('fixing the ConfigMap applies it to every cluster', async () => {
    await setData({ docker_image: image('3'), workers: '4' });
    const { result, retryable } = await deliver();
    assert.ok(!retryable, JSON.stringify(result));
    assert.equal(result.applied, true);
    assert.equal(await imageOf('acid-one'), image('3'));
    assert.equal(await imageOf('acid-two'), image('3'));
    const latest = (await configEvents('ConfigurationChanged')).find((e) => e.message.includes(image('3')))!;
    assert.match(latest.message, /changed keys: docker_image; .*clusters synced: .*acid-one, .*acid-two$/);
    assert.deepEqual(await writesDuring(() => deliver()), {});
  });

  it('a run cut short by its deadline answers 503 and records nothing; the next delivery finishes it', async () => {
    await setData({ docker_image: image('4'), workers: '4' });
    // 400 ms is inside fleet sync's 500 ms margin: no cluster is started.
    const cut = await deliver(CONFIG_MAP, env, 400);
    assert.equal(cut.retryable, true);
    assert.equal(cut.result.applied, false);
    assert.deepEqual(cut.result.left, ['2 clusters not started before the deadline']);
    assert.equal(
      await lastApplied(),
      canonicalConfigData({ docker_image: image('3'), workers: '4' }),
      'not recorded yet',
    );
    assert.equal(await imageOf('acid-one'), image('3'));
    assert.equal(
      (await configEvents('ConfigurationChanged')).filter((e) => e.message.includes(image('4'))).length,
      0,
      'no Event for a run that synced nothing',
    );
    const { result, retryable } = await deliver();
    assert.ok(!retryable, JSON.stringify(result));
    assert.equal(await imageOf('acid-one'), image('4'));
    assert.equal(await imageOf('acid-two'), image('4'));
    assert.equal(await lastApplied(), canonicalConfigData({ docker_image: image('4'), workers: '4' }));
  });

  it('keys not acted on, unknown or deprecated: one Warning Event per content, none for the same content again', async () => {
    const keysEvents = () => configEvents('ConfigurationKeysIgnored');
    const before = (await keysEvents()).length;
    const data = {
      docker_image: image('4'),
      workers: '4',
      enable_load_balancer: 'true',
      enable_cross_namespace_secret: 'true',
      workes: '2',
    };
    await setData(data);
    const { result, retryable } = await deliver();
    assert.ok(!retryable, JSON.stringify(result));
    assert.equal(result.applied, true);
    const recorded = await keysEvents();
    assert.equal(recorded.length, before + 1);
    const latest = recorded.find((e) => e.message.includes('workes'))!;
    assert.equal(latest.type, 'Warning');
    assert.equal(
      latest.message,
      'unknown keys, ignored: workes (did you mean workers?); ' +
        'deprecated: enable_load_balancer (use enable_master_load_balancer and enable_replica_load_balancer); ' +
        'accepted but not acted on: workers, enable_cross_namespace_secret, enable_load_balancer ' +
        '(docs/config-reference.md)',
    );
    // The same content again (and our own annotation update): the Event is found, nothing is written.
    assert.deepEqual(await writesDuring(() => deliver()), {});
    assert.equal((await keysEvents()).length, before + 1);
  });

  it('an empty docker_image is invalid config: the last applied one stays in force', async () => {
    await setData({ docker_image: '', workers: '4' });
    const { result } = await deliver();
    assert.equal(result.using, 'last-applied');
    const warning = (await configEvents('InvalidConfiguration')).find((e) => e.message.includes('docker_image'))!;
    assert.match(warning.message, /invalid value "" for key "docker_image": expected a container image/);
    const operator = await createOperatorContext(client, silentLogger, env);
    assert.ok(operator.ok);
    assert.equal(operator.ctx.config.docker_image, image('4'));
    assert.equal(await imageOf('acid-one'), image('4'));
  });

  it('an invalid ConfigMap never applied before: no context, and the Warning Event says nothing is synced', async () => {
    const fresh = 'fresh-config';
    const freshEnv = { ...env, CONFIG_MAP_NAME: fresh };
    await setData({ workers: '0' }, fresh);
    const operator = await createOperatorContext(client, silentLogger, freshEnv);
    assert.equal(operator.ok, false);
    const { result } = await deliver(fresh, freshEnv);
    assert.equal(result.using, 'none');
    const [warning, ...more] = await configEvents('InvalidConfiguration', fresh);
    assert.equal(more.length, 0);
    assert.match(
      warning!.message,
      /key "workers": expected an integer of at least 1; no configuration was applied before/,
    );
  });

  it('changes of other ConfigMaps are ignored without a request', async () => {
    const operator = await createOperatorContext(client, silentLogger, env);
    const before = client.counter.total();
    const event = {
      source: 'cloudevents' as const,
      action: 'update' as const,
      ref: { kind: 'ConfigMap', namespace: ns, name: 'acid-one-config' },
    };
    const { result } = await applyOperatorConfigChange(operator, event.ref, {
      client,
      log: silentLogger,
      deadlineMs: 60_000,
      parallelism: 4,
      now: () => new Date(),
    });
    assert.match((result as { ignored: string }).ignored, /is not the operator ConfigMap/);
    assert.equal(client.counter.total(), before);
  });
});
