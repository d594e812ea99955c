// Strict name checks and SQL rendering: hostile names are refused before quoting; values are escaped by pg.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderStatement, UnsafeNameError } from '../../../lib/pg/sql';
import { databaseNameProblem, parameterNameProblem, roleNameProblem } from '../../../lib/roles/names';
import type { Statement } from '../../../lib/roles/types';

const HOSTILE = [
  'x"; DROP ROLE postgres; --',
  "o'brien",
  'back\\slash',
  'semi;colon',
  'ünïcode',
  'a'.repeat(64),
  'é'.repeat(32),
  'UPPER',
  'trailing-',
  'nul\0byte',
  ' space',
  '',
];

describe('name checks', () => {
  it('accept Zalando-style role names up to 63 bytes', () => {
    for (const name of ['foo_user', 'zalando', 'robot_zmon', 'a.b-c_d', 'x'.repeat(63), '0day'])
      assert.equal(roleNameProblem(name), undefined, name);
  });

  it('refuse hostile role names with the reason', () => {
    for (const name of HOSTILE) assert.ok(roleNameProblem(name), JSON.stringify(name));
    assert.equal(roleNameProblem('a'.repeat(64)), `invalid role name "${'a'.repeat(64)}": 64 bytes, at most 63`);
    assert.match(
      roleNameProblem('x"; DROP ROLE postgres; --')!,
      /^invalid role name "x\\"; DROP ROLE postgres; --": must match /,
    );
    assert.match(roleNameProblem('é'.repeat(32))!, /64 bytes, at most 63/);
  });

  it('database names follow ^[a-zA-Z_][a-zA-Z0-9_]*$', () => {
    assert.equal(databaseNameProblem('Foo_1'), undefined);
    for (const name of ['foo-bar', 'foo;', '1foo', 'a'.repeat(64), 'fö']) assert.ok(databaseNameProblem(name), name);
  });

  it('parameter names allow one dotted prefix', () => {
    assert.equal(parameterNameProblem('log_statement'), undefined);
    assert.equal(parameterNameProblem('pg_stat_statements.track'), undefined);
    for (const name of ['log statement', 'x;y', 'a=b', '"q"']) assert.ok(parameterNameProblem(name), name);
  });
});

describe('renderStatement', () => {
  it('renders every statement kind with quoted names', () => {
    const cases: Array<[Statement, string]> = [
      [
        {
          type: 'create-role',
          role: 'foo_user',
          attributes: ['CREATEDB', 'LOGIN'],
          inRoles: ['zalandos', 'admin'],
          admins: ['admin'],
          password: 'md5abc',
          reason: '',
        },
        `CREATE ROLE "foo_user" WITH CREATEDB LOGIN IN ROLE "zalandos", "admin" ADMIN "admin" PASSWORD 'md5abc'`,
      ],
      [
        {
          type: 'create-role',
          role: 'jdoe',
          attributes: ['LOGIN'],
          inRoles: [],
          admins: [],
          password: null,
          reason: '',
        },
        'CREATE ROLE "jdoe" WITH LOGIN PASSWORD NULL',
      ],
      [
        {
          type: 'create-role',
          role: 'group.role',
          attributes: [],
          inRoles: [],
          admins: [],
          password: undefined,
          reason: '',
        },
        'CREATE ROLE "group.role" WITH',
      ],
      [
        {
          type: 'alter-role',
          role: 'a-b',
          attributes: ['NOINHERIT'],
          password: 'SCRAM-SHA-256$4096:c2FsdA==$a:b',
          reason: '',
        },
        `ALTER ROLE "a-b" WITH NOINHERIT PASSWORD 'SCRAM-SHA-256$4096:c2FsdA==$a:b'`,
      ],
      [{ type: 'grant-membership', role: 'u', groups: ['g1', 'g2'], reason: '' }, 'GRANT "g1", "g2" TO "u"'],
      [{ type: 'grant-admin', role: 'u', admin: 'admin', reason: '' }, 'GRANT "u" TO "admin" WITH ADMIN OPTION'],
      [
        { type: 'set-parameter', role: 'u', name: 'log_statement', values: ['all'], reason: '' },
        `ALTER ROLE "u" SET "log_statement" TO 'all'`,
      ],
      [
        { type: 'set-parameter', role: 'u', name: 'search_path', values: ['$user', 'public'], reason: '' },
        `ALTER ROLE "u" SET "search_path" TO '$user', 'public'`,
      ],
      [
        { type: 'set-parameter', role: 'u', name: 'pg_stat_statements.track', values: ['all'], reason: '' },
        `ALTER ROLE "u" SET "pg_stat_statements"."track" TO 'all'`,
      ],
      [
        { type: 'create-database', database: 'foo', owner: 'zalando', reason: '' },
        'CREATE DATABASE "foo" OWNER "zalando"',
      ],
      [
        { type: 'alter-database-owner', database: 'Foo', owner: 'zalando', reason: '' },
        'ALTER DATABASE "Foo" OWNER TO "zalando"',
      ],
    ];
    for (const [statement, sql] of cases) assert.equal(renderStatement(statement), sql);
  });

  it('escapes values with quotes and backslashes as literals', () => {
    const sql = renderStatement({
      type: 'set-parameter',
      role: 'u',
      name: 'application_name',
      values: ["it's a \\ test'; DROP ROLE x; --"],
      reason: '',
    });
    assert.equal(sql, `ALTER ROLE "u" SET "application_name" TO  E'it''s a \\\\ test''; DROP ROLE x; --'`);
  });

  it('refuses hostile names instead of quoting them', () => {
    for (const name of HOSTILE) {
      assert.throws(
        () =>
          renderStatement({
            type: 'create-role',
            role: name,
            attributes: [],
            inRoles: [],
            admins: [],
            password: undefined,
            reason: '',
          }),
        UnsafeNameError,
      );
      assert.throws(
        () => renderStatement({ type: 'grant-membership', role: 'ok', groups: [name], reason: '' }),
        UnsafeNameError,
      );
    }
    assert.throws(
      () =>
        renderStatement({
          type: 'create-database',
          database: 'x"; DROP DATABASE postgres; --',
          owner: 'ok',
          reason: '',
        }),
      UnsafeNameError,
    );
    assert.throws(
      () => renderStatement({ type: 'alter-role', role: 'ok', attributes: ['LOGIN; DROP'], reason: '' }),
      UnsafeNameError,
    );
    assert.throws(
      () => renderStatement({ type: 'set-parameter', role: 'ok', name: 'x', values: ['a\0b'], reason: '' }),
      UnsafeNameError,
    );
  });
});
