// Bridge settings from the environment and from the operator ConfigMap; the cron schedule.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  intFromEnv,
  operatorSettings,
  parseTargets,
  scheduleFromEnv,
  targetsFromEnv,
} from '../../../lib/bridge/config';
import { startPeriodicTrigger } from '../../../lib/bridge/cron';

describe('function targets', () => {
  it('reads name=url lists and JSON', () => {
    assert.deepEqual(parseTargets('on-create=http://127.0.0.1:8081, on-update=http://127.0.0.1:8082/'), {
      'on-create': 'http://127.0.0.1:8081',
      'on-update': 'http://127.0.0.1:8082/',
    });
    assert.deepEqual(parseTargets('{"periodic-sync": "http://localhost:9000"}'), {
      'periodic-sync': 'http://localhost:9000',
    });
  });

  it('refuses unknown functions, missing = and non-http URLs, naming the entry', () => {
    assert.throws(() => parseTargets('on-creat=http://x'), /unknown function "on-creat"; known: on-create/);
    assert.throws(() => parseTargets('on-create'), /entry "on-create" is not name=url/);
    assert.throws(() => parseTargets('on-create=ftp://x'), /URL for on-create is not an http\(s\) URL/);
    assert.throws(() => parseTargets('{"on-create": 1}'), /URL for on-create/);
    assert.throws(() => parseTargets('{oops'), /not valid JSON/);
  });

  it('defaults to the in-cluster Service of each function; explicit targets replace it', () => {
    const inCluster = targetsFromEnv({ OPERATOR_NAMESPACE: 'pg' });
    assert.equal(Object.keys(inCluster).length, 6);
    assert.equal(inCluster['on-node-drain'], 'http://on-node-drain.pg.svc.cluster.local:8080/');
    assert.deepEqual(targetsFromEnv({ BRIDGE_TARGETS: 'on-create=http://127.0.0.1:8081' }), {
      'on-create': 'http://127.0.0.1:8081',
    });
    const mixed = targetsFromEnv({
      BRIDGE_TARGETS: 'on-create=http://127.0.0.1:8081',
      BRIDGE_FUNCTION_URL_TEMPLATE: 'http://fn-{name}:80/',
      FUNCTION_NAMESPACE: 'f',
    });
    assert.equal(mixed['on-create'], 'http://127.0.0.1:8081');
    assert.equal(mixed['periodic-sync'], 'http://fn-periodic-sync:80/');
  });
});

describe('schedule and numbers', () => {
  it('defaults to the registry schedule; off disables', () => {
    assert.equal(scheduleFromEnv({}), '*/5 * * * *');
    assert.equal(scheduleFromEnv({ PERIODIC_SYNC_SCHEDULE: '0 * * * *' }), '0 * * * *');
    assert.equal(scheduleFromEnv({ PERIODIC_SYNC_SCHEDULE: 'off' }), undefined);
  });

  it('reads integers and refuses anything else', () => {
    assert.equal(intFromEnv({}, 'BRIDGE_PORT', 8090), 8090);
    assert.equal(intFromEnv({ BRIDGE_PORT: '9000' }, 'BRIDGE_PORT', 8090), 9000);
    assert.throws(() => intFromEnv({ BRIDGE_PORT: 'x' }, 'BRIDGE_PORT', 8090), /BRIDGE_PORT must be an integer/);
    assert.throws(() => intFromEnv({ BRIDGE_CONCURRENCY: '0' }, 'BRIDGE_CONCURRENCY', 16, 1), /≥ 1/);
  });

  it('runs a 5-field schedule in UTC and refuses an invalid one', () => {
    const trigger = startPeriodicTrigger('*/5 * * * *', () => undefined);
    try {
      const next = trigger.nextRun()!;
      assert.equal(next.getUTCMinutes() % 5, 0);
      assert.equal(next.getUTCSeconds(), 0);
      assert.ok(next.getTime() > Date.now());
    } finally {
      trigger.stop();
    }
    assert.throws(
      () => startPeriodicTrigger('every five minutes', () => undefined),
      /invalid periodic-sync schedule "every five minutes"/,
    );
  });

  it('ticks on its schedule with one timer, and not after stop', async () => {
    const ticks: number[] = [];
    const trigger = startPeriodicTrigger('* * * * * *', () => ticks.push(Date.now()));
    const first = trigger.nextRun()!;
    await new Promise((resolve) => setTimeout(resolve, 2_300));
    trigger.stop();
    assert.ok(ticks.length >= 2 && ticks.length <= 3, `ticks: ${ticks.length}`);
    assert.ok(ticks[0]! >= first.getTime(), 'never before its time');
    assert.equal(trigger.nextRun(), null);
    const stopped = ticks.length;
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    assert.equal(ticks.length, stopped);
  });
});

describe('operator settings', () => {
  it('watches the operator namespace by default, a list, or all namespaces', () => {
    assert.deepEqual(operatorSettings(undefined, {}, 'op').namespaces, ['op']);
    assert.deepEqual(operatorSettings({ watched_namespace: 'a, b' }, {}, 'op').namespaces, ['a', 'b']);
    assert.equal(operatorSettings({ watched_namespace: '*' }, {}, 'op').namespaces, '*');
    assert.deepEqual(
      operatorSettings({ watched_namespace: '*' }, { WATCHED_NAMESPACE: 'x' }, 'op').namespaces,
      ['x'],
      'env wins',
    );
  });

  it('an invalid value of another key does not stop it following watched_namespace', () => {
    const settings = operatorSettings(
      { watched_namespace: 'a', workers: 'many', node_readiness_label: 'lifecycle-status:ready' },
      {},
      'op',
    );
    assert.deepEqual(settings.namespaces, ['a']);
    assert.deepEqual(settings.readinessLabels, { 'lifecycle-status': 'ready' });
    assert.deepEqual(
      settings.errors.map((e) => e.key),
      ['workers'],
    );
  });
});
