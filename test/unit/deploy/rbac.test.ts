// RBAC of the generated deployment: each function's ServiceAccount gets exactly the verbs of its rule groups, in
// the right namespaces, and nothing else; the bridge only reads; the pod ClusterRole covers Patroni.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mergeRules, PASSWORD_KEY_SECRET, type PolicyRule, type RuleScope } from '../../../lib/registry/rbac';
import { PASSWORD_KEY_SECRET as SECRET_READ_BY_SYNC } from '../../../lib/sync/operator/passwords';
import { FUNCTIONS, functionSpec } from '../../../lib/registry/functions';
import { bridgeRbac, postgresPodClusterRole, rbacFor } from '../../../scripts/deploy/rbac';
import { allows, grantsOf } from './fixtures';

const scope = { namespace: 'pgo', watchedNamespaces: ['apps', 'data'] };

/** @returns what the Role in a namespace (or the ClusterRole, for undefined) of a function's objects grants */
function roleGrants(objects: ReturnType<typeof rbacFor>, kind: 'Role' | 'ClusterRole', namespace?: string): string[] {
  const role = objects.find((o) => o.kind === kind && o.metadata.namespace === namespace);
  return role ? grantsOf(role.rules as PolicyRule[]) : [];
}

describe('rbacFor', () => {
  it('the password key Secret the rules name is the one the functions read', () => {
    assert.equal(PASSWORD_KEY_SECRET, SECRET_READ_BY_SYNC);
  });

  for (const spec of FUNCTIONS) {
    it(`${spec.name}: every Role holds exactly the verbs of its groups for that place`, () => {
      const objects = rbacFor(spec, scope);
      const expected = (scopes: RuleScope[]) => grantsOf(mergeRules(spec.permissions, scopes));
      assert.deepEqual(roleGrants(objects, 'Role', 'pgo'), expected(['operator']));
      for (const namespace of ['apps', 'data'])
        assert.deepEqual(roleGrants(objects, 'Role', namespace), expected(['namespace']));
      assert.deepEqual(roleGrants(objects, 'ClusterRole'), expected(['cluster']));
      // Nothing in any other namespace, one ServiceAccount in the operator namespace, bindings to it only.
      const namespaces = new Set(objects.filter((o) => o.kind === 'Role').map((o) => o.metadata.namespace));
      assert.deepEqual(
        [...namespaces].sort(),
        ['apps', 'data', 'pgo'].filter((ns) => roleGrants(objects, 'Role', ns).length > 0),
      );
      assert.deepEqual(
        objects.filter((o) => o.kind === 'ServiceAccount').map((o) => `${o.metadata.namespace}/${o.metadata.name}`),
        [`pgo/${spec.name}`],
      );
      for (const binding of objects.filter((o) => o.kind.endsWith('Binding'))) {
        assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: spec.name, namespace: 'pgo' }]);
        assert.equal((binding.roleRef as { name: string }).name, binding.metadata.name);
      }
    });
  }

  it('on-node-drain cannot delete StatefulSets or write postgresqls anywhere, but gets Nodes cluster-wide', () => {
    const objects = rbacFor(functionSpec('on-node-drain'), scope);
    const account = 'pgo/on-node-drain';
    for (const namespace of ['pgo', 'apps', 'data', 'elsewhere']) {
      assert.equal(
        allows(objects, account, { verb: 'delete', group: 'apps', resource: 'statefulsets', namespace }),
        false,
      );
      assert.equal(
        allows(objects, account, { verb: 'patch', group: 'acid.zalan.do', resource: 'postgresqls', namespace }),
        false,
      );
    }
    // It gets the Node it was called about by name; the bridge or the source watches them.
    assert.equal(allows(objects, account, { verb: 'get', group: '', resource: 'nodes', name: 'node-1' }), true);
    assert.equal(allows(objects, account, { verb: 'list', group: '', resource: 'nodes' }), false);
    assert.equal(allows(objects, account, { verb: 'list', group: '', resource: 'pods', namespace: 'apps' }), true);
    assert.equal(
      allows(objects, account, { verb: 'list', group: '', resource: 'pods', namespace: 'elsewhere' }),
      false,
    );
    assert.equal(allows(objects, account, { verb: 'create', group: '', resource: 'events', namespace: 'data' }), true);
  });

  it('on-create can patch postgresqls/status in the watched namespaces only, and may get Nodes but not list them', () => {
    const objects = rbacFor(functionSpec('on-create'), scope);
    const account = 'pgo/on-create';
    for (const namespace of ['apps', 'data']) {
      assert.equal(
        allows(objects, account, { verb: 'patch', group: 'acid.zalan.do', resource: 'postgresqls/status', namespace }),
        true,
      );
      assert.equal(
        allows(objects, account, { verb: 'create', group: 'apps', resource: 'statefulsets', namespace }),
        true,
      );
      assert.equal(
        allows(objects, account, {
          verb: 'bind',
          group: 'rbac.authorization.k8s.io',
          resource: 'clusterroles',
          namespace,
          name: 'postgres-pod',
        }),
        true,
      );
      assert.equal(
        allows(objects, account, {
          verb: 'bind',
          group: 'rbac.authorization.k8s.io',
          resource: 'clusterroles',
          namespace,
          name: 'cluster-admin',
        }),
        false,
      );
    }
    assert.equal(
      allows(objects, account, {
        verb: 'patch',
        group: 'acid.zalan.do',
        resource: 'postgresqls/status',
        namespace: 'elsewhere',
      }),
      false,
    );
    assert.equal(allows(objects, account, { verb: 'list', group: '', resource: 'nodes' }), false);
    assert.equal(allows(objects, account, { verb: 'get', group: '', resource: 'nodes', name: 'node-1' }), true);
    // The config and the password key in the operator namespace, but no cluster objects there (not watched).
    assert.equal(allows(objects, account, { verb: 'get', group: '', resource: 'configmaps', namespace: 'pgo' }), true);
    assert.equal(allows(objects, account, { verb: 'create', group: '', resource: 'secrets', namespace: 'pgo' }), true);
    assert.equal(allows(objects, account, { verb: 'delete', group: '', resource: 'secrets', namespace: 'pgo' }), false);
    assert.equal(
      allows(objects, account, { verb: 'update', group: 'acid.zalan.do', resource: 'postgresqls', namespace: 'apps' }),
      false,
    );
  });

  it('all namespaces watched: the cluster rules become one ClusterRole, the config stays a Role', () => {
    const objects = rbacFor(functionSpec('on-node-drain'), { namespace: 'pgo', watchedNamespaces: '*' });
    const spec = functionSpec('on-node-drain');
    assert.deepEqual(
      objects.map((o) => `${o.kind} ${o.metadata.namespace ?? ''}`),
      ['ServiceAccount pgo', 'Role pgo', 'RoleBinding pgo', 'ClusterRole ', 'ClusterRoleBinding '],
    );
    assert.deepEqual(
      roleGrants(objects, 'ClusterRole'),
      grantsOf(mergeRules(spec.permissions, ['namespace', 'cluster'])),
    );
    const account = 'pgo/on-node-drain';
    assert.equal(allows(objects, account, { verb: 'list', group: '', resource: 'pods', namespace: 'anywhere' }), true);
    // The password key Secret is only readable where it lives, and no other Secret there.
    const key = { verb: 'get', group: '', resource: 'secrets', name: PASSWORD_KEY_SECRET };
    assert.equal(allows(objects, account, { ...key, namespace: 'pgo' }), true);
    assert.equal(allows(objects, account, { ...key, namespace: 'anywhere' }), false);
    assert.equal(allows(objects, account, { ...key, namespace: 'pgo', name: 'other' }), false);
  });

  it('the operator namespace, also watched, gets one Role with the rules merged', () => {
    const spec = functionSpec('on-update');
    const objects = rbacFor(spec, { namespace: 'pgo', watchedNamespaces: ['pgo'] });
    assert.equal(objects.filter((o) => o.kind === 'Role').length, 1);
    assert.deepEqual(
      roleGrants(objects, 'Role', 'pgo'),
      grantsOf(mergeRules(spec.permissions, ['operator', 'namespace'])),
    );
    // Merged: one rule per resource (configmaps get from the config group, get/list/delete from finalize).
    const rules = objects.find((o) => o.kind === 'Role')!.rules as PolicyRule[];
    assert.equal(rules.filter((r) => r.resources.includes('configmaps')).length, 1);
  });

  it('a ConfigMap in another namespace moves the config Role there', () => {
    const objects = rbacFor(functionSpec('periodic-sync'), {
      namespace: 'pgo',
      configNamespace: 'config',
      watchedNamespaces: ['apps'],
    });
    assert.deepEqual(
      objects.filter((o) => o.kind === 'Role').map((o) => o.metadata.namespace),
      ['apps', 'config'],
    );
  });

  it('names hold the operator namespace, so two installations do not share a ClusterRole', () => {
    const a = rbacFor(functionSpec('on-node-drain'), scope).find((o) => o.kind === 'ClusterRole')!;
    const b = rbacFor(functionSpec('on-node-drain'), { ...scope, namespace: 'other' }).find(
      (o) => o.kind === 'ClusterRole',
    )!;
    assert.notEqual(a.metadata.name, b.metadata.name);
    const names = FUNCTIONS.flatMap((spec) => rbacFor(spec, scope))
      .filter((o) => o.kind === 'ClusterRole')
      .map((o) => o.metadata.name);
    assert.equal(new Set(names).size, names.length);
  });
});

