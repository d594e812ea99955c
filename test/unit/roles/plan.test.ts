// The SQL planner: catalog rows -> statements. Only additions; an unchanged catalog gives an empty plan.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { catalogNames, planDatabases, planRoles } from '../../../lib/roles/plan';
import { md5Verifier, scramVerifier } from '../../../lib/roles/password';
import type { DesiredRole, Statement } from '../../../lib/roles/types';
import { catalogOf, catalogRole } from './fixtures';

const salt = Buffer.alloc(16, 7);
const scram = { encryption: 'scram-sha-256' as const, salt: () => salt };
const md5 = { encryption: 'md5' as const, salt: () => salt };
const desired = (name: string, extra: Partial<DesiredRole> = {}): DesiredRole => ({
  name,
  origin: 'manifest',
  attributes: ['LOGIN'],
  memberOf: [],
  admins: [],
  parameters: {},
  ...extra,
});
const existing = catalogRole;
const catalog = catalogOf;
const types = (statements: Statement[]) => statements.map((s) => `${s.type} ${'role' in s ? s.role : s.database}`);

describe('planRoles', () => {
  it('creates a missing role with its attributes, existing groups, ADMIN and a SCRAM verifier', () => {
    const plan = planRoles(
      [
        desired('foo', {
          attributes: ['CREATEDB', 'LOGIN'],
          memberOf: ['zalandos'],
          admins: ['admin'],
          password: 'pw',
        }),
      ],
      catalog([existing('zalandos'), existing('admin')]),
      scram,
    );
    assert.deepEqual(plan.statements, [
      {
        type: 'create-role',
        role: 'foo',
        attributes: ['CREATEDB', 'LOGIN'],
        inRoles: ['zalandos'],
        admins: ['admin'],
        password: scramVerifier('pw', salt),
        reason: 'create manifest robot role foo',
      },
    ]);
    assert.deepEqual(plan.notes, []);
  });

  it('team roles are created with PASSWORD NULL; NOLOGIN manifest roles without a password clause', () => {
    const plan = planRoles(
      [desired('jdoe', { origin: 'teams-api', password: null }), desired('grp', { attributes: [] })],
      catalog([]),
      md5,
    );
    assert.deepEqual(
      plan.statements.map((s) => s.type === 'create-role' && [s.role, s.password]),
      [
        ['jdoe', null],
        ['grp', undefined],
      ],
    );
  });

  it('an unchanged catalog gives an empty plan (md5 and SCRAM)', () => {
    const roles = [
      desired('a', {
        attributes: ['CREATEDB', 'LOGIN', 'NOINHERIT'],
        memberOf: ['g'],
        admins: ['admin'],
        parameters: { log_statement: 'all', search_path: `'"$user", public'` },
        password: 'pa',
      }),
      desired('t', { origin: 'teams-api', password: null }),
    ];
    const rows = (verifier: (u: string, p: string) => string) =>
      catalog([
        existing('a', {
          createdb: true,
          inherit: false,
          memberOf: ['g'],
          admins: ['admin'],
          parameters: { log_statement: 'all', search_path: '"$user", public' },
          password: verifier('a', 'pa'),
        }),
        existing('t', { password: null }),
        existing('g'),
        existing('admin'),
      ]);
    assert.deepEqual(
      planRoles(
        roles,
        rows((u, p) => md5Verifier(u, p)),
        md5,
      ).statements,
      [],
    );
    assert.deepEqual(
      planRoles(
        roles,
        rows((_u, p) => scramVerifier(p, Buffer.from('another salt 123'), 8192)),
        scram,
      ).statements,
      [],
    );
  });

  it('alters only what is missing, and never removes anything', () => {
    const plan = planRoles(
      [desired('a', { attributes: ['CREATEDB', 'LOGIN', 'NOSUPERUSER'], password: 'new' })],
      catalog([
        existing('a', {
          superuser: true,
          createrole: true,
          bypassrls: true,
          memberOf: ['other'],
          parameters: { work_mem: '1GB' },
          password: md5Verifier('a', 'old'),
        }),
      ]),
      md5,
    );
    assert.deepEqual(plan.statements, [
      {
        type: 'alter-role',
        role: 'a',
        attributes: ['CREATEDB', 'NOSUPERUSER'],
        password: md5Verifier('a', 'new'),
        reason: 'a: missing CREATEDB NOSUPERUSER; password differs from its Secret (or is not md5)',
      },
    ]);
  });

  it('a password stored as md5 is sent again as SCRAM when SCRAM is wanted', () => {
    const plan = planRoles(
      [desired('a', { password: 'pw' })],
      catalog([existing('a', { password: md5Verifier('a', 'pw') })]),
      scram,
    );
    assert.deepEqual(
      plan.statements.map((s) => s.type === 'alter-role' && s.password),
      [scramVerifier('pw', salt)],
    );
  });

  it('grants missing memberships and ADMIN OPTION; sets only differing parameters', () => {
    const plan = planRoles(
      [
        desired('a', {
          memberOf: ['g1', 'g2'],
          admins: ['admin'],
          parameters: { log_statement: 'all', work_mem: '64MB' },
        }),
      ],
      catalog([
        existing('a', { memberOf: ['g1'], parameters: { log_statement: 'ddl', work_mem: '64MB' } }),
        existing('g1'),
        existing('g2'),
        existing('admin'),
      ]),
      md5,
    );
    assert.deepEqual(plan.statements, [
      { type: 'grant-membership', role: 'a', groups: ['g2'], reason: 'a: not a member of g2' },
      { type: 'grant-admin', role: 'a', admin: 'admin', reason: 'a: admin lacks ADMIN OPTION' },
      {
        type: 'set-parameter',
        role: 'a',
        name: 'log_statement',
        values: ['all'],
        reason: 'a: log_statement is different',
      },
    ]);
  });

  it('groups created in the same plan are granted after all creates; missing groups are skipped with a note', () => {
    const plan = planRoles(
      [desired('member', { memberOf: ['group', 'ghost'] }), desired('group', { attributes: [] })],
      catalog([]),
      md5,
    );
    assert.deepEqual(types(plan.statements), ['create-role member', 'create-role group', 'grant-membership member']);
    assert.deepEqual(
      plan.notes.map((n) => n.message),
      ['role "member": group role "ghost" does not exist; skipped until it does'],
    );
  });

  it('catalogNames asks for every role, group, admin and owner once', () => {
    assert.deepEqual(
      catalogNames([desired('a', { memberOf: ['g'], admins: ['admin'] }), desired('g')], [{ name: 'db', owner: 'o' }]),
      { roles: ['a', 'admin', 'g', 'o'], databases: ['db'] },
    );
  });
});

describe('planDatabases', () => {
  it('creates missing databases, changes a different owner, leaves the rest', () => {
    const plan = planDatabases(
      [
        { name: 'new_db', owner: 'a' },
        { name: 'moved', owner: 'a' },
        { name: 'same', owner: 'a' },
      ],
      catalog([existing('a')], { moved: 'postgres', same: 'a', unrelated: 'x' }),
      new Set(['a']),
    );
    assert.deepEqual(plan.statements, [
      { type: 'create-database', database: 'new_db', owner: 'a', reason: 'create database new_db owned by a' },
      { type: 'alter-database-owner', database: 'moved', owner: 'a', reason: 'database moved: owner postgres -> a' },
    ]);
  });

  it('skips a database whose owner does not exist', () => {
    const plan = planDatabases([{ name: 'db', owner: 'ghost' }], catalog([]), new Set());
    assert.deepEqual(plan.statements, []);
    assert.deepEqual(
      plan.notes.map((n) => n.message),
      ['database "db" skipped: owner "ghost" does not exist'],
    );
  });
});
