// The installation packages on a real API server: `kubectl kustomize config/<layout>` and `helm template` of the
// chart render what the deploy generators produce for the same options, the chart's values land where they say,
// and both outputs apply server-side to the API server (a second apply changes nothing).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { DEPLOY_FIELD_MANAGER, sortObjects, type DesiredObject } from '../../scripts/deploy/meta';
import { repoRoot } from '../../scripts/deploy/options';
import { LAYOUTS, layoutObjects } from '../../scripts/deploy/packages/kustomize';
import { CHART_NAME, podSpecOf } from '../../scripts/deploy/packages/helm';
import { namespaceObject, operatorConfigMap, packageOptions } from '../../scripts/deploy/packages/install-objects';
import { generate } from '../../scripts/deploy/targets';
import { createNamespace, deleteNamespace, kubectl, requireTestenv, waitCrdsEstablished } from './testenv';

const knativeDir = fileURLToPath(new URL('../fixtures/knative/', import.meta.url));
const chartDir = join(repoRoot, 'charts', CHART_NAME);
/** The API server's version: the chart is rendered for it, as `helm install` would. */
const KUBE_VERSION = '1.34.4';

/** @returns the path of helm, built once from the Go module proxy (scripts/testenv/build-helm.sh) */
function helmBinary(): string {
  const build = spawnSync('bash', [join(repoRoot, 'scripts/testenv/build-helm.sh')], { encoding: 'utf8' });
  assert.equal(build.status, 0, build.stderr);
  return build.stdout.trim().split('\n').pop()!;
}

/** @returns the objects of a multi-document YAML stream, in apply order */
function objectsOf(yaml: string): DesiredObject[] {
  return sortObjects(
    parseAllDocuments(yaml)
      .map((doc) => doc.toJS() as DesiredObject | null)
      .filter((o): o is DesiredObject => o !== null),
  );
}

/** `kubectl apply --server-side` of a YAML stream; returns kubectl's output lines */
async function applyServerSide(yaml: string): Promise<string[]> {
  const result = await kubectl(['apply', '--server-side', `--field-manager=${DEPLOY_FIELD_MANAGER}`, '-f', '-'], yaml);
  assert.equal(result.code, 0, result.stderr);
  return result.stdout.trim().split('\n');
}

