import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  OPERATOR_CONFIG_KEYS,
  OPERATOR_CONFIG_KEY_NAMES,
  configKeySpec,
  defaultOperatorConfig,
  formatConfigValue,
  parseConfigValue,
  parseOperatorConfig,
  watchedNamespaces,
  type ConfigError,
  type ConfigKeySpec,
  type OperatorConfig,
} from '../../../../lib/model/config';

function parsed(
  data: Record<string, string> | undefined,
  env?: { WATCHED_NAMESPACE?: string; SCALYR_API_KEY?: string },
) {
  const result = parseOperatorConfig(data, env);
  assert.ok(result.ok, `expected a valid config, got ${JSON.stringify(result)}`);
  return result;
}

function failed(data: Record<string, string>): ConfigError[] {
  const result = parseOperatorConfig(data);
  assert.ok(!result.ok, 'expected errors');
  return result.errors;
}

// Compile-time checks that the derived type maps each kind to the right TypeScript type.
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const typeChecks: [
  Equal<OperatorConfig['workers'], number>,
  Equal<OperatorConfig['enable_master_load_balancer'], boolean>,
  Equal<OperatorConfig['protected_role_names'], string[]>,
  Equal<OperatorConfig['cluster_labels'], Record<string, string>>,
  Equal<OperatorConfig['resync_period'], number>,
  Equal<OperatorConfig['password_rotation_interval'], number>,
  Equal<OperatorConfig['storage_resize_mode'], string>,
  Equal<OperatorConfig['docker_image'], string>,
  Equal<OperatorConfig['spilo_fsgroup'], number | null>,
] = [true, true, true, true, true, true, true, true, true];
void typeChecks;

describe('defaultOperatorConfig', () => {
  it('has one property per key, with the deliberate defaults', () => {
    const config = defaultOperatorConfig();
    assert.deepEqual(Object.keys(config), [...OPERATOR_CONFIG_KEY_NAMES]);
    assert.equal(config.kubernetes_use_configmaps, false);
    assert.equal(config.default_cpu_request, '100m');
    assert.equal(config.default_memory_request, '100Mi');
    assert.equal(config.default_cpu_limit, '1');
    assert.equal(config.default_memory_limit, '500Mi');
    assert.equal(config.docker_image, 'ghcr.io/zalando/spilo-18:4.1-p2');
    assert.equal(config.secret_name_template, '{username}.{cluster}.credentials.{tprkind}.{tprgroup}');
    assert.equal(config.pod_service_account_name, 'postgres-pod');
    assert.equal(config.enable_master_load_balancer, true);
    assert.equal(config.master_dns_name_format, '{cluster}.{namespace}.{hostedzone}');
    assert.equal(config.replica_dns_name_format, '{cluster}-repl.{namespace}.{hostedzone}');
    assert.deepEqual(config.cluster_labels, { application: 'spilo' });
    assert.equal(config.watched_namespace, '');
    assert.equal(config.workers, 8);
    assert.equal(config.resync_period, 30 * 60_000);
    assert.equal(config.repair_period, 5 * 60_000);
    assert.equal(config.master_pod_move_timeout, 20 * 60_000);
    assert.equal(config.password_rotation_interval, 90);
    assert.equal(config.password_rotation_user_retention, 180);
    assert.deepEqual(config.protected_role_names, ['admin', 'cron_admin']);
    assert.equal(config.spilo_runasuser, null);
  });

  it('returns a fresh object each time', () => {
    const first = defaultOperatorConfig();
    first.cluster_labels.extra = 'x';
    first.protected_role_names.push('x');
    const second = defaultOperatorConfig();
    assert.deepEqual(second.cluster_labels, { application: 'spilo' });
    assert.deepEqual(second.protected_role_names, ['admin', 'cron_admin']);
    assert.deepEqual(OPERATOR_CONFIG_KEYS.cluster_labels.default, { application: 'spilo' });
  });

  it('equals parsing no ConfigMap and an empty ConfigMap', () => {
    assert.deepEqual(parsed(undefined).config, defaultOperatorConfig());
    assert.deepEqual(parsed({}), { ok: true, config: defaultOperatorConfig(), warnings: [] });
  });
});

