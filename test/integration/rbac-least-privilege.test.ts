// Least privilege, answered by the real API server's RBAC authorizer: for each function's ServiceAccount (and the
// bridge's and each Knative source's), every verb on every resource the operator touches, in the operator
// namespace, a watched namespace, a namespace not watched and cluster-wide, is allowed exactly when the table below
// says the code uses it. The table is written from the code paths (the file named beside each line), not from
// lib/registry/rbac.ts, so a rule granting more than the code uses, or less, fails here.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { KubeClient } from '../../lib/k8s/client';
import { FUNCTIONS } from '../../lib/registry/functions';
import { applyObjects } from '../../scripts/deploy/apply';
import { DEPLOY_FIELD_MANAGER } from '../../scripts/deploy/meta';
import { defaultOptions } from '../../scripts/deploy/options';
import { generate } from '../../scripts/deploy/targets';
import { canI } from './access-review';
import { createNamespace, deleteNamespace, requireTestenv } from './testenv';

/** Where a request goes: the operator namespace, a watched namespace, one not watched, or cluster-scoped. */
type Place = 'operator' | 'watched' | 'elsewhere' | 'cluster';

/** Every resource the functions or the bridge touch, with its API group. */
const RESOURCES: Record<string, string> = {
  postgresqls: 'acid.zalan.do',
  'postgresqls/status': 'acid.zalan.do',
  postgresteams: 'acid.zalan.do',
  statefulsets: 'apps',
  deployments: 'apps',
  cronjobs: 'batch',
  services: '',
  endpoints: '',
  secrets: '',
  configmaps: '',
  pods: '',
  'pods/exec': '',
  persistentvolumeclaims: '',
  poddisruptionbudgets: 'policy',
  serviceaccounts: '',
  rolebindings: 'rbac.authorization.k8s.io',
  clusterroles: 'rbac.authorization.k8s.io',
  events: '',
  leases: 'coordination.k8s.io',
  nodes: '',
  tokenreviews: 'authentication.k8s.io',
  subjectaccessreviews: 'authorization.k8s.io',
};
// `bind` on the ClusterRole postgres-pod is granted by a Role: asked in a namespace, as a RoleBinding's creation does.
const CLUSTER_SCOPED = new Set(['nodes', 'tokenreviews', 'subjectaccessreviews']);
const RBAC_KINDS = ['ServiceAccount', 'Role', 'RoleBinding', 'ClusterRole', 'ClusterRoleBinding'];
const VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection', 'bind'];

/** One line of the table: verbs on a resource at a place, optionally only the object of that name. */
interface Grant {
  verbs: string[];
  resource: string;
  place: Place;
  name?: string;
}
const g = (verbs: string, resource: string, place: Place, name?: string): Grant => ({
  verbs: verbs.split(' '),
  resource,
  place,
  ...(name ? { name } : {}),
});

// Every function (lib/runtime: createOperatorContext): the operator ConfigMap, the password key Secret read by
// name and created on first use (lib/sync/operator/config.ts, passwords.ts).
const OPERATOR_CONTEXT = [
  g('get', 'configmaps', 'operator'),
  g('get', 'secrets', 'operator', 'postgres-operator-password-key'),
  g('create', 'secrets', 'operator'),
];
// Recording Events: create, and raise the count of a repeat (get, JSON patch: lib/k8s/events.ts).
const EVENTS = (place: Place) => [g('create get patch', 'events', place)];

// finalizeCluster (lib/sync/cluster/finalize.ts, finalizer.ts): read the object, list and delete the children by
// label and Patroni's objects by name, drop the owner reference of kept Secrets and PVCs, report the delete guard
// in status, remove the finalizer.
const FINALIZE = [
  g('get patch', 'postgresqls', 'watched'),
  g('patch', 'postgresqls/status', 'watched'),
  ...['cronjobs', 'deployments', 'statefulsets', 'pods', 'poddisruptionbudgets'].map((r) =>
    g('list delete', r, 'watched'),
  ),
  ...['endpoints', 'services', 'configmaps'].map((r) => g('get list delete', r, 'watched')), // Patroni's by name
  g('list delete patch', 'secrets', 'watched'),
  g('list delete patch', 'persistentvolumeclaims', 'watched'),
  ...EVENTS('watched'),
];

