// Every object of the knative target, applied for real (server-side apply, strict field validation) to an API
// server that serves Knative Eventing's own CRDs (Broker, Trigger, ApiServerSource, PingSource, vendored in
// test/fixtures/knative): the structural schemas accept each object for every deploy option, and what is stored
// is what was generated (nothing pruned, nothing changed). Knative's controllers and webhook do not run here.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { DEPLOY_FIELD_MANAGER, type DesiredObject } from '../../scripts/deploy/meta';
import { defaultOptions, type DeployOptions } from '../../scripts/deploy/options';
import { generate, render } from '../../scripts/deploy/targets';
import { toYaml } from '../../scripts/deploy/yaml';
import { createNamespace, deleteNamespace, kubectl, requireTestenv } from './testenv';

const knativeDir = fileURLToPath(new URL('../fixtures/knative/', import.meta.url));
const CRDS = {
  broker: 'brokers.eventing.knative.dev',
  trigger: 'triggers.eventing.knative.dev',
  apiserversource: 'apiserversources.sources.knative.dev',
  pingsource: 'pingsources.sources.knative.dev',
};
const KNATIVE_KINDS = ['Broker', 'Trigger', 'ApiServerSource', 'PingSource'];

/** `kubectl apply --server-side` (for real) of a YAML stream with strict field validation. */
function apply(yaml: string) {
  return kubectl(
    ['apply', '--server-side', '--validate=strict', `--field-manager=${DEPLOY_FIELD_MANAGER}`, '-f', '-'],
    yaml,
  );
}

/** @returns the stored object (`kubectl get -o json`) */
async function stored(object: DesiredObject): Promise<DesiredObject> {
  const result = await kubectl([
    'get',
    `${object.kind.toLowerCase()}.${object.apiVersion.split('/')[0]}`,
    object.metadata.name,
    '-n',
    object.metadata.namespace!,
    '-o',
    'json',
  ]);
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout) as DesiredObject;
}

describe('knative target objects on the API server, under Knative Eventing CRDs', () => {
  const namespaces: string[] = [];
  let watched: string[];
  let base: DeployOptions;
  const made = async (prefix: string) => {
    const name = await createNamespace(prefix);
    namespaces.push(name);
    return name;
  };

  before(async () => {
    requireTestenv();
    const install = await kubectl([
      'apply',
      '--server-side',
      ...Object.keys(CRDS).flatMap((file) => ['-f', `${knativeDir}${file}.yaml`]),
    ]);
    assert.equal(install.code, 0, install.stderr);
    const established = await kubectl([
      'wait',
      '--for=condition=Established',
      '--timeout=60s',
      ...Object.values(CRDS).map((crd) => `crd/${crd}`),
    ]);
    assert.equal(established.code, 0, established.stderr);
    watched = [await made('kn-a'), await made('kn-b')].sort();
    base = { ...defaultOptions(), watchedNamespaces: watched, image: 'registry.example/postgres-operator-functions:t' };
  });
  after(async () => {
    for (const namespace of namespaces) await deleteNamespace(namespace);
  });

  const variants: Array<[string, (operator: string) => Promise<Partial<DeployOptions>>]> = [
    ['listed namespaces', async () => ({})],
    ['all namespaces', async () => ({ watchedNamespaces: '*' })],
    ['ConfigMap in another namespace', async () => ({ configMap: { namespace: await made('kn-cfg'), name: 'pgo' } })],
    ['--no-crd', async () => ({ includeCrd: false })],
    ['--knative-retry-after', async () => ({ knativeRetryAfter: true })],
    ['--timeout, --image-pull-policy', async () => ({ timeoutSeconds: 60, imagePullPolicy: 'Always' })],
  ];
  for (const [name, overrides] of variants) {
    test(`${name}: every object is applied, and Knative's objects are stored exactly as generated`, async () => {
      const namespace = await made('kn-op');
      const options: DeployOptions = {
        ...base,
        namespace,
        configMap: { namespace, name: 'postgres-operator' },
        ...(await overrides(namespace)),
      };
      const objects = generate('knative', options);
      const result = await apply(render('knative', options));
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout.trim().split('\n').length, objects.length, result.stdout);
      assert.equal(result.stderr, '', 'no warnings (unknown or duplicate fields)');

      const knative = objects.filter((o) => KNATIVE_KINDS.includes(o.kind));
      assert.deepEqual([...new Set(knative.map((o) => o.kind))].sort(), [...KNATIVE_KINDS].sort());
      const live = await Promise.all(knative.map(stored));
      for (const [i, object] of knative.entries()) {
        const what = `${object.kind} ${object.metadata.name}`;
        assert.deepEqual(live[i]!.spec, object.spec, what);
        assert.deepEqual(live[i]!.metadata.labels, object.metadata.labels, what);
      }
      // Applying the same objects again writes nothing.
      const again = await apply(render('knative', options));
      assert.equal(again.code, 0, again.stderr);
      const after = await Promise.all(knative.map(stored));
      assert.deepEqual(
        after.map((o) => o.metadata.resourceVersion),
        live.map((o) => o.metadata.resourceVersion),
      );
    });
  }

  // Trigger and ApiServerSource keep unknown fields under `spec` (x-kubernetes-preserve-unknown-fields: Knative's
  // webhook checks the names there, and it does not run here), so the schemas check the types of known fields and
  // what is required; the unit tests pin the field names.
  test('the schemas do validate: a Trigger with a retry or backoffDelay of the wrong type, an ApiServerSource without resources are refused', async () => {
    const namespace = await made('kn-bad');
    const [trigger] = generate('knative', { ...base, namespace }).filter((o) => o.kind === 'Trigger');
    const spec = trigger!.spec as { delivery: Record<string, unknown> };
    const refuse = async (delivery: Record<string, unknown>, pattern: RegExp) => {
      const result = await apply(toYaml([{ ...trigger!, spec: { ...spec, delivery } }]));
      assert.notEqual(result.code, 0, result.stdout);
      assert.match(result.stderr, pattern);
    };
    await refuse({ ...spec.delivery, retry: 'nine' }, /spec\.delivery\.retry/);
    await refuse({ ...spec.delivery, backoffDelay: 5 }, /spec\.delivery\.backoffDelay/);
    const [source] = generate('knative', { ...base, namespace }).filter((o) => o.kind === 'ApiServerSource');
    const { resources: _resources, ...sourceSpec } = source!.spec as Record<string, unknown>;
    const noResources = await apply(toYaml([{ ...source!, spec: sourceSpec }]));
    assert.notEqual(noResources.code, 0);
    assert.match(noResources.stderr, /resources/);
  });
});
