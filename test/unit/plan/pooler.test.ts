// poolerRemovals: a pooler turned off loses its Deployment and Service; its Secret goes once none runs and only with
// enable_secrets_deletion; objects already being deleted, or still wanted, are left alone.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { poolerRemovals } from '../../../lib/plan/pooler';
import type { LiveObject } from '../../../lib/plan/plan';
import { buildEdited, referenceConfig } from '../reference';

const name = 'acid-test-cluster';
const secret = `pooler.${name}.credentials.postgresql.acid.zalan.do`;
const live = (...keys: string[]): Map<string, LiveObject> =>
  new Map(keys.map((key) => [key, { metadata: { name: key.split('/')[1] } }]));
const everything = live(
  `Deployment/${name}-pooler`,
  `Service/${name}-pooler`,
  `Deployment/${name}-pooler-repl`,
  `Service/${name}-pooler-repl`,
  `Secret/${secret}`,
);

function removals(spec: Record<string, unknown>, observed = everything, overrides: Record<string, string> = {}) {
  const config = referenceConfig('v2.0.1', overrides);
  const { cluster, objects } = buildEdited('v2.0.1/complete-postgres-manifest.yaml', config, (raw) =>
    Object.assign(raw.spec, spec),
  );
  return poolerRemovals(cluster, config, objects, observed).map(
    (a) => `${a.type} ${a.object.kind}/${a.object.metadata.name}`,
  );
}

describe('poolerRemovals', () => {
  it('nothing while both poolers run', () => {
    assert.deepEqual(removals({ enableConnectionPooler: true, enableReplicaConnectionPooler: true }), []);
  });

  it('the replica pooler off: its Deployment and Service, the Secret stays', () => {
    assert.deepEqual(removals({ enableConnectionPooler: true, enableReplicaConnectionPooler: false }), [
      `delete Deployment/${name}-pooler-repl`,
      `delete Service/${name}-pooler-repl`,
    ]);
  });

  it('both off: everything, the Secret only with enable_secrets_deletion', () => {
    const off = { enableConnectionPooler: false, enableReplicaConnectionPooler: false };
    assert.equal(removals(off).length, 5);
    assert.ok(removals(off).includes(`delete Secret/${secret}`));
    assert.ok(!removals(off, everything, { enable_secrets_deletion: 'false' }).includes(`delete Secret/${secret}`));
  });

  it('a Secret a manifest user still needs is kept; an object being deleted is not deleted again', () => {
    const off = { enableConnectionPooler: false, enableReplicaConnectionPooler: false };
    assert.ok(!removals({ ...off, users: { pooler: [] } }).includes(`delete Secret/${secret}`));
    const deleting = new Map(everything);
    deleting.set(`Service/${name}-pooler`, { metadata: { name: `${name}-pooler`, deletionTimestamp: 'now' } });
    assert.ok(!removals(off, deleting).includes(`delete Service/${name}-pooler`));
  });
});