// syncCluster and what it runs (lib/sync/cluster/*, pods/*, rollout/*, roles/*, upgrade/step.ts), plus finalize
// for an object found being deleted (functions/outcomes/cluster.ts syncOrFinalize).
const SYNC = [
  ...OPERATOR_CONTEXT,
  ...FINALIZE,
  g('get list patch', 'postgresqls', 'watched'), // read, finalizer, sync-now annotation; fleet lists
  g('patch', 'postgresqls/status', 'watched'), // lib/sync/cluster/status.ts
  g('list', 'postgresteams', 'watched'), // roles/teams.ts
  g('get list create patch delete', 'statefulsets', 'watched'), // apply, orphaning re-create
  g('get list create patch delete', 'deployments', 'watched'), // the connection pooler
  g('get list create patch delete', 'cronjobs', 'watched'), // the logical backup
  g('get list create patch delete', 'services', 'watched'),
  g('get list create patch delete', 'endpoints', 'watched'),
  g('get list create patch delete', 'secrets', 'watched'), // users' Secrets; the pooler's removed
  g('get list create patch delete', 'poddisruptionbudgets', 'watched'),
  g('list patch delete', 'pods', 'watched'), // rolling-update flags, recreate
  g('get create', 'pods/exec', 'watched'), // the major version upgrade (get before Kubernetes 1.31)
  g('list patch delete', 'persistentvolumeclaims', 'watched'), // volume growth
  g('get list create', 'serviceaccounts', 'watched'), // the pod ServiceAccount
  g('get list create', 'rolebindings', 'watched'), // its RoleBinding to postgres-pod
  g('bind', 'clusterroles', 'watched', 'postgres-pod'),
  g('get create patch', 'leases', 'watched'), // the cluster Lease (lib/sync/cluster/cluster-lease.ts)
  g('get list create patch', 'leases', 'operator'), // rollout slots (lib/sync/rollout/slots.ts)
  g('get', 'nodes', 'cluster'), // switchover candidates (lib/sync/pods/nodes.ts)
];
// Fleet sync's cursor ConfigMap (lib/sync/fleet/cursor.ts).
const FLEET = [
  ...SYNC,
  g('create', 'configmaps', 'operator'),
  g('get patch delete', 'configmaps', 'operator', 'postgres-operator-fleet-sync'),
];

/** What each account's code uses. */
const TABLE: Record<string, Grant[]> = {
  'on-create': SYNC,
  'on-update': SYNC,
  'on-delete': [...OPERATOR_CONTEXT, ...FINALIZE],
  'periodic-sync': FLEET,
  // The last applied config annotation and the ConfigMap's Events (lib/sync/operator/history.ts, config/change.ts).
  'on-operator-config-change': [...FLEET, g('patch', 'configmaps', 'operator'), ...EVENTS('operator')],
  // lib/sync/drain/move-master.ts: the Node, the master pods, the cluster's Lease, the candidate pod recreated.
  'on-node-drain': [
    ...OPERATOR_CONTEXT,
    g('get', 'nodes', 'cluster'),
    g('list delete', 'pods', 'watched'),
    g('get', 'postgresqls', 'watched'),
    g('get create patch', 'leases', 'watched'),
    ...EVENTS('watched'),
  ],
  // lib/api: the operator ConfigMap (read.ts, not the password key), what a sync observes of a cluster
  // (observeChildren: a LIST per owned kind, the StatefulSet, pod ServiceAccount and RoleBinding by name; the users'
  // Secrets by name), pods (metrics, a plan's scale-down check), the cluster's Events (its log), and the two reviews
  // that authorize each caller (access.ts). Nothing written.
  'operator-api': [
    g('get', 'configmaps', 'operator'),
    g('get list', 'postgresqls', 'watched'),
    g('get list', 'statefulsets', 'watched'),
    g('get list', 'secrets', 'watched'),
    ...['deployments', 'cronjobs', 'services', 'endpoints', 'pods', 'events', 'poddisruptionbudgets'].map((r) =>
      g('list', r, 'watched'),
    ),
    g('get', 'serviceaccounts', 'watched'),
    g('get', 'rolebindings', 'watched'),
    g('create', 'tokenreviews', 'cluster'),
    g('create', 'subjectaccessreviews', 'cluster'),
  ],
  // lib/bridge: informers only.
  'postgres-operator-bridge': [
    g('get list watch', 'postgresqls', 'watched'),
    g('get list watch', 'postgresteams', 'watched'),
    g('get list watch', 'statefulsets', 'watched'),
    g('get list watch', 'configmaps', 'operator'),
    g('get list watch', 'nodes', 'cluster'),
  ],
  // The knative target's ApiServerSources: each watches its one resource (Knative's adapter lists and watches).
  'on-create-source': [g('get list watch', 'postgresqls', 'watched')],
  'on-update-source': [g('get list watch', 'postgresqls', 'watched')],
  'on-delete-source': [g('get list watch', 'postgresqls', 'watched')],
  'on-operator-config-change-source': [g('get list watch', 'configmaps', 'operator')],
  'on-node-drain-source': [g('get list watch', 'nodes', 'cluster')],
  'postgres-team-source': [g('get list watch', 'postgresteams', 'watched')],
};