describe('installation packages on the API server', () => {
  let helm: string;
  let watched: string;
  const namespaces: string[] = [];

  before(async () => {
    requireTestenv();
    helm = helmBinary();
    const install = await kubectl([
      'apply',
      '--server-side',
      ...['apiserversource', 'pingsource', 'broker', 'trigger'].flatMap((f) => ['-f', `${knativeDir}${f}.yaml`]),
    ]);
    assert.equal(install.code, 0, install.stderr);
    await waitCrdsEstablished([
      'apiserversources.sources.knative.dev',
      'pingsources.sources.knative.dev',
      'brokers.eventing.knative.dev',
      'triggers.eventing.knative.dev',
    ]);
    watched = await createNamespace('pkg-watched');
    namespaces.push(watched);
  });
  after(async () => {
    for (const namespace of namespaces) await deleteNamespace(namespace);
  });

  /** @returns `helm template` output of the chart in `namespace` with `--set` values */
  function helmTemplate(namespace: string, set: string[], extra: string[] = []): string {
    const result = spawnSync(
      helm,
      [
        'template',
        'pgo',
        chartDir,
        '--namespace',
        namespace,
        '--kube-version',
        KUBE_VERSION,
        ...set.flatMap((s) => ['--set', s]),
        ...extra,
      ],
      { encoding: 'utf8' },
    );
    assert.equal(result.status, 0, result.stderr);
    return result.stdout;
  }

  for (const layout of Object.keys(LAYOUTS)) {
    test(`kubectl kustomize config/${layout}: the generated objects and the CRDs, applied server-side twice`, async () => {
      const rendered = await kubectl(['kustomize', join(repoRoot, 'config', layout)]);
      assert.equal(rendered.code, 0, rendered.stderr);
      const objects = objectsOf(rendered.stdout);
      const crds = objects.filter((o) => o.kind === 'CustomResourceDefinition').map((o) => o.metadata.name);
      assert.deepEqual(crds.sort(), ['postgresqls.acid.zalan.do', 'postgresteams.acid.zalan.do']);
      assert.deepEqual(
        objects.filter((o) => o.kind !== 'CustomResourceDefinition'),
        sortObjects(layoutObjects(layout)),
      );
      const first = await applyServerSide(rendered.stdout);
      assert.equal(first.length, objects.length, first.join('\n'));
      const second = await applyServerSide(rendered.stdout);
      // kubectl says "serverside-applied" either way; the resourceVersions tell whether anything was written.
      assert.equal(second.length, objects.length);
      const versions = async () =>
        (await kubectl(['get', 'deployments,configmaps,roles,rolebindings', '-n', 'postgres-operator', '-o', 'json']))
          .stdout;
      const before = await versions();
      await applyServerSide(rendered.stdout);
      assert.equal(await versions(), before);
    });
  }

  test('helm template with the default values renders the plain target watching every namespace', async () => {
    const namespace = 'pkg-helm-default';
    const objects = objectsOf(helmTemplate(namespace, ['namespace.create=true']));
    const options = packageOptions({ namespace, includeCrd: false });
    assert.deepEqual(
      objects,
      sortObjects([namespaceObject(namespace), operatorConfigMap(namespace), ...generate('plain', options)]),
    );
    namespaces.push(namespace);
    const withCrds = helmTemplate(namespace, ['namespace.create=true'], ['--include-crds']);
    assert.equal((await applyServerSide(withCrds)).length, objects.length + 2);
  });

  test('helm template, per function, watching a list that holds its own namespace: Roles in each, values applied', async () => {
    const namespace = await createNamespace('pkg-helm');
    namespaces.push(namespace);
    const listed = [watched, namespace];
    const set = [
      'perFunction=true',
      `watchedNamespaces={${listed.join(',')}}`,
      'replicas=2',
      'image.repository=registry.example/pgo',
      'image.tag=1.2.3',
      'image.pullPolicy=Always',
      'nodeSelector.disktype=ssd',
      'tolerations[0].key=dedicated',
      'tolerations[0].operator=Exists',
      'resources.requests.cpu=70m',
      'resources.limits.memory=300Mi',
      'configuration.enable_teams_api=true',
    ];
    const rendered = helmTemplate(namespace, set);
    const objects = objectsOf(rendered);

    // Same objects as the generator for those options, once the values the generator has no option for are put back.
    const options = packageOptions({
      namespace,
      watchedNamespaces: [...listed].sort(),
      perFunction: true,
      includeCrd: false,
      image: 'registry.example/pgo:1.2.3',
      imagePullPolicy: 'Always',
    });
    const normalized = objects.map((o) => structuredClone(o));
    for (const o of normalized) {
      const pod = podSpecOf(o);
      if (!pod) continue;
      assert.deepEqual(pod.nodeSelector, { disktype: 'ssd' }, `${o.kind} ${o.metadata.name}`);
      assert.deepEqual(pod.tolerations, [{ key: 'dedicated', operator: 'Exists' }], `${o.kind} ${o.metadata.name}`);
      delete pod.nodeSelector;
      delete pod.tolerations;
      if (o.kind !== 'Deployment') continue;
      assert.deepEqual(pod.containers[0]!.resources, {
        requests: { cpu: '70m', memory: '128Mi' },
        limits: { memory: '300Mi' },
      });
      delete pod.containers[0]!.resources;
      // The function Deployments get `replicas`; the bridge stays at one (two would deliver every event twice).
      const spec = o.spec as { replicas: number };
      assert.equal(spec.replicas, o.metadata.name === 'postgres-operator-bridge' ? 1 : 2, o.metadata.name);
      spec.replicas = 1;
    }
    const generated = sortObjects([operatorConfigMap(namespace), ...generate('plain', options)]).map((o) => {
      const copy = structuredClone(o);
      if (copy.kind === 'Deployment') delete podSpecOf(copy)!.containers[0]!.resources;
      if (copy.kind === 'ConfigMap') (copy.data as Record<string, string>).enable_teams_api = 'true';
      return copy;
    });
    assert.deepEqual(normalized, generated); // Helm sorts keys; the order of keys does not count here

    // Roles in each listed namespace, the operator's own merged into one; ClusterRoles only for Nodes, and the
    // operator API's two reviews (cluster-scoped by nature).
    const roles = objects.filter((o) => o.kind === 'Role' && o.metadata.name.endsWith(':on-create'));
    assert.deepEqual(roles.map((r) => r.metadata.namespace).sort(), [...listed].sort());
    const clusterRoles = objects.filter((o) => o.kind === 'ClusterRole' && o.metadata.name !== 'postgres-pod');
    for (const role of clusterRoles) {
      const allowed = role.metadata.name.endsWith(':operator-api')
        ? [['subjectaccessreviews'], ['tokenreviews']]
        : [['nodes']];
      for (const rule of role.rules as Array<{ resources: string[] }>)
        assert.ok(
          allowed.some((r) => r[0] === rule.resources[0] && rule.resources.length === 1),
          role.metadata.name,
        );
    }

    const crds = helmTemplate(namespace, [], ['--include-crds']);
    await applyServerSide(
      crds
        .split('\n---\n')
        .filter((d) => d.includes('kind: CustomResourceDefinition'))
        .join('\n---\n'),
    );
    assert.equal((await applyServerSide(rendered)).length, objects.length);
    const env = await kubectl([
      'get',
      'deployment',
      'on-create',
      '-n',
      namespace,
      '-o',
      'jsonpath={.spec.template.spec.containers[0].env[?(@.name=="WATCHED_NAMESPACE")].value}',
    ]);
    assert.equal(env.stdout, [...listed].sort().join(','));
  });
});
