// The last applied operator config: canonical text, reading the annotation, the diff between two ConfigMaps,
// the name of the Event about an invalid content.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  LAST_APPLIED_CONFIG_ANNOTATION,
  canonicalConfigData,
  changedKeys,
  describeConfigDiff,
  diffConfigData,
  configDataHash,
  lastAppliedData,
  sameConfigData,
} from '../../../lib/sync/operator/history';
import { onceEventName } from '../../../lib/k8s/events';

const withAnnotation = (text: string) => ({ metadata: { annotations: { [LAST_APPLIED_CONFIG_ANNOTATION]: text } } });

describe('last applied config', () => {
  it('writes data with sorted keys, so key order does not matter', () => {
    assert.equal(canonicalConfigData({ workers: '4', docker_image: 'x' }), '{"docker_image":"x","workers":"4"}');
    assert.equal(canonicalConfigData(undefined), '{}');
    assert.ok(sameConfigData({ a: '1', b: '2' }, { b: '2', a: '1' }));
    assert.ok(!sameConfigData({ a: '1' }, { a: '1 ' }));
    assert.ok(sameConfigData(undefined, {}));
  });

  it('reads the annotation back, and treats a damaged one as absent', () => {
    assert.deepEqual(lastAppliedData(withAnnotation(canonicalConfigData({ workers: '4' }))), { workers: '4' });
    assert.equal(lastAppliedData({ metadata: {} }), undefined);
    assert.equal(lastAppliedData(undefined), undefined);
    for (const damaged of ['{', '[]', '"x"', 'null', '{"workers":4}'])
      assert.equal(lastAppliedData(withAnnotation(damaged)), undefined, damaged);
  });

  it('diffs added, removed and changed keys, and describes them with short values', () => {
    const before = { docker_image: 'spilo:1', workers: '4', debug_logging: 'true' };
    const after = { docker_image: 'spilo:2', workers: '4', pod_environment_configmap: 'x'.repeat(100) };
    const diff = diffConfigData(before, after);
    assert.deepEqual(diff, {
      added: ['pod_environment_configmap'],
      removed: ['debug_logging'],
      changed: ['docker_image'],
    });
    assert.deepEqual(changedKeys(diff), ['debug_logging', 'docker_image', 'pod_environment_configmap']);
    assert.deepEqual(describeConfigDiff(diff, before, after), [
      `+pod_environment_configmap: "${'x'.repeat(37)}..."`,
      '-debug_logging',
      'docker_image: "spilo:1" -> "spilo:2"',
    ]);
    assert.deepEqual(diffConfigData(undefined, { a: '1' }), { added: ['a'], removed: [], changed: [] });
    const secret = { logical_backup_s3_secret_access_key: 'old-SECRET', scalyr_api_key: 'k1' };
    const rotated = { logical_backup_s3_secret_access_key: 'new-SECRET', scalyr_api_key: 'k1', workers: '2' };
    const lines = describeConfigDiff(diffConfigData(secret, rotated), secret, rotated);
    assert.deepEqual(lines, ['+workers: "2"', 'logical_backup_s3_secret_access_key: (hidden) -> (hidden)']);
    const added = describeConfigDiff(diffConfigData(undefined, rotated), undefined, rotated);
    assert.ok(!added.join().includes('SECRET') && !added.join().includes('k1'), added.join());
  });

  it('names the Event about an invalid content after the content, in any key order', () => {
    const eventName = (name: string, data: Record<string, string>) =>
      onceEventName(name, 'InvalidConfiguration', configDataHash(data));
    const name = eventName('postgres-operator', { workers: 'many', a: '1' });
    assert.match(name, /^postgres-operator\.invalidconfiguration-[0-9a-f]{16}$/);
    assert.equal(eventName('postgres-operator', { a: '1', workers: 'many' }), name);
    assert.notEqual(eventName('postgres-operator', { workers: 'lots' }), name);
    assert.ok(eventName('c'.repeat(253), {}).length <= 253);
  });
});