describe('the key table', () => {
  it('gives every key a kind-consistent default that survives a round trip through ConfigMap syntax', () => {
    for (const key of OPERATOR_CONFIG_KEY_NAMES) {
      const spec: ConfigKeySpec = OPERATOR_CONFIG_KEYS[key];
      assert.match(key, /^[a-z][a-z0-9_]*$/);
      assert.ok(spec.description.length > 0 && !spec.description.includes('\n'), key);
      if (spec.kind === 'enum') assert.ok(spec.values.includes(spec.default), key);
      const text = formatConfigValue(spec, spec.default);
      const back = parseConfigValue(spec, text);
      assert.ok(back.ok, `${key}: ${JSON.stringify(back)}`);
      assert.deepEqual(back.value, spec.default, key);
    }
  });

  it('looks keys up without inherited properties', () => {
    assert.equal(configKeySpec('workers')?.kind, 'int');
    assert.equal(configKeySpec('toString'), undefined);
    assert.equal(configKeySpec('nope'), undefined);
  });
});

describe('parseOperatorConfig values', () => {
  it('decodes each kind', () => {
    const { config } = parsed({
      workers: '4',
      debug_logging: 'FALSE',
      protected_role_names: 'admin, cron_admin, ops',
      custom_service_annotations: 'a:1,b:x:y',
      resync_period: '1h30m',
      password_rotation_interval: '30',
      storage_resize_mode: 'ebs',
      docker_image: '  my/spilo:1  ',
      spilo_fsgroup: '103',
    });
    assert.equal(config.workers, 4);
    assert.equal(config.debug_logging, false);
    assert.deepEqual(config.protected_role_names, ['admin', 'cron_admin', 'ops']);
    assert.deepEqual(config.custom_service_annotations, { a: '1', b: 'x:y' });
    assert.equal(config.resync_period, 5_400_000);
    assert.equal(config.password_rotation_interval, 30);
    assert.equal(config.storage_resize_mode, 'ebs');
    assert.equal(config.docker_image, 'my/spilo:1');
    assert.equal(config.spilo_fsgroup, 103);
  });

  it('treats an empty value as empty for strings, lists and maps and as the default otherwise', () => {
    const { config } = parsed({
      etcd_host: '',
      pod_environment_configmap: '',
      protected_role_names: '',
      cluster_labels: '',
      enable_master_load_balancer: '',
      workers: ' ',
      resync_period: '',
      storage_resize_mode: '',
      spilo_runasuser: '',
    });
    assert.equal(config.etcd_host, '');
    assert.equal(config.pod_environment_configmap, '');
    assert.deepEqual(config.protected_role_names, []);
    assert.deepEqual(config.cluster_labels, {});
    assert.equal(config.enable_master_load_balancer, true);
    assert.equal(config.workers, 8);
    assert.equal(config.resync_period, 1_800_000);
    assert.equal(config.storage_resize_mode, 'pvc');
    assert.equal(config.spilo_runasuser, null);
  });

  it('reports a bad value with the key, the value, what was expected and a sentence', () => {
    assert.deepEqual(failed({ workers: 'abc' }), [
      {
        key: 'workers',
        value: 'abc',
        expected: 'an integer',
        message: 'invalid value "abc" for key "workers": expected an integer',
      },
    ]);
  });

  it('phrases the expectation of each kind', () => {
    const cases: Array<[string, string, string]> = [
      ['debug_logging', 'yes', 'invalid value "yes" for key "debug_logging": expected a boolean ("true" or "false")'],
      [
        'resync_period',
        '30',
        'invalid value "30" for key "resync_period": expected a duration such as "300ms", "5s", "5m" or "1h30m"',
      ],
      ['resync_period', '-5m', 'invalid value "-5m" for key "resync_period": expected a duration that is not negative'],
      [
        'password_rotation_interval',
        '90d',
        'invalid value "90d" for key "password_rotation_interval": expected a whole number of days such as "90"',
      ],
      [
        'storage_resize_mode',
        'PVC',
        'invalid value "PVC" for key "storage_resize_mode": expected one of "pvc", "ebs", "mixed", "off"',
      ],
      [
        'cluster_labels',
        "application:'spilo",
        'invalid value "application:\'spilo" for key "cluster_labels": expected a map like "key1:value1,key2:value2" (unmatched \' quote at position 13)',
      ],
      [
        'logical_backup_ttl_seconds_after_finished',
        '-1',
        'invalid value "-1" for key "logical_backup_ttl_seconds_after_finished": expected an integer of at least 0',
      ],
    ];
    for (const [key, value, message] of cases) {
      const errors = failed({ [key]: value });
      assert.equal(errors.length, 1, key);
      assert.equal(errors[0]?.message, message);
    }
  });

  it('collects every invalid value, not just the first, in table order', () => {
    const errors = failed({
      workers: 'many',
      resync_period: 'soon',
      debug_logging: 'maybe',
      cluster_labels: 'nocolon',
      pod_management_policy: 'random',
      api_port: '8080',
    });
    assert.deepEqual(
      errors.map((e) => e.key),
      ['workers', 'resync_period', 'debug_logging', 'cluster_labels', 'pod_management_policy'],
    );
  });

  it('warns about unknown keys and never fails on them', () => {
    const result = parsed({ x: '1', workers: '2' });
    assert.deepEqual(result.warnings, ['unknown key "x" ignored']);
    assert.equal(result.config.workers, 2);
    assert.ok(!('x' in result.config));
  });

  it('suggests the nearest key for a near miss', () => {
    assert.deepEqual(parsed({ workes: '2' }).warnings, ['unknown key "workes" ignored (did you mean "workers"?)']);
  });

  it('suggests a known key that contains a longer unknown one, and nothing for a far miss', () => {
    assert.deepEqual(parsed({ pooler_image: 'x' }).warnings, [
      'unknown key "pooler_image" ignored (did you mean "connection_pooler_image"?)',
    ]);
    assert.deepEqual(parsed({ zzz: 'x' }).warnings, ['unknown key "zzz" ignored']);
  });

  it('warns about deprecated keys that are present', () => {
    assert.deepEqual(parsed({ enable_load_balancer: 'true' }).warnings, [
      'key "enable_load_balancer" is deprecated: use enable_master_load_balancer and enable_replica_load_balancer',
    ]);
  });

  it('does not treat inherited object properties as keys', () => {
    const data = Object.create({ workers: 'abc' }) as Record<string, string>;
    assert.equal(parsed(data).config.workers, 8);
  });
});

