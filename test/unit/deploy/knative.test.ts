// The knative target: Deployments and Services, the sources and their RBAC, the Broker, one Trigger per function
// with its filter and delivery spec, and the dead-letter receiver (its script run for real).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { toCloudEvent } from '../../../lib/bridge/cloudevent';
import { POD_WAIT_FAST_SECONDS, POD_WAIT_SLOW_SECONDS } from '../../../lib/plan/pod-wait';
import { FUNCTIONS, type ResourceAction } from '../../../lib/registry/functions';
import {
  BROKER_NAME,
  DEAD_LETTER_NAME,
  DEAD_LETTER_SCRIPT,
  DELIVERY_BACKOFF_SECONDS,
  DELIVERY_RETRIES,
  EMPTY_SUCCESS_REPLY_ENV,
  FUNCTION_EXTENSION,
  PING_EVENT_TYPE,
  POSTGRES_TEAM_SOURCE,
} from '../../../scripts/deploy/knative';
import type { DesiredObject } from '../../../scripts/deploy/meta';
import { generate } from '../../../scripts/deploy/targets';
import { allows, envOf, find, podOf, testOptions } from './fixtures';

type Ref = { apiVersion: string; kind: string; name: string; namespace: string };
type SourceSpec = {
  mode: string;
  serviceAccountName: string;
  resources: Array<{ apiVersion: string; kind: string }>;
  namespaceSelector?: unknown;
  ceOverrides: { extensions: Record<string, string> };
  sink: { ref: Ref };
};
type TriggerSpec = {
  broker: string;
  filter: { attributes: Record<string, string> };
  subscriber: { ref: Ref };
  delivery: {
    retry: number;
    backoffPolicy: string;
    backoffDelay: string;
    retryAfterMax?: string;
    deadLetterSink: { ref: Ref };
  };
};

const specOf = <T>(objects: DesiredObject[], kind: string, name: string) => find(objects, kind, name)!.spec as T;
const service = (name: string): Ref => ({ apiVersion: 'v1', kind: 'Service', name, namespace: 'pgo' });
const brokerRef: Ref = { apiVersion: 'eventing.knative.dev/v1', kind: 'Broker', name: BROKER_NAME, namespace: 'pgo' };

/** Seconds from the first attempt to each retry: Knative waits `backoffDelay · 2^n` before retry n + 1. */
function retryTimes(retries: number, delaySeconds: number): number[] {
  const times: number[] = [];
  for (let n = 0, at = 0; n < retries; n++) times.push((at += delaySeconds * 2 ** n));
  return times;
}

