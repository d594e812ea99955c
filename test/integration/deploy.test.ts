// The deploy targets against a real API server: every object of the plain and knative output is accepted by a
// server-side dry run (with Knative Eventing's CRDs installed), the generated RBAC grants each ServiceAccount
// what its rule groups say and denies the rest (answered by the API server's RBAC authorizer), and applying a
// target twice changes nothing the second time.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { KubeClient } from '../../lib/k8s/client';
import { FUNCTIONS, functionSpec } from '../../lib/registry/functions';
import { applyObjects, describe as describeObject, objectPath, requireNamespaces } from '../../scripts/deploy/apply';
import { DEPLOY_FIELD_MANAGER, type DesiredObject } from '../../scripts/deploy/meta';
import { defaultOptions, repoRoot, type DeployOptions } from '../../scripts/deploy/options';
import { bridgeRbac, rbacFor } from '../../scripts/deploy/rbac';
import { generate, render } from '../../scripts/deploy/targets';
import { toYaml } from '../../scripts/deploy/yaml';
import { canI } from './access-review';
import { createNamespace, kubectl, requireTestenv, waitCrdsEstablished } from './testenv';

const knativeDir = fileURLToPath(new URL('../fixtures/knative/', import.meta.url));
const KNATIVE_CRDS = [
  'apiserversources.sources.knative.dev',
  'pingsources.sources.knative.dev',
  'brokers.eventing.knative.dev',
  'triggers.eventing.knative.dev',
];

/** `kubectl apply --server-side --dry-run=server` of a YAML stream; returns kubectl's result. */
function serverDryRun(yaml: string) {
  return kubectl(
    [
      'apply',
      '--server-side',
      '--force-conflicts',
      `--field-manager=${DEPLOY_FIELD_MANAGER}`,
      '--dry-run=server',
      '-f',
      '-',
    ],
    yaml,
  );
}

