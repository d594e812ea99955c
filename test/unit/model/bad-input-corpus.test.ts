// The bad-input corpus (bad-input-corpus.ts), checked without an API server: each bad manifest ends exactly as its
// entry says (refused by the CRD schema naming the field, Invalid naming the field, warned, or adjusted and
// reported), and each bad ConfigMap value gives an error naming its key. The API-server side of the same corpus is
// test/integration/bad-input-corpus.test.ts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildCluster } from '../../../lib/builders';
import { parseOperatorConfig } from '../../../lib/model/config';
import { postgresqlCrd } from '../../../lib/model/crd';
import { describeProblems, validatePostgresql } from '../../../lib/model/validate';
import { configMapData, rawManifest, REFERENCE_MANIFESTS } from '../reference';
import { BAD_CONFIG_VALUES, BAD_MANIFESTS, type BadManifest, type Manifest } from './bad-input-corpus';
import { checkSchema } from './crd-schema-check';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const schema = (postgresqlCrd() as any).spec.versions[0].schema.openAPIV3Schema;

function manifestOf(entry: BadManifest): Manifest {
  const m = rawManifest('v2.0.1/minimal-postgres-manifest.yaml') as Manifest;
  entry.edit(m);
  return m;
}

function configOf(entry: BadManifest) {
  const result = parseOperatorConfig({ ...configMapData('v2.0.1'), ...entry.config });
  assert.ok(result.ok, JSON.stringify(!result.ok && result.errors));
  return result.config;
}

/** The CRD check of the API server: the object without metadata, which the schema leaves alone. */
const crdErrors = (m: Manifest) => {
  const object = { ...m };
  delete object.metadata;
  return checkSchema(schema, object, '').map((e) => ({ ...e, path: e.path.slice(1) }));
};

describe('bad-input corpus: size', () => {
  it('has at least 60 bad manifests and 25 bad ConfigMap values', () => {
    assert.ok(BAD_MANIFESTS.length >= 60, `${BAD_MANIFESTS.length} manifests`);
    assert.ok(BAD_CONFIG_VALUES.length >= 25, `${BAD_CONFIG_VALUES.length} ConfigMap values`);
    assert.equal(new Set(BAD_MANIFESTS.map((e) => e.what)).size, BAD_MANIFESTS.length, 'names are unique');
  });

  it('the schema model accepts every reference manifest', () => {
    for (const path of REFERENCE_MANIFESTS) {
      assert.deepEqual(crdErrors(rawManifest(path) as Manifest), [], path);
    }
  });
});

describe('bad-input corpus: manifests', () => {
  for (const entry of BAD_MANIFESTS) {
    it(`${entry.outcome}: ${entry.what}`, () => {
      const m = manifestOf(entry);
      const result = validatePostgresql(m, {
        enableTeamIdClusterNamePrefix: entry.prefixRule === true,
        enableSidecars: configOf(entry).enable_sidecars,
        enableInitContainers: configOf(entry).enable_init_containers,
      });
      const errors = crdErrors(m);
      if (entry.outcome === 'crd') {
        assert.ok(
          errors.some((e) => e.path === entry.crdPath),
          `the CRD must refuse it at ${entry.crdPath}; got ${JSON.stringify(errors)}`,
        );
        assert.ok(!result.ok, 'validatePostgresql refuses it too (another CRD may be installed)');
        if (!result.ok)
          assert.ok(
            result.problems.some((p) => p.path === entry.path && entry.message.test(p.message)),
            `no problem at ${entry.path} matching ${entry.message}; got ${describeProblems(result.problems)}`,
          );
        return;
      }
      assert.deepEqual(errors, [], 'the CRD accepts it');
      if (entry.outcome === 'invalid') {
        assert.ok(!result.ok, 'expected Invalid');
        if (!result.ok)
          assert.ok(
            result.problems.some((p) => p.path === entry.path && entry.message.test(p.message)),
            `no problem at ${entry.path} matching ${entry.message}; got ${describeProblems(result.problems)}`,
          );
        return;
      }
      assert.ok(result.ok, `expected valid; got ${!result.ok && describeProblems(result.problems)}`);
      if (!result.ok) return;
      if (entry.outcome === 'warned') {
        assert.ok(
          result.warnings.some((w) => w.startsWith(entry.path) && entry.message.test(w)),
          `no warning naming ${entry.path} matching ${entry.message}; got ${JSON.stringify(result.warnings)}`,
        );
        return;
      }
      const cluster = { ...result.cluster, metadata: { ...result.cluster.metadata, namespace: 'default' } };
      const passwords = new Proxy({}, { get: () => 'password' }) as Record<string, string>;
      const { notes } = buildCluster(cluster, configOf(entry), { passwords });
      const note = notes.find((n) => entry.message.test(n));
      assert.ok(note, `no note matching ${entry.message}; got ${JSON.stringify(notes)}`);
      assert.ok(note.includes(entry.path), `the note names ${entry.path}`);
      assert.deepEqual(buildCluster(cluster, configOf(entry), { passwords }).notes, notes, 'the same note every time');
    });
  }
});

describe('bad-input corpus: ConfigMap values', () => {
  for (const entry of BAD_CONFIG_VALUES) {
    it(`${entry.key}: ${JSON.stringify(entry.data[entry.key])}`, () => {
      const result = parseOperatorConfig({ ...configMapData('v2.0.1'), ...entry.data });
      assert.ok(!result.ok, 'expected an error');
      if (result.ok) return;
      const error = result.errors.find((e) => e.key === entry.key);
      assert.ok(error, `no error naming ${entry.key}; got ${JSON.stringify(result.errors)}`);
      assert.equal(error.value, entry.data[entry.key]);
      assert.match(error.message, entry.message);
      assert.match(error.message, new RegExp(`"${entry.key}"`));
    });
  }
});
