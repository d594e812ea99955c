// The pooler in PostgreSQL (pure): when the lookup function must be (re)installed, which databases get it, the
// install SQL with checked and quoted names, and the pooler role while a pooler runs.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { lookupInstallSql } from '../../../lib/pg/pooler-lookup';
import { UnsafeNameError } from '../../../lib/pg/sql';
import { desiredState } from '../../../lib/roles/desired';
import { LOOKUP_BODY, lookupDatabases, lookupProblems, type LookupState } from '../../../lib/roles/pooler';
import { buildEdited, referenceConfig } from '../reference';

const right: LookupState = {
  schemaExists: true,
  functionExists: true,
  securityDefiner: true,
  body: LOOKUP_BODY,
  publicCanExecute: false,
  roleCanExecute: true,
  roleHasUsage: true,
};

describe('lookup function', () => {
  it('nothing to do when it is right', () => assert.deepEqual(lookupProblems(right), []));

  it('every way it can be wrong is named', () => {
    assert.deepEqual(lookupProblems({ ...right, schemaExists: false, functionExists: false, roleHasUsage: false }), [
      'the schema is missing',
      'the function is missing',
    ]);
    assert.deepEqual(
      lookupProblems({ ...right, securityDefiner: false, body: 'BEGIN RETURN; END;', publicCanExecute: true }),
      ['the function is not SECURITY DEFINER', 'the function body differs', 'PUBLIC may execute it'],
    );
    assert.deepEqual(lookupProblems({ ...right, roleCanExecute: false, roleHasUsage: false }), [
      'the pooler role may not execute it',
      'the pooler role has no USAGE on the schema',
    ]);
  });

  it('goes into every database that accepts connections but the templates', () => {
    const rows = [
      { name: 'template0', allowConnections: false },
      { name: 'template1', allowConnections: true },
      { name: 'postgres', allowConnections: true },
      { name: 'foo', allowConnections: true },
      { name: 'closed', allowConnections: false },
    ];
    assert.deepEqual(lookupDatabases(rows), ['foo', 'postgres']);
  });

  it('install SQL: quoted names, SECURITY DEFINER, PUBLIC revoked; a bad name is refused before any SQL', () => {
    const sql = lookupInstallSql('pooler', 'pooler_user');
    assert.match(sql, /CREATE SCHEMA IF NOT EXISTS "pooler"/);
    assert.match(sql, /SECURITY DEFINER/);
    assert.match(sql, /REVOKE ALL ON FUNCTION "pooler"\.user_lookup\(text\) FROM PUBLIC, "pooler_user"/);
    assert.match(sql, /GRANT EXECUTE ON FUNCTION "pooler"\.user_lookup\(text\) TO "pooler_user"/);
    assert.throws(() => lookupInstallSql('pooler"; DROP', 'pooler'), UnsafeNameError);
    assert.throws(() => lookupInstallSql('pooler', 'x"; DROP ROLE postgres; --'), UnsafeNameError);
  });
});

describe('the pooler role', () => {
  const config = referenceConfig('v2.0.1');
  const stateOf = (spec: Record<string, unknown>) => {
    const { cluster } = buildEdited('v2.0.1/complete-postgres-manifest.yaml', config, (raw) =>
      Object.assign(raw.spec, spec),
    );
    return desiredState({ cluster, config, passwords: { pooler: 'pw', bouncer: 'pw2' }, infrastructure: [] });
  };

  it('is a LOGIN system role with its Secret password while a pooler runs, and absent otherwise', () => {
    const on = stateOf({ enableConnectionPooler: true }).roles.find((r) => r.name === 'pooler');
    assert.deepEqual(on && [on.origin, on.attributes, on.password], ['system', ['LOGIN'], 'pw']);
    assert.equal(
      stateOf({}).roles.find((r) => r.name === 'pooler'),
      undefined,
    );
    const custom = stateOf({ enableReplicaConnectionPooler: true, connectionPooler: { user: 'bouncer' } });
    assert.equal(custom.roles.find((r) => r.name === 'bouncer')?.password, 'pw2');
  });
});