describe('values that would make every cluster invalid', () => {
  const refused = (key: string, value: string): ConfigError => {
    const errors = failed({ [key]: value });
    assert.equal(errors.length, 1, `${key}: ${JSON.stringify(errors)}`);
    assert.equal(errors[0]!.key, key);
    return errors[0]!;
  };

  it('refuses an empty docker_image, naming the key', () => {
    assert.equal(
      refused('docker_image', ' ').message,
      'invalid value " " for key "docker_image": expected a container image, not an empty value',
    );
    assert.equal(parsed({ docker_image: 'registry.example/spilo:1' }).config.docker_image, 'registry.example/spilo:1');
  });

  it('refuses resource defaults that are not Kubernetes quantities', () => {
    for (const key of ['default_cpu_request', 'default_memory_request', 'default_cpu_limit', 'default_memory_limit']) {
      assert.match(refused(key, '100 m').expected, /^a Kubernetes quantity such as/);
      assert.match(refused(key, '1Gb').expected, /^a Kubernetes quantity/);
      assert.match(refused(key, '-1').expected, /not negative$/);
      assert.match(refused(key, '').expected, /not an empty value$/);
    }
    for (const key of [
      'min_cpu_limit',
      'min_memory_limit',
      'max_cpu_request',
      'max_memory_request',
      'scalyr_cpu_request',
      'scalyr_memory_request',
      'scalyr_cpu_limit',
      'scalyr_memory_limit',
    ]) {
      assert.match(refused(key, 'lots').expected, /^a Kubernetes quantity/);
      assert.equal(parsed({ [key]: '' }).config[key as 'min_cpu_limit'], '', `${key} may be empty`);
    }
    const { config } = parsed({
      default_cpu_request: '0.5',
      default_memory_request: '1e9',
      default_cpu_limit: '2',
      default_memory_limit: '1Gi',
      min_cpu_limit: '250m',
    });
    assert.equal(config.default_memory_request, '1e9');
    assert.equal(config.min_cpu_limit, '250m');
  });

  it('refuses labels that are not valid Kubernetes labels, naming the key and the label', () => {
    assert.match(refused('cluster_labels', 'application:spilo,bad key:x').expected, /"bad key"/);
    assert.match(refused('cluster_labels', 'application:not valid').expected, /the value "not valid"/);
    assert.match(refused('cluster_labels', `team:${'x'.repeat(64)}`).expected, /longer than 63/);
    assert.match(refused('node_readiness_label', 'Example.com/ready:true').expected, /prefix of "Example.com\/ready"/);
    assert.match(refused('cluster_name_label', 'cluster name').expected, /^a label key/);
    assert.match(refused('cluster_name_label', '').expected, /empty name/);
    assert.match(refused('pod_role_label', 'a/b/c').expected, /^a label key/);
    assert.match(refused('custom_pod_annotations', '-x:1').expected, /^annotations whose keys/);
    assert.match(refused('custom_service_annotations', 'example.com/:1').expected, /empty name/);
    const { config } = parsed({
      cluster_labels: 'application:spilo,example.com/team:acid,empty:',
      node_readiness_label: 'lifecycle-status:ready',
      cluster_name_label: 'app.kubernetes.io/instance',
      custom_service_annotations: 'service.beta.kubernetes.io/aws-load-balancer-type:nlb',
    });
    assert.deepEqual(config.cluster_labels, { application: 'spilo', 'example.com/team': 'acid', empty: '' });
    assert.equal(config.cluster_name_label, 'app.kubernetes.io/instance');
  });

  it('reports the bad keys together with every other invalid value', () => {
    assert.deepEqual(
      failed({ docker_image: '', workers: 'x', default_cpu_limit: 'one' }).map((e) => e.key),
      ['workers', 'docker_image', 'default_cpu_limit'],
    );
  });
});

