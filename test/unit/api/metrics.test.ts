import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { CLUSTER_METRIC_NAMES, clusterMetrics } from '../../../lib/api/metrics';
import { clusterSummary, type PostgresqlObject } from '../../../lib/api/shape';

const dashboard = JSON.parse(
  readFileSync(new URL('../../../docs/grafana/postgres-operator-functions.json', import.meta.url), 'utf8'),
) as {
  panels: Array<{ title: string; targets?: Array<{ expr: string }> }>;
  templating: { list: Array<{ query?: unknown }> };
};

/** PromQL functions and keywords the dashboard uses, which look like metric names to the tokenizer below. */
const PROMQL_WORDS = new Set(['sum', 'by', 'time', 'changes', 'or', 'label_values', 'namespace', 'cluster']);

/** @returns the identifiers of an expression outside strings, label matchers and range selectors */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"[^"]*"/g, '')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\([^()]*\)\s*\(/g, '(');
  return [...bare.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)].map((m) => m[0]).filter((w) => !PROMQL_WORDS.has(w));
}

describe('per-cluster metrics', () => {
  const object: PostgresqlObject = {
    metadata: { namespace: 'ns', name: 'acid-a', annotations: { 'acid.zalan.do/rolling-update-paused': 'true' } },
    spec: { teamId: 'acid', numberOfInstances: 3, postgresql: { version: '17' } },
    status: {
      PostgresClusterStatus: 'SyncFailed',
      conditions: [
        { type: 'Degraded', status: 'True', reason: 'SyncFailed' },
        { type: 'RolesSynced', status: 'True', reason: 'Synced' },
        { type: 'RollingUpdate', status: 'True', reason: 'Paused' },
      ],
    },
  };
  const pod = (ready: boolean, flagged: boolean) => ({
    metadata: {
      annotations: (flagged ? { 'zalando-postgres-operator-rolling-update-required': 'true' } : {}) as Record<
        string,
        string
      >,
    },
    status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  });

  test('one series per cluster, with the values of its objects', async () => {
    const text = await clusterMetrics([clusterSummary(object, [pod(true, true), pod(true, false)])]).metrics();
    const key = 'namespace="ns",cluster="acid-a"';
    for (const line of [
      `postgres_operator_cluster_info{${key},team="acid",version="17"} 1`,
      `postgres_operator_cluster_status{${key},status="SyncFailed"} 1`,
      `postgres_operator_cluster_status{${key},status="Running"} 0`,
      `postgres_operator_cluster_pods_wanted{${key}} 3`,
      `postgres_operator_cluster_pods{${key}} 2`,
      `postgres_operator_cluster_pods_ready{${key}} 2`,
      `postgres_operator_cluster_pods_outdated{${key}} 1`,
      `postgres_operator_cluster_rollout{${key},state="Paused"} 1`,
      `postgres_operator_cluster_rollout_paused{${key}} 1`,
      `postgres_operator_cluster_roles_synced{${key}} 1`,
      `postgres_operator_cluster_sync_failing{${key}} 1`,
      `postgres_operator_cluster_condition{${key},condition="Degraded",status="True"} 1`,
    ])
      assert.ok(text.includes(`\n${line}\n`), `${line} in\n${text}`);
    assert.doesNotMatch(text, /last_successful_sync_timestamp_seconds\{/, 'no successful sync while Degraded');
    for (const name of CLUSTER_METRIC_NAMES) assert.match(text, new RegExp(`# TYPE ${name} gauge`));
  });

  test('a fresh registry per scrape: a cluster gone has no series left', async () => {
    clusterMetrics([clusterSummary(object, [])]);
    assert.doesNotMatch(await clusterMetrics([]).metrics(), /acid-a/);
  });

  test('every metric the Grafana dashboard queries exists, and it queries every metric', () => {
    const queried = new Set<string>();
    const exprs = [
      ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)),
      ...dashboard.templating.list
        .map((v) => v.query)
        .filter((q): q is string => typeof q === 'string' && q !== 'prometheus'),
    ];
    assert.ok(exprs.length > 5);
    for (const expr of exprs) {
      const names = metricNames(expr);
      assert.ok(names.length > 0, `no metric in ${expr}`);
      for (const name of names) {
        assert.ok((CLUSTER_METRIC_NAMES as readonly string[]).includes(name), `${name} (in ${expr}) is no metric`);
        queried.add(name);
      }
    }
    assert.deepEqual(
      [...CLUSTER_METRIC_NAMES].filter((n) => !queried.has(n)),
      [],
    );
  });
});
