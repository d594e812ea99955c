// normalizeUserFlags: Zalando's normalization of manifest role flags.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeUserFlags } from '../../../lib/model/user-flags';

const flags = (input: string[] | null | undefined) => {
  const result = normalizeUserFlags(input);
  assert.ok(result.ok, !result.ok ? result.error : '');
  return result.flags;
};
const error = (input: string[]) => {
  const result = normalizeUserFlags(input);
  assert.ok(!result.ok, 'expected an error');
  return result.error;
};

describe('normalizeUserFlags', () => {
  it('null, undefined and empty lists mean LOGIN', () => {
    assert.deepEqual(flags(null), ['LOGIN']);
    assert.deepEqual(flags(undefined), ['LOGIN']);
    assert.deepEqual(flags([]), ['LOGIN']);
  });

  it('upper-cases, adds LOGIN and sorts', () => {
    assert.deepEqual(flags(['superuser', 'createdb']), ['CREATEDB', 'LOGIN', 'SUPERUSER']);
    assert.deepEqual(flags(['Replication', 'BypassRLS']), ['BYPASSRLS', 'LOGIN', 'REPLICATION']);
  });

  it('NOLOGIN removes LOGIN and is itself dropped', () => {
    assert.deepEqual(flags(['nologin']), []);
    assert.deepEqual(flags(['NOLOGIN', 'createdb']), ['CREATEDB']);
  });

  it('keeps NO- forms of other attributes', () => {
    assert.deepEqual(flags(['noinherit', 'nocreaterole']), ['LOGIN', 'NOCREATEROLE', 'NOINHERIT']);
  });

  it('collapses duplicates', () => {
    assert.deepEqual(flags(['login', 'LOGIN', 'createdb', 'CreateDB']), ['CREATEDB', 'LOGIN']);
  });

  it('rejects non-alphanumeric flags', () => {
    assert.equal(error(['create-db']), 'user flag "create-db" is not alphanumeric');
    assert.equal(error(['1login']), 'user flag "1login" is not alphanumeric');
    assert.equal(error(['']), 'user flag "" is not alphanumeric');
  });

  it('rejects unknown flags', () => {
    assert.equal(error(['superman']), 'user flag "superman" is not valid');
    assert.equal(error(['NOTHING']), 'user flag "NOTHING" is not valid');
  });

  it('rejects a flag together with its inverse, in either order', () => {
    assert.equal(error(['login', 'nologin']), 'conflicting user flags: "LOGIN" and "NOLOGIN"');
    assert.equal(error(['nologin', 'login']), 'conflicting user flags: "LOGIN" and "NOLOGIN"');
    assert.equal(error(['createdb', 'NOCREATEDB']), 'conflicting user flags: "CREATEDB" and "NOCREATEDB"');
  });
});