describe('parseOperatorConfig validation rules', () => {
  it('rejects maintenance_windows that are not windows, and takes those that are', () => {
    assert.deepEqual(
      failed({ maintenance_windows: 'Sat:22:00-23:59,23:00-01:00' }).map((e) => e.message),
      [
        'invalid value "Sat:22:00-23:59,23:00-01:00" for key "maintenance_windows": expected windows like ' +
          '"Sat:22:00-23:59" or "01:00-06:00" (UTC): "23:00-01:00": the window ends before it starts',
      ],
    );
    const ok = parseOperatorConfig({ maintenance_windows: 'Sat:22:00-23:59, 01:00-06:00' });
    assert.ok(ok.ok);
    assert.deepEqual(ok.config.maintenance_windows, ['Sat:22:00-23:59', '01:00-06:00']);
  });

  it('rejects min_instances above max_instances when both are set, naming both keys', () => {
    const errors = failed({ min_instances: '5', max_instances: '3' });
    assert.deepEqual(errors, [
      {
        key: 'min_instances',
        value: '5',
        expected: 'a number no higher than "max_instances" (3)',
        message: 'invalid value "5" for key "min_instances": expected a number no higher than "max_instances" (3)',
      },
    ]);
    assert.match(failed({ min_instances: '1', max_instances: '0' })[0]?.message ?? '', /max_instances/);
  });

  it('accepts min_instances up to max_instances, or when either is disabled', () => {
    parsed({ min_instances: '3', max_instances: '3' });
    parsed({ min_instances: '5', max_instances: '-1' });
    parsed({ min_instances: '-1', max_instances: '0' });
    parsed({ min_instances: '2' });
  });

  it('does not add a cross-key error when one side is already invalid', () => {
    assert.deepEqual(
      failed({ min_instances: '5', max_instances: 'x' }).map((e) => e.key),
      ['max_instances'],
    );
  });

  it('requires workers > 0', () => {
    assert.deepEqual(
      failed({ workers: '0' }).map((e) => e.message),
      ['invalid value "0" for key "workers": expected an integer of at least 1'],
    );
    assert.equal(failed({ workers: '-2' })[0]?.key, 'workers');
    assert.equal(parsed({ workers: '1' }).config.workers, 1);
  });

  it('requires connection_pooler_number_of_instances >= 1', () => {
    assert.deepEqual(
      failed({ connection_pooler_number_of_instances: '0' }).map((e) => e.message),
      ['invalid value "0" for key "connection_pooler_number_of_instances": expected an integer of at least 1'],
    );
    assert.equal(
      parsed({ connection_pooler_number_of_instances: '1' }).config.connection_pooler_number_of_instances,
      1,
    );
  });

  it('rejects a connection_pooler_user equal to super_username, also when one of them is the default', () => {
    assert.deepEqual(failed({ connection_pooler_user: 'postgres' }), [
      {
        key: 'connection_pooler_user',
        value: 'postgres',
        expected: 'a user name other than "super_username" ("postgres")',
        message:
          'invalid value "postgres" for key "connection_pooler_user": expected a user name other than "super_username" ("postgres")',
      },
    ]);
    assert.equal(failed({ super_username: 'pooler' })[0]?.value, 'pooler');
    parsed({ super_username: 'admin_user', connection_pooler_user: 'postgres' });
  });

  it('reports type errors and rule violations together', () => {
    const errors = failed({
      workers: '0',
      resync_period: 'x',
      min_instances: '4',
      max_instances: '2',
      connection_pooler_user: 'postgres',
      connection_pooler_number_of_instances: '0',
    });
    assert.deepEqual(
      errors.map((e) => e.key),
      ['workers', 'resync_period', 'connection_pooler_number_of_instances', 'min_instances', 'connection_pooler_user'],
    );
  });
});

