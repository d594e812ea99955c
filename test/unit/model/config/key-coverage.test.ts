// Every key of Zalando's operator ConfigMaps (v1.0.0, v1.15.1, v2.0.1) is either acted on or marked as accepted but
// not acted on, and the marks stay true: a key marked acted on is read by the operator's code, a key marked not
// acted on is read by none (a source scan of lib/ and functions/). docs/config-reference.md lists them, generated
// from the marks (npm run docs; test/unit/docs/config-reference.test.ts checks it).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import {
  OPERATOR_CONFIG_KEYS,
  OPERATOR_CONFIG_KEY_NAMES,
  configKeySpec,
  keysNotActedOn,
} from '../../../../lib/model/config';
import { REFERENCE_DIR, REPO_ROOT } from '../../reference';
import { configKeyReads } from './config-reads';

const VERSIONS = ['v1.0.0', 'v1.15.1', 'v2.0.1'] as const;

/** The keys of a reference ConfigMap: those set and those written as comments (`# key: value`). */
function referenceKeys(version: string): string[] {
  const text = readFileSync(`${REFERENCE_DIR}${version}/configmap.yaml`, 'utf8');
  const data = (parse(text) as { data: Record<string, string> }).data;
  const commented = [...text.matchAll(/^\s+#\s*([a-z][a-z0-9_]*):(?:\s|$)/gm)].map((m) => m[1] ?? '');
  return [...new Set([...Object.keys(data), ...commented])];
}

describe('every operator config key is accounted for', () => {
  const reads = configKeyReads(REPO_ROOT, OPERATOR_CONFIG_KEY_NAMES);

  for (const version of VERSIONS) {
    it(`each key of Zalando's ${version} ConfigMap is acted on or listed as not acted on`, () => {
      const keys = referenceKeys(version);
      assert.ok(keys.length > 30, `${version}: ${keys.length} keys`);
      const neither = keys.filter((key) => configKeySpec(key) === undefined);
      assert.deepEqual(neither, [], `keys in neither set (add them to lib/model/config/keys.ts)`);
    });
  }

  it('a key marked acted on is read by some code in lib/ or functions/', () => {
    const unread = OPERATOR_CONFIG_KEY_NAMES.filter((key) => !configKeySpec(key)?.notActedOn && !reads.has(key));
    assert.deepEqual(unread, [], 'read by no code: mark them notActedOn in lib/model/config/keys.ts');
  });

  it('a key marked not acted on is read by no code', () => {
    const read = keysNotActedOn()
      .filter(({ key }) => reads.has(key))
      .map(({ key }) => `${key} (${reads.get(key)!.join(', ')})`);
    assert.deepEqual(read, [], 'read by code: remove their notActedOn mark in lib/model/config/keys.ts');
  });

  it('the scan sees reads and ignores comments and messages', () => {
    assert.ok(reads.get('docker_image')?.some((place) => place.startsWith('lib/builders/statefulset.ts:')));
    assert.ok(reads.has('delete_annotation_date_key'), 'a destructured property counts');
    // named only in a comment (lib/sync/operator/history.ts) and in a message (lib/sync/cluster/status.ts)
    assert.ok(!reads.has('workers'));
    assert.ok(!reads.has('enable_crd_registration'));
    // the manifest's spec.sidecars is not the config key, read only by the sidecar builder
    assert.deepEqual(
      reads.get('sidecars')?.map((place) => place.split(':')[0]),
      ['lib/builders/sidecars.ts'],
    );
  });

  it('counts', () => {
    const notActedOn = keysNotActedOn().length;
    assert.equal(
      notActedOn + (OPERATOR_CONFIG_KEY_NAMES.length - notActedOn),
      Object.keys(OPERATOR_CONFIG_KEYS).length,
    );
    assert.ok(notActedOn > 0 && notActedOn < OPERATOR_CONFIG_KEY_NAMES.length);
  });
});