describe('bridgeRbac', () => {
  it('only get, list and watch: postgresqls where watched, ConfigMaps of the operator namespace, Nodes', () => {
    const objects = bridgeRbac(scope);
    const verbs = new Set(
      objects.filter((o) => o.kind.endsWith('Role')).flatMap((o) => (o.rules as PolicyRule[]).flatMap((r) => r.verbs)),
    );
    assert.deepEqual([...verbs].sort(), ['get', 'list', 'watch']);
    const account = 'pgo/postgres-operator-bridge';
    assert.equal(
      allows(objects, account, { verb: 'watch', group: 'acid.zalan.do', resource: 'postgresqls', namespace: 'apps' }),
      true,
    );
    assert.equal(
      allows(objects, account, {
        verb: 'watch',
        group: 'acid.zalan.do',
        resource: 'postgresqls',
        namespace: 'elsewhere',
      }),
      false,
    );
    assert.equal(
      allows(objects, account, { verb: 'watch', group: '', resource: 'configmaps', namespace: 'pgo' }),
      true,
    );
    assert.equal(allows(objects, account, { verb: 'watch', group: '', resource: 'nodes' }), true);
    assert.equal(allows(objects, account, { verb: 'get', group: '', resource: 'secrets', namespace: 'pgo' }), false);
  });
});

describe('postgresPodClusterRole', () => {
  it('gives Patroni its state in Endpoints or ConfigMaps, its pod labels and the config Service, and no Secrets', () => {
    const role = postgresPodClusterRole();
    assert.equal(role.metadata.name, 'postgres-pod');
    const grants = grantsOf(role.rules as PolicyRule[]);
    for (const resource of ['endpoints', 'configmaps']) {
      for (const verb of ['create', 'get', 'list', 'watch', 'patch', 'update', 'delete', 'deletecollection']) {
        assert.ok(grants.includes(`core/${resource} ${verb}`), `${resource} ${verb}`);
      }
    }
    assert.ok(grants.includes('core/pods patch'));
    assert.ok(grants.includes('core/services create'));
    assert.ok(!grants.some((g) => g.startsWith('core/secrets') || g.startsWith('core/pods delete')));
  });
});