describe('additional_secret_mount', () => {
  it('refuses a Secret name that cannot name a volume and a mount path that is not absolute', () => {
    assert.match(
      failed({ additional_secret_mount: 'wal.credentials' })[0]!.expected,
      /^the name of a Secret that is also a volume name/,
    );
    const errors = failed({ additional_secret_mount: 'wal-credentials', additional_secret_mount_path: 'meta' });
    assert.deepEqual(
      errors.map((e) => e.key),
      ['additional_secret_mount_path'],
    );
    assert.equal(parsed({ additional_secret_mount_path: '' }).config.additional_secret_mount_path, '', 'no Secret');
    assert.equal(
      parsed({ additional_secret_mount: 'wal-credentials' }).config.additional_secret_mount_path,
      '/meta/credentials',
    );
  });
});

describe('scalyr_api_key', () => {
  it('lets a non-empty SCALYR_API_KEY env win over the ConfigMap, as Zalando v1.15.1', () => {
    assert.equal(parsed({ scalyr_api_key: 'a' }, { SCALYR_API_KEY: 'b' }).config.scalyr_api_key, 'b');
    assert.equal(parsed({}, { SCALYR_API_KEY: 'b' }).config.scalyr_api_key, 'b');
    assert.equal(parsed({ scalyr_api_key: 'a' }, { SCALYR_API_KEY: '' }).config.scalyr_api_key, 'a');
  });

  it('warns that the scalyr_* keys are deprecated', () => {
    assert.deepEqual(parsed({ scalyr_image: 'agent:1' }).warnings, [
      'key "scalyr_image" is deprecated: Zalando deprecates the Scalyr options: define the sidecar in "sidecars" instead',
    ]);
  });
});

describe('watched namespaces', () => {
  it('lets a non-empty WATCHED_NAMESPACE env win over the ConfigMap', () => {
    assert.equal(
      parsed({ watched_namespace: '*' }, { WATCHED_NAMESPACE: 'team-a' }).config.watched_namespace,
      'team-a',
    );
    assert.equal(parsed({}, { WATCHED_NAMESPACE: 'team-b' }).config.watched_namespace, 'team-b');
    assert.equal(parsed({ watched_namespace: 'team-c' }, { WATCHED_NAMESPACE: '' }).config.watched_namespace, 'team-c');
    assert.equal(parsed({ watched_namespace: 'team-c' }, {}).config.watched_namespace, 'team-c');
  });

  it('resolves "" to the operator namespace, "*" to all, and a list to its names', () => {
    const config = (watched_namespace: string) => ({ watched_namespace });
    assert.deepEqual(watchedNamespaces(config(''), 'operators'), ['operators']);
    assert.deepEqual(watchedNamespaces(config(' , '), 'operators'), ['operators']);
    assert.equal(watchedNamespaces(config('*'), 'operators'), '*');
    assert.equal(watchedNamespaces(config('a,*'), 'operators'), '*');
    assert.deepEqual(watchedNamespaces(config('a, b,a'), 'operators'), ['a', 'b']);
    assert.deepEqual(watchedNamespaces(parsed({}).config, 'default'), ['default']);
  });
});
