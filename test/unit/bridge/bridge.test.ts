// The bridge with an API server that cannot be reached: /healthz stays 503, the informers restart with backoff,
// stop() ends it promptly; a periodic-sync tick goes out with the CronJobTrigger headers.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { KubeConfig } from '@kubernetes/client-node';
import { startBridge, withConfigVersion } from '../../../lib/bridge/bridge';
import type { Delivery } from '../../../lib/bridge/delivery-queue';
import { counterValue } from '../../../lib/bridge/metrics';
import { KubeClient } from '../../../lib/k8s/client';
import { silentLogger } from '../../../lib/log/logger';

function unreachableClient(): KubeClient {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'nowhere', server: 'http://127.0.0.1:1', skipTLSVerify: true }],
    users: [{ name: 'nobody' }],
    contexts: [{ name: 'nowhere', cluster: 'nowhere', user: 'nobody' }],
    currentContext: 'nowhere',
  });
  return new KubeClient(kubeConfig, { timeoutMs: 1_000 });
}

describe('bridge without an API server', () => {
  it('is not healthy, keeps restarting its informers with backoff, and stops promptly', async () => {
    const client = unreachableClient();
    const sent: Delivery[] = [];
    const bridge = await startBridge({
      client,
      targets: { 'periodic-sync': 'http://127.0.0.1:9/periodic-sync' },
      log: silentLogger,
      port: 0,
      schedule: false,
      informerBackoff: { minMs: 10, maxMs: 40 },
      send: async (d) => {
        sent.push(d);
        return { status: 200 };
      },
    });
    try {
      const health = await fetch(`http://127.0.0.1:${bridge.port}/healthz`);
      assert.equal(health.status, 503);
      for (let i = 0; i < 100 && (await counterValue(bridge.metrics.informerRestarts, { informer: 'node' })) < 2; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.ok((await counterValue(bridge.metrics.informerRestarts, { informer: 'node' })) >= 2);
      assert.ok((await counterValue(bridge.metrics.informerRestarts, { informer: 'operator-configmap' })) >= 2);

      bridge.triggerPeriodicSync();
      await bridge.idle();
      assert.equal(sent.length, 1);
      assert.equal(sent[0]!.target, 'periodic-sync');
      assert.equal(sent[0]!.request.body, '');
      assert.equal(sent[0]!.request.headers['event-namespace'], 'cronjobtrigger.kubeless.io');
    } finally {
      const started = Date.now();
      await bridge.stop();
      assert.ok(Date.now() - started < 3_000, 'stop() does not wait for the informers');
      client.close();
    }
    const restarts = await counterValue(bridge.metrics.informerRestarts, {});
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(await counterValue(bridge.metrics.informerRestarts, {}), restarts, 'no restart after stop');
  });

  it('refuses an invalid schedule before starting anything', async () => {
    const client = unreachableClient();
    await assert.rejects(
      startBridge({ client, targets: {}, log: silentLogger, port: 0, schedule: 'sometimes' }),
      /invalid periodic-sync schedule "sometimes"/,
    );
    client.close();
  });
});

describe('the config version sent with each attempt', () => {
  const delivery = (headers: Record<string, string>): Delivery => ({
    key: 'postgresql/ns/a',
    target: 'on-create',
    url: 'http://127.0.0.1:1/on-create',
    request: { headers, body: '{}' },
    mergeable: false,
    delayMs: 0,
    description: 'add postgresql ns/a',
  });

  it("is the bridge's current one, not the one of the attempt before; none when no ConfigMap was seen", () => {
    const queued = delivery({ 'ce-id': '1', 'ce-configversion': '100' });
    const sent = withConfigVersion(queued, '250');
    assert.equal(sent.request.headers['ce-configversion'], '250');
    assert.equal(sent.request.headers['ce-id'], '1');
    assert.equal(queued.request.headers['ce-configversion'], '100', 'the queued delivery is not changed');
    assert.equal(withConfigVersion(queued, undefined).request.headers['ce-configversion'], undefined);
  });
});
