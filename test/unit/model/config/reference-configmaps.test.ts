// The reference ConfigMaps Zalando shipped with v1.0.0 and v2.0.1 must parse cleanly with the expected values.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import {
  OPERATOR_CONFIG_KEYS,
  parseOperatorConfig,
  watchedNamespaces,
  type OperatorConfig,
} from '../../../../lib/model/config';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const referenceDir = join(repoRoot, 'test', 'fixtures', 'reference', 'zalando');

function readText(version: string, file: string): string {
  return readFileSync(join(referenceDir, version, file), 'utf8');
}

function configMapData(version: string): Record<string, string> {
  const doc = parse(readText(version, 'configmap.yaml')) as { kind: string; data: Record<string, unknown> };
  assert.equal(doc.kind, 'ConfigMap');
  for (const [key, value] of Object.entries(doc.data))
    assert.equal(typeof value, 'string', `${version} ${key} is a string`);
  return doc.data as Record<string, string>;
}

/** Keys written as comments (`# key: value`) in a reference ConfigMap: examples the table must also know. */
function commentedKeys(version: string): string[] {
  return [...readText(version, 'configmap.yaml').matchAll(/^\s+#\s*([a-z][a-z0-9_]*):(?:\s|$)/gm)].map(
    (m) => m[1] ?? '',
  );
}

function parseReference(version: string): OperatorConfig {
  const result = parseOperatorConfig(configMapData(version));
  assert.ok(result.ok, `errors: ${JSON.stringify(!result.ok && result.errors)}`);
  assert.deepEqual(result.warnings, []);
  return result.config;
}

describe('reference ConfigMap v1.0.0', () => {
  it('parses with no errors or warnings and gives the expected values', () => {
    const config = parseReference('v1.0.0');
    assert.deepEqual(config.cluster_labels, { application: 'spilo' });
    assert.equal(config.cluster_name_label, 'version');
    assert.equal(config.pod_role_label, 'spilo-role');
    assert.equal(config.debug_logging, true);
    assert.equal(config.workers, 4);
    assert.equal(config.docker_image, 'registry.opensource.zalan.do/acid/spilo-cdp-10:1.4-p8');
    assert.equal(config.pod_service_account_name, 'zalando-postgres-operator');
    assert.equal(config.secret_name_template, '{username}.{cluster}.credentials');
    assert.equal(config.enable_teams_api, false);
    assert.equal(config.master_dns_name_format, '{cluster}.{team}.staging.{hostedzone}');
    assert.equal(config.replica_dns_name_format, '{cluster}-repl.{team}.staging.{hostedzone}');
    assert.equal(config.enable_master_load_balancer, true);
    assert.equal(config.enable_replica_load_balancer, false);
    assert.equal(config.api_port, 8080);
    assert.equal(config.pod_terminate_grace_period, 300_000);
    assert.equal(config.ready_wait_interval, 3_000);
    assert.equal(config.resource_check_timeout, 600_000);
    assert.equal(config.resync_period, 300_000);
    // absent from this ConfigMap: defaults
    assert.equal(config.repair_period, 300_000);
    assert.equal(config.watched_namespace, '');
    assert.deepEqual(watchedNamespaces(config, 'default'), ['default']);
  });
});

describe('reference ConfigMap v2.0.1', () => {
  it('parses with no errors or warnings and gives the expected values', () => {
    const config = parseReference('v2.0.1');
    assert.equal(config.watched_namespace, '*');
    assert.equal(watchedNamespaces(config, 'default'), '*');
    assert.deepEqual(config.protected_role_names, ['admin', 'cron_admin']);
    assert.deepEqual(config.persistent_volume_claim_retention_policy, {
      when_deleted: 'retain',
      when_scaled: 'retain',
    });
    assert.deepEqual(config.team_api_role_configuration, { log_statement: 'all' });
    assert.deepEqual(config.postgres_superuser_teams, ['postgres_superusers']);
    assert.equal(config.workers, 8);
    assert.equal(config.resync_period, 1_800_000);
    assert.equal(config.master_pod_move_timeout, 1_200_000);
    assert.equal(config.patroni_api_check_interval, 1_000);
    assert.equal(config.password_rotation_interval, 90);
    assert.equal(config.password_rotation_user_retention, 180);
    assert.equal(config.kubernetes_use_configmaps, false);
    assert.equal(config.enable_master_load_balancer, false);
    assert.equal(config.enable_spilo_wal_path_compat, true);
    assert.equal(config.min_instances, -1);
    assert.equal(config.max_instances, -1);
    assert.equal(config.major_version_upgrade_mode, 'manual');
    assert.equal(config.connection_pooler_number_of_instances, 2);
    assert.equal(config.connection_pooler_max_db_connections, 60);
    assert.equal(config.etcd_host, '');
    assert.equal(config.min_cpu_limit, '250m');
    assert.equal(config.teams_api_url, 'http://fake-teams-api.default.svc.cluster.local');
  });

  it('lets WATCHED_NAMESPACE override its "*"', () => {
    const result = parseOperatorConfig(configMapData('v2.0.1'), { WATCHED_NAMESPACE: 'team-a' });
    assert.ok(result.ok);
    assert.deepEqual(watchedNamespaces(result.config, 'default'), ['team-a']);
  });
});

describe('reference ConfigMap v1.15.1', () => {
  it('parses with no errors; its one warning is the deprecated enable_crd_validation', () => {
    const result = parseOperatorConfig(configMapData('v1.15.1'));
    assert.ok(result.ok, `errors: ${JSON.stringify(!result.ok && result.errors)}`);
    assert.deepEqual(result.warnings, ['key "enable_crd_validation" is deprecated: a CRD always has a schema']);
    assert.equal(result.config.enable_ebs_gp3_migration, false);
    assert.equal(result.config.enable_ebs_gp3_migration_max_size, 1000);
    assert.equal(result.config.default_cpu_request, '100m');
  });
});

describe('key table coverage', () => {
  for (const version of ['v1.0.0', 'v1.15.1', 'v2.0.1']) {
    it(`knows every key of the ${version} ConfigMap, set or commented out`, () => {
      const keys = [...Object.keys(configMapData(version)), ...commentedKeys(version)];
      assert.ok(keys.length > 20);
      const missing = keys.filter((key) => !Object.hasOwn(OPERATOR_CONFIG_KEYS, key));
      assert.deepEqual(missing, []);
    });
  }

  it('knows every key of the v2.0.1 OperatorConfiguration CRD that has a scalar, list or map form', () => {
    const crd = parse(readText('v2.0.1', 'operatorconfiguration.crd.yaml')) as {
      spec: {
        versions: Array<{
          schema: {
            openAPIV3Schema: {
              properties: {
                configuration: { properties: Record<string, { type?: string; properties?: Record<string, unknown> }> };
              };
            };
          };
        }>;
      };
    };
    const configuration = crd.spec.versions[0]?.schema.openAPIV3Schema.properties.configuration.properties ?? {};
    const keys: string[] = [];
    for (const [name, schema] of Object.entries(configuration)) {
      if (schema.type === 'object' && schema.properties) keys.push(...Object.keys(schema.properties));
      else keys.push(name);
    }
    // CRD-only structures with no ConfigMap encoding
    const crdOnly = new Set(['liveness_probe']);
    const missing = keys.filter((key) => !crdOnly.has(key) && !Object.hasOwn(OPERATOR_CONFIG_KEYS, key));
    assert.deepEqual(missing, []);
  });
});