describe('knative target', () => {
  const objects = generate('knative', testOptions());
  const sources = objects.filter((o) => o.kind === 'ApiServerSource');
  const resourceFunctions = FUNCTIONS.filter((f) => f.trigger.type === 'resource');
  /** the functions events start (the operator API is called over HTTP: no Trigger, no empty reply) */
  const eventFunctions = FUNCTIONS.filter((f) => f.trigger.type !== 'http');

  it('Services on port 80 (where a sink ref resolves) to the host on 8080, which answers a success empty', () => {
    for (const spec of eventFunctions) {
      assert.deepEqual(specOf<{ ports: unknown[] }>(objects, 'Service', spec.name).ports, [
        { name: 'http-function-port', port: 80, targetPort: 'http', protocol: 'TCP' },
      ]);
      const container = podOf(find(objects, 'Deployment', spec.name)!).spec.containers[0]!;
      assert.equal(container.ports?.[0]?.containerPort, 8080);
      assert.equal(envOf(container)[EMPTY_SUCCESS_REPLY_ENV.name], 'true');
    }
  });

  it('the operator API: a Deployment and a Service on 8080, answering with bodies, and no Trigger', () => {
    assert.deepEqual(specOf<{ ports: unknown[] }>(objects, 'Service', 'operator-api').ports, [
      { name: 'http-function-port', port: 8080, targetPort: 'http', protocol: 'TCP' },
    ]);
    const container = podOf(find(objects, 'Deployment', 'operator-api')!).spec.containers[0]!;
    assert.equal(envOf(container)[EMPTY_SUCCESS_REPLY_ENV.name], undefined);
    assert.equal(envOf(container).FUNC_METRICS_PATH, '/function-metrics');
    assert.equal(find(objects, 'Trigger', 'operator-api'), undefined);
  });

  it('an ApiServerSource in Resource mode per resource trigger, to the Broker, with its own watching ServiceAccount', () => {
    assert.deepEqual(
      sources.map((s) => s.metadata.name).sort(),
      [...resourceFunctions.map((f) => f.name), POSTGRES_TEAM_SOURCE].sort(),
    );
    const byName = (name: string) => specOf<SourceSpec>(objects, 'ApiServerSource', name);
    for (const spec of resourceFunctions) {
      const source = byName(spec.name);
      assert.equal(source.mode, 'Resource');
      assert.deepEqual(source.sink.ref, brokerRef);
      assert.deepEqual(source.ceOverrides, { extensions: { [FUNCTION_EXTENSION]: spec.name } });
      assert.ok(find(objects, 'ServiceAccount', source.serviceAccountName));
    }
    assert.deepEqual(byName('on-create').resources, [{ apiVersion: 'acid.zalan.do/v1', kind: 'postgresql' }]);
    assert.deepEqual(byName('on-create').namespaceSelector, {
      matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['apps', 'data'] }],
    });
    assert.deepEqual(byName('on-operator-config-change').resources, [{ apiVersion: 'v1', kind: 'ConfigMap' }]);
    assert.equal(
      byName('on-operator-config-change').namespaceSelector,
      undefined,
      'the ConfigMap is in the source namespace',
    );
    assert.deepEqual(byName('on-node-drain').resources, [{ apiVersion: 'v1', kind: 'Node' }]);
    assert.equal(byName('on-node-drain').namespaceSelector, undefined);

    const postgresqls = { group: 'acid.zalan.do', resource: 'postgresqls', namespace: 'apps' };
    assert.equal(allows(objects, 'pgo/on-create-source', { verb: 'watch', ...postgresqls }), true);
    assert.equal(allows(objects, 'pgo/on-create-source', { verb: 'patch', ...postgresqls }), false);
    assert.equal(allows(objects, 'pgo/on-node-drain-source', { verb: 'watch', group: '', resource: 'nodes' }), true);
    assert.equal(
      allows(objects, 'pgo/on-operator-config-change-source', {
        verb: 'list',
        group: '',
        resource: 'configmaps',
        namespace: 'pgo',
      }),
      true,
    );
  });

  it('all namespaces: an empty namespaceSelector and a ClusterRole for the postgresql sources', () => {
    const all = generate('knative', testOptions({ watchedNamespaces: '*' }));
    assert.deepEqual(specOf<SourceSpec>(all, 'ApiServerSource', 'on-update').namespaceSelector, {});
    assert.equal(
      allows(all, 'pgo/on-update-source', {
        verb: 'list',
        group: 'acid.zalan.do',
        resource: 'postgresqls',
        namespace: 'any',
      }),
      true,
    );
  });

  it('a ConfigMap in another namespace: the source selects and may watch there, the Trigger passes that one on', () => {
    const moved = generate('knative', testOptions({ configMap: { namespace: 'config', name: 'postgres-operator' } }));
    assert.deepEqual(specOf<SourceSpec>(moved, 'ApiServerSource', 'on-operator-config-change').namespaceSelector, {
      matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['config'] }],
    });
    const configmaps = { verb: 'watch', group: '', resource: 'configmaps' };
    assert.equal(allows(moved, 'pgo/on-operator-config-change-source', { ...configmaps, namespace: 'config' }), true);
    assert.equal(allows(moved, 'pgo/on-operator-config-change-source', { ...configmaps, namespace: 'pgo' }), false);
    const { attributes } = specOf<TriggerSpec>(moved, 'Trigger', 'on-operator-config-change').filter;
    assert.equal(attributes.name, 'postgres-operator');
    assert.equal(attributes.namespace, 'config');
  });

  it('a PingSource for periodic-sync to the Broker; no bridge, no CronJob, nothing of Knative Serving', () => {
    const ping = objects.filter((o) => o.kind === 'PingSource');
    assert.equal(ping.length, 1);
    assert.deepEqual(ping[0]!.spec, { schedule: '*/5 * * * *', timezone: 'Etc/UTC', sink: { ref: brokerRef } });
    assert.equal(find(objects, 'Deployment', 'postgres-operator-bridge'), undefined);
    assert.equal(
      objects.some((o) => o.kind === 'CronJob' || o.apiVersion.startsWith('serving.knative.dev')),
      false,
    );
  });

  it('one Broker in the operator namespace, of the cluster default class', () => {
    const brokers = objects.filter((o) => o.kind === 'Broker');
    assert.equal(brokers.length, 1);
    assert.equal(brokers[0]!.apiVersion, 'eventing.knative.dev/v1');
    assert.deepEqual([brokers[0]!.metadata.name, brokers[0]!.metadata.namespace], [BROKER_NAME, 'pgo']);
    assert.equal(brokers[0]!.metadata.annotations?.['eventing.knative.dev/broker.class'], undefined);
  });

  it('PostgresTeam objects: a source in the watched namespaces and a Trigger to on-update, which syncs their clusters', () => {
    const source = specOf<SourceSpec>(objects, 'ApiServerSource', POSTGRES_TEAM_SOURCE);
    assert.deepEqual(source.resources, [{ apiVersion: 'acid.zalan.do/v1', kind: 'PostgresTeam' }]);
    assert.deepEqual(
      source.namespaceSelector,
      specOf<SourceSpec>(objects, 'ApiServerSource', 'on-create').namespaceSelector,
    );
    assert.deepEqual(source.ceOverrides, { extensions: { [FUNCTION_EXTENSION]: POSTGRES_TEAM_SOURCE } });
    const teams = { group: 'acid.zalan.do', resource: 'postgresteams', namespace: 'apps' };
    assert.equal(allows(objects, `pgo/${source.serviceAccountName}`, { verb: 'watch', ...teams }), true);
    assert.equal(allows(objects, `pgo/${source.serviceAccountName}`, { verb: 'patch', ...teams }), false);
    const trigger = specOf<TriggerSpec>(objects, 'Trigger', POSTGRES_TEAM_SOURCE);
    assert.deepEqual(trigger.subscriber.ref, service('on-update'));
    assert.deepEqual(trigger.filter, {
      attributes: { [FUNCTION_EXTENSION]: POSTGRES_TEAM_SOURCE, kind: 'PostgresTeam', apiversion: 'acid.zalan.do/v1' },
    });
    assert.equal(allows(objects, 'pgo/on-update', { verb: 'list', ...teams }), true);
  });

  it('a Trigger per function from the Broker to its Service, retrying with exponential backoff, then the dead-letter sink', () => {
    const triggers = objects.filter((o) => o.kind === 'Trigger');
    assert.deepEqual(
      triggers.map((t) => t.metadata.name).sort(),
      [...eventFunctions.map((f) => f.name), POSTGRES_TEAM_SOURCE].sort(),
    );
    for (const spec of eventFunctions) {
      const trigger = specOf<TriggerSpec>(objects, 'Trigger', spec.name);
      assert.equal(trigger.broker, BROKER_NAME);
      assert.deepEqual(trigger.subscriber.ref, service(spec.name));
      assert.deepEqual(trigger.delivery, {
        retry: 9,
        backoffPolicy: 'exponential',
        backoffDelay: 'PT1S',
        deadLetterSink: { ref: service(DEAD_LETTER_NAME) },
      });
    }
  });

  it('the retries cover a rolling-update step (up to 120 s) and end within the functions` own wait and the fan-out limit', () => {
    const times = retryTimes(DELIVERY_RETRIES, DELIVERY_BACKOFF_SECONDS);
    assert.deepEqual(times, [1, 3, 7, 15, 31, 63, 127, 255, 511]);
    // A pod Ready after 30 to 120 s is seen by a retry at most about as long again later.
    for (const ready of [30, 60, 90, 120]) {
      const next = times.find((t) => t >= ready)!;
      assert.ok(next <= 2 * ready + DELIVERY_BACKOFF_SECONDS, `ready at ${ready} s, retried at ${next} s`);
    }
    // The functions answer 503 for 10 minutes at most (lib/plan/pod-wait.ts); an InMemoryChannel waits 15.
    assert.ok(times.at(-1)! < 600);
    assert.ok(retryTimes(DELIVERY_RETRIES + 1, DELIVERY_BACKOFF_SECONDS).at(-1)! > 900);
    // While the functions ask for 3 s, the first two waits are shorter: retryAfterMax makes them wait as asked.
    assert.ok(times[1]! - times[0]! < POD_WAIT_FAST_SECONDS);
  });

  it('--knative-retry-after: every Trigger honours Retry-After up to the longest the functions send (15 s)', () => {
    const honouring = generate('knative', testOptions({ knativeRetryAfter: true }));
    for (const spec of eventFunctions) {
      const { delivery } = specOf<TriggerSpec>(honouring, 'Trigger', spec.name);
      assert.equal(delivery.retryAfterMax, `PT${POD_WAIT_SLOW_SECONDS}S`);
      assert.equal(delivery.retry, DELIVERY_RETRIES);
    }
    assert.equal(specOf<TriggerSpec>(objects, 'Trigger', 'on-update').delivery.retryAfterMax, undefined);
  });

  describe('the Trigger filters, on the events the sources send', () => {
    /** The functions whose Trigger passes an event on (exact match of every attribute, as Knative's filter). */
    const receivers = (event: Record<string, unknown>) =>
      objects
        .filter((o) => o.kind === 'Trigger')
        .filter((t) =>
          Object.entries((t.spec as TriggerSpec).filter.attributes).every(([key, value]) => event[key] === value),
        )
        .map((t) => t.metadata.name)
        .sort();
    /**
     * The event a function's ApiServerSource sends: ApiServerSource's envelope (as the bridge imitates it, without
     * the bridge's own extension) plus the source's ceOverrides.
     */
    const sourceEvent = (source: string, action: ResourceAction, object: Record<string, unknown>) => {
      const event = toCloudEvent({ resource: 'postgresql', action, object });
      const { readinesswatch: _bridgeOnly, ...attributes } = event.toJSON();
      const extensions = specOf<SourceSpec>(objects, 'ApiServerSource', source).ceOverrides.extensions;
      return { ...attributes, ...extensions } as Record<string, unknown>;
    };
    const cluster = { apiVersion: 'acid.zalan.do/v1', kind: 'postgresql', metadata: { name: 'db', namespace: 'apps' } };
    const configMap = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'pgo' } });
    const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } };
    const actions: ResourceAction[] = ['add', 'update', 'delete'];

    it('each postgresql event reaches its function once: add → on-create, update → on-update, delete → on-delete', () => {
      const got = new Map<string, string[]>();
      // Each of the three sources watching postgresql objects sends every action.
      for (const source of ['on-create', 'on-update', 'on-delete'])
        for (const action of actions)
          for (const name of receivers(sourceEvent(source, action, cluster)))
            got.set(name, [...(got.get(name) ?? []), action]);
      assert.deepEqual(Object.fromEntries(got), {
        'on-create': ['add'],
        'on-update': ['update'],
        'on-delete': ['delete'],
      });
    });

    it('the operator ConfigMap and Nodes reach their function, each event once; other ConfigMaps do not', () => {
      for (const action of actions) {
        assert.deepEqual(receivers(sourceEvent('on-operator-config-change', action, configMap('postgres-operator'))), [
          'on-operator-config-change',
        ]);
        assert.deepEqual(receivers(sourceEvent('on-operator-config-change', action, configMap('other'))), []);
        assert.deepEqual(receivers(sourceEvent('on-node-drain', action, node)), ['on-node-drain']);
      }
    });

    it("PingSource's event reaches periodic-sync alone", () => {
      const ping = {
        specversion: '1.0',
        type: PING_EVENT_TYPE,
        source: '/apis/v1/namespaces/pgo/pingsources/periodic-sync',
      };
      assert.deepEqual(receivers(ping), ['periodic-sync']);
      assert.deepEqual(receivers({ ...ping, source: '/apis/v1/namespaces/other/pingsources/periodic-sync' }), []);
    });
  });

  describe('the dead-letter receiver', () => {
    it('a Deployment of the runtime image without a token, and its Service on port 80', () => {
      const pod = podOf(find(objects, 'Deployment', DEAD_LETTER_NAME)!).spec;
      assert.equal(pod.automountServiceAccountToken, false);
      assert.equal(pod.containers[0]!.image, testOptions().image);
      assert.deepEqual(pod.containers[0]!.command, ['node', '-e', DEAD_LETTER_SCRIPT]);
      const receiver = specOf<{ ports: unknown[]; selector: unknown }>(objects, 'Service', DEAD_LETTER_NAME);
      assert.deepEqual(receiver.ports, [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }]);
      assert.deepEqual(
        receiver.selector,
        (find(objects, 'Deployment', DEAD_LETTER_NAME)!.spec as { selector: { matchLabels: unknown } }).selector
          .matchLabels,
      );
    });

    it('logs one JSON line per dropped event, binary or structured, with what the function answered; 202', async () => {
      const port = await new Promise<number>((resolve) => {
        const probe = net.createServer().listen(0, '127.0.0.1', () => {
          const { port } = probe.address() as net.AddressInfo;
          probe.close(() => resolve(port));
        });
      });
      const child = spawn(process.execPath, ['-e', DEAD_LETTER_SCRIPT], {
        env: { ...process.env, PORT: String(port) },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
      const url = `http://127.0.0.1:${port}/`;
      try {
        let health: Response | undefined;
        for (let i = 0; i < 100 && !health; i++)
          health = await fetch(`${url}healthz`).catch(
            () => new Promise<undefined>((r) => setTimeout(() => r(undefined), 50)),
          );
        assert.equal(health?.status, 200);
        const answer = Buffer.from('{"code":503,"message":"pods not ready"}').toString('base64');
        const binary = await fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'ce-specversion': '1.0',
            'ce-id': 'e1',
            'ce-type': 'dev.knative.apiserver.resource.update',
            'ce-source': 'https://10.96.0.1:443',
            'ce-subject': '/apis/acid.zalan.do/v1/namespaces/apps/postgresqls/db',
            'ce-kind': 'postgresql',
            'ce-name': 'db',
            'ce-namespace': 'apps',
            'ce-targetfunction': 'on-update',
            'ce-knativeerrordest': 'http://on-update.pgo.svc.cluster.local',
            'ce-knativeerrorcode': '503',
            'ce-knativeerrordata': answer,
          },
          body: '{"kind":"postgresql"}',
        });
        assert.equal(binary.status, 202);
        const structured = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/cloudevents+json' },
          body: JSON.stringify({
            specversion: '1.0',
            id: 'e2',
            type: PING_EVENT_TYPE,
            source: '/apis/v1/namespaces/pgo/pingsources/periodic-sync',
            knativeerrordest: 'http://periodic-sync.pgo.svc.cluster.local',
            knativeerrorcode: '500',
          }),
        });
        assert.equal(structured.status, 202);
      } finally {
        child.kill();
      }
      const lines = out
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      assert.equal(lines.length, 2, out);
      assert.deepEqual(
        { ...lines[0], ts: undefined },
        {
          ts: undefined,
          level: 'warn',
          msg: 'Event dropped after its retries',
          type: 'dev.knative.apiserver.resource.update',
          id: 'e1',
          subject: '/apis/acid.zalan.do/v1/namespaces/apps/postgresqls/db',
          function: 'on-update',
          kind: 'postgresql',
          namespace: 'apps',
          name: 'db',
          destination: 'http://on-update.pgo.svc.cluster.local',
          status: 503,
          response: '{"code":503,"message":"pods not ready"}',
        },
      );
      assert.equal(lines[1]!.type, PING_EVENT_TYPE);
      assert.equal(lines[1]!.id, 'e2');
      assert.equal(lines[1]!.status, 500);
      assert.equal(lines[1]!.response, undefined);
    });
  });
});
