// The report of ConfigMap keys worth a warning (not acted on, unknown, deprecated) and the Event text made of it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { configKeyReport, describeConfigKeyReport, keysNotActedOn } from '../../../../lib/model/config';
import { configMapData } from '../../reference';

describe('configKeyReport', () => {
  it('is empty for no ConfigMap and for keys that are all acted on', () => {
    const empty = { notActedOn: [], unknown: [], deprecated: [] };
    assert.deepEqual(configKeyReport(undefined), empty);
    assert.deepEqual(configKeyReport({ docker_image: 'x', cluster_labels: 'application:spilo' }), empty);
    assert.equal(describeConfigKeyReport(empty), undefined);
  });

  it('names keys not acted on with the reason, unknown keys with the nearest known key, deprecated keys', () => {
    const report = configKeyReport({
      docker_image: 'x',
      workers: '4',
      aws_region: 'eu-central-1',
      workes: '2',
      zzz: '1',
      enable_load_balancer: 'true',
      toString: 'x',
    });
    assert.deepEqual(
      report.notActedOn.map((e) => e.key),
      ['workers', 'enable_load_balancer', 'aws_region'],
    );
    assert.equal(report.notActedOn[2]!.reason, 'EBS volumes are not managed');
    assert.deepEqual(report.unknown, [{ key: 'toString' }, { key: 'workes', nearest: 'workers' }, { key: 'zzz' }]);
    assert.deepEqual(report.deprecated, [
      { key: 'enable_load_balancer', instead: 'use enable_master_load_balancer and enable_replica_load_balancer' },
    ]);
    assert.equal(
      describeConfigKeyReport(report),
      'unknown keys, ignored: toString, workes (did you mean workers?), zzz; ' +
        'deprecated: enable_load_balancer (use enable_master_load_balancer and enable_replica_load_balancer); ' +
        'accepted but not acted on: workers, enable_load_balancer, aws_region ' +
        '(docs/config-reference.md)',
    );
  });

  it('writes a family whose every key is not acted on as one pattern', () => {
    const text = describeConfigKeyReport(
      configKeyReport({ resource_check_interval: '3s', resource_check_timeout: '10m' }),
    );
    assert.equal(text, 'accepted but not acted on: resource_check_* (2 keys) (docs/config-reference.md)');
    // pod_ keys are mostly acted on: named one by one
    assert.match(
      describeConfigKeyReport(configKeyReport({ pod_label_wait_timeout: '1m', pod_deletion_wait_timeout: '1m' }))!,
      /: pod_label_wait_timeout, pod_deletion_wait_timeout \(/,
    );
  });

  it("fits Zalando's own ConfigMaps into one Event (1024 characters)", () => {
    for (const version of ['v1.0.0', 'v2.0.1'] as const) {
      const text = describeConfigKeyReport(configKeyReport(configMapData(version)))!;
      assert.ok(text.length <= 1024, `${version}: ${text.length}`);
      assert.doesNotMatch(text, /more/, version);
    }
  });

  it('counts the keys that do not fit', () => {
    const data = Object.fromEntries(keysNotActedOn().map(({ key }) => [key, '']));
    const text = describeConfigKeyReport(configKeyReport(data), 600)!;
    assert.ok(text.length <= 600, text);
    assert.match(text, /; accepted but not acted on: workers, .*, and \d+ more \(docs\/config-reference\.md\)/);
  });
});
