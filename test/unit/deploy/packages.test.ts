// The kustomize packages (config/) and the Helm chart (charts/postgres-operator-functions/) are generated from the
// function registry: the checked-in files must be what the generator writes now.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseAllDocuments } from 'yaml';
import { packageFiles, stalePackageFiles } from '../../../scripts/deploy/packages/index';
import { LAYOUTS, layoutObjects } from '../../../scripts/deploy/packages/kustomize';
import { generate } from '../../../scripts/deploy/targets';
import { objectPath } from '../../../scripts/deploy/apply';
import { packageOptions } from '../../../scripts/deploy/packages/install-objects';

describe('installation packages', () => {
  it('the checked-in config/ and chart are what the generator writes (else run npx tsx scripts/deploy/packages/index.ts)', () => {
    assert.deepEqual(stalePackageFiles(), []);
  });

  it('each kustomize layout holds its target objects, the Namespace and the ConfigMap', () => {
    for (const [layout, entry] of Object.entries(LAYOUTS)) {
      const objects = layoutObjects(layout);
      const target = generate(entry.target, packageOptions({ ...entry.options, includeCrd: false }));
      assert.deepEqual(objects.slice(2), target, layout);
      assert.deepEqual(
        objects.slice(0, 2).map((o) => `${o.kind}/${o.metadata.name}`),
        ['Namespace/postgres-operator', 'ConfigMap/postgres-operator'],
      );
    }
  });

  it('no chart template keeps a sentinel, and every kustomize file parses as YAML', () => {
    for (const [file, text] of packageFiles()) {
      assert.doesNotMatch(text, /sentinel-/, file);
      if (file.startsWith('config/')) for (const doc of parseAllDocuments(text)) assert.deepEqual(doc.errors, [], file);
    }
  });

  it('npm run deploy can apply every kind the packages hold', () => {
    for (const layout of Object.keys(LAYOUTS)) for (const object of layoutObjects(layout)) objectPath(object);
  });

  it('a stale file is reported by name', () => {
    const files = packageFiles();
    files.set('config/plain/config.yaml', 'changed');
    assert.deepEqual(stalePackageFiles(files), ['config/plain/config.yaml']);
  });
});