/** @returns whether the table lets an account do `verb` on a resource at a place (on the named object, if any) */
function expected(account: string, verb: string, resource: string, place: Place, name?: string): boolean {
  return TABLE[account]!.some(
    (grant) =>
      grant.resource === resource &&
      grant.verbs.includes(verb) &&
      grant.place === place &&
      (grant.name === undefined || grant.name === name),
  );
}

describe('least privilege per function, answered by the API server', () => {
  let client: KubeClient;
  let accounts: string[] = [];
  const places = new Map<Place, string | undefined>();

  before(async () => {
    requireTestenv();
    client = KubeClient.fromDefault({ fieldManager: DEPLOY_FIELD_MANAGER });
    const operator = await createNamespace('lp-op');
    const watched = await createNamespace('lp-watched');
    places
      .set('operator', operator)
      .set('watched', watched)
      .set('elsewhere', 'lp-not-watched')
      .set('cluster', undefined);
    // Every account the targets make: plain --per-function (functions and bridge) and knative (functions, sources).
    const options = {
      ...defaultOptions(),
      namespace: operator,
      configMap: { namespace: operator, name: 'postgres-operator' },
      watchedNamespaces: [watched],
      includeCrd: false,
    };
    const rbac = [
      ...generate('plain', { ...options, perFunction: true }),
      ...generate('knative', options).filter((o) => o.metadata.name.includes('-source')),
    ].filter((o) => RBAC_KINDS.includes(o.kind));
    accounts = [...new Set(rbac.filter((o) => o.kind === 'ServiceAccount').map((o) => o.metadata.name))].sort();
    await applyObjects(client, rbac);
  });
  after(async () => {
    for (const place of ['operator', 'watched'] as const) await deleteNamespace(places.get(place)!);
    client.close();
  });

  /** @returns the API server's answer for the ServiceAccount `account` of the operator namespace */
  function allowed(account: string, verb: string, resource: string, place: Place, name?: string) {
    const [plural, subresource] = resource.split('/') as [string, string | undefined];
    const namespace = places.get(place);
    return canI(client, `${places.get('operator')}:${account}`, {
      verb,
      group: RESOURCES[resource],
      resource: plural,
      ...(subresource ? { subresource } : {}),
      ...(name ? { name } : {}),
      ...(namespace ? { namespace } : {}),
    });
  }

  test('the table names every account the deploy targets create', () => {
    assert.deepEqual(Object.keys(TABLE).sort(), accounts);
    for (const spec of FUNCTIONS) assert.ok(accounts.includes(spec.name), spec.name);
  });

  for (const account of Object.keys(TABLE)) {
    test(`${account}: every (verb, resource, place) allowed exactly as its code uses it`, async () => {
      const wrong: string[] = [];
      let asked = 0;
      for (const [resource] of Object.entries(RESOURCES)) {
        const placesOf: Place[] = CLUSTER_SCOPED.has(resource) ? ['cluster'] : ['operator', 'watched', 'elsewhere'];
        const names = [
          undefined,
          ...new Set(TABLE[account]!.filter((x) => x.resource === resource).map((x) => x.name)),
        ];
        const questions = placesOf.flatMap((place) =>
          VERBS.flatMap((verb) => [...new Set(names)].map((name) => ({ verb, place, name }))),
        );
        const answers = await Promise.all(questions.map((q) => allowed(account, q.verb, resource, q.place, q.name)));
        questions.forEach((q, i) => {
          asked += 1;
          const want = expected(account, q.verb, resource, q.place, q.name);
          if (answers[i] !== want)
            wrong.push(
              `${answers[i] ? 'allowed' : 'denied'}: ${q.verb} ${resource}${q.name ? `/${q.name}` : ''} in ${q.place}`,
            );
        });
      }
      assert.deepEqual(wrong, [], `${account}: ${wrong.length} of ${asked} answers differ from the table`);
      console.log(`${account}: ${asked} access reviews, all as the table says`);
    });
  }
});
