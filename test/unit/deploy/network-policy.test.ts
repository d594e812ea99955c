// The NetworkPolicy of the function pods: its selectors, evaluated as a network plugin evaluates them, pick every
// function pod, and admit the callers (the bridge and the CronJob's pods; Knative Eventing's namespace) and no one else.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FUNCTIONS } from '../../../lib/registry/functions';
import type { DesiredObject } from '../../../scripts/deploy/meta';
import { FUNCTIONS_NETWORK_POLICY, KNATIVE_EVENTING_NAMESPACE } from '../../../scripts/deploy/network-policy';
import { generate } from '../../../scripts/deploy/targets';
import { find, testOptions } from './fixtures';

type Selector = {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: string; values: string[] }>;
};
type Peer = { podSelector?: Selector; namespaceSelector?: Selector };
type Policy = {
  podSelector: Selector;
  policyTypes: string[];
  ingress: Array<{ from: Peer[]; ports: Array<{ port: number }> }>;
};

/** A LabelSelector as Kubernetes evaluates it (matchLabels and `In` expressions, all must hold). */
function matches(selector: Selector, labels: Record<string, string>): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) if (labels[key] !== value) return false;
  for (const e of selector.matchExpressions ?? []) {
    assert.equal(e.operator, 'In', 'only In is evaluated here');
    if (!e.values.includes(labels[e.key] ?? '')) return false;
  }
  return true;
}

/** @returns the labels of the pods a Deployment or CronJob makes */
function podLabels(object: DesiredObject): Record<string, string> {
  const spec = object.spec as {
    template?: { metadata: { labels: Record<string, string> } };
    jobTemplate?: { spec: { template: { metadata: { labels: Record<string, string> } } } };
  };
  return (spec.template ?? spec.jobTemplate!.spec.template).metadata.labels;
}

/** @returns whether a pod of the operator namespace with these labels may reach a selected pod's port */
function admitted(policy: Policy, labels: Record<string, string>, namespaceLabels: Record<string, string>): boolean {
  return policy.ingress.some((rule) =>
    rule.from.some(
      (peer) =>
        (peer.podSelector === undefined || matches(peer.podSelector, labels)) &&
        (peer.namespaceSelector === undefined
          ? namespaceLabels['kubernetes.io/metadata.name'] === 'pgo'
          : matches(peer.namespaceSelector, namespaceLabels)),
    ),
  );
}

describe('NetworkPolicy of the function pods', () => {
  const own = { 'kubernetes.io/metadata.name': 'pgo' };

  it('plain --per-function: every function pod is guarded; the bridge and the CronJob pods are admitted, nothing else', () => {
    const objects = generate('plain', testOptions({ namespace: 'pgo', perFunction: true }));
    const policy = find(objects, 'NetworkPolicy', FUNCTIONS_NETWORK_POLICY)!.spec as Policy;
    assert.deepEqual(policy.policyTypes, ['Ingress']);
    assert.deepEqual(policy.ingress[0]!.ports, [{ protocol: 'TCP', port: 8080 }]);
    for (const spec of FUNCTIONS) {
      const labels = podLabels(find(objects, 'Deployment', spec.name)!);
      if (spec.trigger.type === 'http') {
        // The operator API is called by people and Prometheus; it authorizes each caller itself (lib/api).
        assert.equal(matches(policy.podSelector, labels), false, `${spec.name} is open to callers`);
        continue;
      }
      assert.ok(matches(policy.podSelector, labels), `${spec.name} is guarded`);
      assert.equal(admitted(policy, labels, own), false, `${spec.name} cannot call the functions`);
    }
    const bridge = podLabels(find(objects, 'Deployment', 'postgres-operator-bridge')!);
    const cron = podLabels(find(objects, 'CronJob', 'trigger-periodic-sync')!);
    assert.equal(matches(policy.podSelector, bridge), false);
    assert.equal(matches(policy.podSelector, cron), false, "the CronJob's pods are no function pods");
    assert.ok(admitted(policy, bridge, own));
    assert.ok(admitted(policy, cron, own));
    // A pod elsewhere with the bridge's labels is not the bridge.
    assert.equal(admitted(policy, bridge, { 'kubernetes.io/metadata.name': 'other' }), false);
    // The periodic-sync Service no longer selects the CronJob's pods.
    const service = find(objects, 'Service', 'periodic-sync')!.spec as { selector: Record<string, string> };
    assert.equal(matches({ matchLabels: service.selector }, cron), false);
  });

  it("knative: the function and dead-letter pods are guarded; only Knative Eventing's namespace is admitted", () => {
    const objects = generate('knative', testOptions({ namespace: 'pgo' }));
    const policy = find(objects, 'NetworkPolicy', FUNCTIONS_NETWORK_POLICY)!.spec as Policy;
    const events = FUNCTIONS.filter((f) => f.trigger.type !== 'http').map((f) => f.name);
    for (const name of [...events, 'postgres-operator-dead-letter'])
      assert.ok(matches(policy.podSelector, podLabels(find(objects, 'Deployment', name)!)), name);
    assert.equal(matches(policy.podSelector, podLabels(find(objects, 'Deployment', 'operator-api')!)), false);
    const eventing = { 'kubernetes.io/metadata.name': KNATIVE_EVENTING_NAMESPACE };
    assert.ok(admitted(policy, {}, eventing));
    assert.equal(admitted(policy, {}, own), false);
    assert.equal(admitted(policy, {}, { 'kubernetes.io/metadata.name': 'default' }), false);
  });

  it('the single-process layout has no function Service and no policy', () => {
    assert.equal(find(generate('plain', testOptions()), 'NetworkPolicy', FUNCTIONS_NETWORK_POLICY), undefined);
  });
});