describe('deploy targets on the API server', () => {
  let operatorNs: string;
  let watched: string[];
  let options: DeployOptions;

  before(async () => {
    requireTestenv();
    const install = await kubectl([
      'apply',
      '--server-side',
      '-f',
      `${knativeDir}apiserversource.yaml`,
      '-f',
      `${knativeDir}pingsource.yaml`,
      '-f',
      `${knativeDir}broker.yaml`,
      '-f',
      `${knativeDir}trigger.yaml`,
    ]);
    assert.equal(install.code, 0, install.stderr);
    await waitCrdsEstablished(KNATIVE_CRDS);
    operatorNs = await createNamespace('deploy-op');
    watched = [await createNamespace('deploy-a'), await createNamespace('deploy-b')].sort();
    options = {
      ...defaultOptions(),
      namespace: operatorNs,
      watchedNamespaces: watched,
      configMap: { namespace: operatorNs, name: 'postgres-operator' },
      image: 'registry.example/postgres-operator-functions:test',
    };
  });

  for (const [target, perFunction] of [
    ['plain', false],
    ['plain', true],
    ['knative', false],
  ] as const) {
    for (const scope of ['listed', 'all'] as const) {
      const layout = perFunction ? ' --per-function' : '';
      test(`${target}${layout}, ${scope} namespaces: the server accepts every object`, async () => {
        const targetOptions = {
          ...options,
          perFunction,
          ...(scope === 'all' ? { watchedNamespaces: '*' as const } : {}),
        };
        const objects = generate(target, targetOptions);
        const result = await serverDryRun(render(target, targetOptions));
        assert.equal(result.code, 0, result.stderr);
        // kubectl reports one line per object, all "(server dry run)".
        const lines = result.stdout.trim().split('\n');
        assert.equal(lines.length, objects.length, result.stdout);
        assert.ok(
          lines.every((line) => line.endsWith('(server dry run)')),
          result.stdout,
        );
        for (const kind of target === 'knative'
          ? ['apiserversource', 'pingsource', 'broker', 'trigger', 'deployment']
          : perFunction
            ? ['cronjob', 'deployment']
            : ['deployment', 'clusterrolebinding']) {
          assert.ok(
            lines.some((line) => line.startsWith(`${kind}.`)),
            `${kind} in ${result.stdout}`,
          );
        }
      });
    }
  }

  test('the dry run does validate: an ApiServerSource without resources and a bad CronJob schedule are refused', async () => {
    const [source] = generate('knative', options).filter((o) => o.kind === 'ApiServerSource');
    const { resources: _resources, ...spec } = source!.spec as Record<string, unknown>;
    const refused = await serverDryRun(toYaml([{ ...source!, spec }]));
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /resources/);
    const [cron] = generate('plain', { ...options, perFunction: true }).filter((o) => o.kind === 'CronJob');
    const badCron = await serverDryRun(
      toYaml([{ ...cron!, spec: { ...(cron!.spec as object), schedule: 'every five minutes' } }]),
    );
    assert.notEqual(badCron.code, 0);
    assert.match(badCron.stderr, /schedule/);
  });

  describe('RBAC, answered by the API server', () => {
    let client: KubeClient;
    before(async () => {
      client = KubeClient.fromDefault({ fieldManager: DEPLOY_FIELD_MANAGER });
      const scope = { namespace: operatorNs, watchedNamespaces: watched };
      await applyObjects(client, [...FUNCTIONS.flatMap((spec) => rbacFor(spec, scope)), ...bridgeRbac(scope)]);
    });
    after(() => client.close());

    const PG = 'acid.zalan.do';
    test('on-create may sync and write status in the watched namespaces, nothing outside, no Nodes', async () => {
      const account = `${operatorNs}:on-create`;
      for (const namespace of watched) {
        assert.equal(
          await canI(client, account, {
            verb: 'patch',
            group: PG,
            resource: 'postgresqls',
            subresource: 'status',
            namespace,
          }),
          true,
        );
        assert.equal(
          await canI(client, account, { verb: 'create', group: 'apps', resource: 'statefulsets', namespace }),
          true,
        );
        assert.equal(
          await canI(client, account, { verb: 'delete', resource: 'persistentvolumeclaims', namespace }),
          true,
        );
        assert.equal(
          await canI(client, account, {
            verb: 'bind',
            group: 'rbac.authorization.k8s.io',
            resource: 'clusterroles',
            name: 'postgres-pod',
            namespace,
          }),
          true,
        );
        assert.equal(
          await canI(client, account, {
            verb: 'bind',
            group: 'rbac.authorization.k8s.io',
            resource: 'clusterroles',
            name: 'admin',
            namespace,
          }),
          false,
        );
      }
      assert.equal(
        await canI(client, account, { verb: 'create', group: 'apps', resource: 'statefulsets', namespace: operatorNs }),
        false,
      );
      assert.equal(await canI(client, account, { verb: 'get', resource: 'configmaps', namespace: operatorNs }), true);
      assert.equal(await canI(client, account, { verb: 'create', resource: 'secrets', namespace: operatorNs }), true);
      assert.equal(await canI(client, account, { verb: 'list', resource: 'nodes' }), false);
      assert.equal(
        await canI(client, account, { verb: 'update', group: PG, resource: 'postgresqls', namespace: watched[0] }),
        false,
      );
    });

    test('on-node-drain reads Nodes and pods, and cannot delete a StatefulSet or patch a postgresql', async () => {
      const account = `${operatorNs}:on-node-drain`;
      assert.equal(await canI(client, account, { verb: 'get', resource: 'nodes', name: 'node-1' }), true);
      assert.equal(await canI(client, account, { verb: 'list', resource: 'pods', namespace: watched[1] }), true);
      for (const namespace of [...watched, operatorNs]) {
        assert.equal(
          await canI(client, account, { verb: 'delete', group: 'apps', resource: 'statefulsets', namespace }),
          false,
        );
        assert.equal(
          await canI(client, account, { verb: 'patch', group: PG, resource: 'postgresqls', namespace }),
          false,
        );
      }
    });

    test('the bridge only reads', async () => {
      const account = `${operatorNs}:postgres-operator-bridge`;
      assert.equal(
        await canI(client, account, { verb: 'watch', group: PG, resource: 'postgresqls', namespace: watched[0] }),
        true,
      );
      assert.equal(await canI(client, account, { verb: 'watch', resource: 'configmaps', namespace: operatorNs }), true);
      assert.equal(await canI(client, account, { verb: 'watch', resource: 'nodes' }), true);
      assert.equal(await canI(client, account, { verb: 'create', resource: 'secrets', namespace: operatorNs }), false);
      assert.equal(
        await canI(client, account, { verb: 'patch', group: PG, resource: 'postgresqls', namespace: watched[0] }),
        false,
      );
    });

    test('every function may do every verb of its rules where they apply, and none of them in an unwatched namespace', async () => {
      const elsewhere = 'deploy-not-watched';
      for (const spec of FUNCTIONS) {
        const account = `${operatorNs}:${spec.name}`;
        for (const role of rbacFor(spec, { namespace: operatorNs, watchedNamespaces: watched }).filter((o) =>
          o.kind.endsWith('Role'),
        )) {
          for (const rule of role.rules as Array<{
            apiGroups: string[];
            resources: string[];
            verbs: string[];
            resourceNames?: string[];
          }>) {
            const [resource, subresource] = rule.resources[0]!.split('/') as [string, string | undefined];
            for (const verb of rule.verbs) {
              const access = { verb, group: rule.apiGroups[0]!, resource, subresource, name: rule.resourceNames?.[0] };
              const namespace = role.metadata.namespace;
              assert.equal(
                await canI(client, account, { ...access, namespace }),
                true,
                `${spec.name} ${verb} ${rule.resources[0]} in ${namespace ?? 'cluster'}`,
              );
              if (namespace)
                assert.equal(
                  await canI(client, account, { ...access, namespace: elsewhere }),
                  false,
                  `${spec.name} ${verb} ${rule.resources[0]} elsewhere`,
                );
            }
          }
        }
      }
    });
  });

  describe('applying a target', () => {
    let client: KubeClient;
    before(() => {
      client = KubeClient.fromDefault({ fieldManager: DEPLOY_FIELD_MANAGER });
    });
    after(() => client.close());

    test('knative through the command: every object created, and a second run leaves everything unchanged', async () => {
      const args = [
        '--import',
        'tsx',
        `${repoRoot}scripts/deploy/index.ts`,
        'knative',
        '--namespace',
        operatorNs,
        ...watched.flatMap((ns) => ['--watched-namespace', ns]),
        '--image',
        options.image,
        '--no-crd',
      ];
      const first = spawnSync(process.execPath, args, { encoding: 'utf8', cwd: repoRoot });
      assert.equal(first.status, 0, first.stderr);
      const objects = generate('knative', { ...options, includeCrd: false });
      assert.match(first.stdout, new RegExp(`ApiServerSource ${operatorNs}/on-create (created|configured)`));
      assert.match(first.stdout, /done: \d+ created, \d+ configured, \d+ unchanged/);
      const before = await Promise.all(
        objects.map((o: DesiredObject) =>
          client.request<DesiredObject>({
            verb: 'get',
            kind: o.kind,
            method: 'GET',
            path: objectPath(o),
          }),
        ),
      );

      const second = spawnSync(process.execPath, args, { encoding: 'utf8', cwd: repoRoot });
      assert.equal(second.status, 0, second.stderr);
      assert.match(second.stdout, new RegExp(`done: 0 created, 0 configured, ${objects.length} unchanged`));
      const afterApply = await Promise.all(
        objects.map((o: DesiredObject) =>
          client.request<DesiredObject>({
            verb: 'get',
            kind: o.kind,
            method: 'GET',
            path: objectPath(o),
          }),
        ),
      );
      assert.deepEqual(
        afterApply.map((o) => o.metadata.resourceVersion),
        before.map((o) => o.metadata.resourceVersion),
      );
    });

    test('plain through applyObjects, then again: all unchanged; a missing namespace is named before anything is applied', async () => {
      const objects = generate('plain', options);
      const first = await applyObjects(client, objects);
      assert.equal(first.length, objects.length);
      const second = await applyObjects(client, objects);
      assert.deepEqual(
        second.filter((o) => o !== 'unchanged').map((_, i) => describeObject(objects[i]!)),
        [],
      );
      const elsewhere = generate('plain', { ...options, namespace: 'deploy-missing-namespace', includeCrd: false });
      await assert.rejects(
        requireNamespaces(client, elsewhere),
        /namespace deploy-missing-namespace does not exist; create it first: kubectl create namespace deploy-missing-namespace/,
      );
    });

    test('a function Deployment runs the image on its bundle under its own ServiceAccount', async () => {
      const spec = functionSpec('on-update');
      const live = await client.request<DesiredObject>({
        verb: 'get',
        kind: 'Deployment',
        method: 'GET',
        path: `/apis/apps/v1/namespaces/${operatorNs}/deployments/${spec.name}`,
      });
      const pod = (
        live.spec as {
          template: {
            spec: { serviceAccountName: string; containers: Array<{ env: Array<{ name: string; value?: string }> }> };
          };
        }
      ).template.spec;
      assert.equal(pod.serviceAccountName, spec.name);
      assert.equal(pod.containers[0]!.env.find((e) => e.name === 'FUNC_HANDLER')?.value, 'onUpdate');
    });
  });
});
