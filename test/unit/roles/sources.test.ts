// Role sources (system, manifest, infrastructure in both formats, Teams API) and their merge by priority.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { desiredState } from '../../../lib/roles/desired';
import { mergeRoles, withoutTeamMemberRoles } from '../../../lib/roles/merge';
import {
  definedInfrastructureRole,
  legacyInfrastructureRoles,
  manifestRoles,
  parseInfrastructureRoleDefinitions,
  systemRoles,
  teamRoles,
} from '../../../lib/roles/sources';
import { rawManifest, readReference, referenceConfig, validCluster } from '../reference';
import { desiredRole } from './fixtures';

const config = referenceConfig('v2.0.1');
const decoded = (data: Record<string, string>) =>
  Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
const clusterWith = (users: Record<string, string[] | null>, databases?: Record<string, string>) => {
  const raw = rawManifest('v2.0.1/minimal-postgres-manifest.yaml');
  raw.spec = { ...raw.spec, users, databases };
  return validCluster(raw).cluster;
};
const role = desiredRole;

describe('system roles', () => {
  it('superuser and replication user, with their Secret passwords', () => {
    assert.deepEqual(systemRoles(config, { postgres: 'pw1', standby: 'pw2' }), [
      role('postgres', 'system', { attributes: ['LOGIN', 'SUPERUSER'], password: 'pw1' }),
      role('standby', 'system', { attributes: ['LOGIN', 'REPLICATION'], password: 'pw2' }),
    ]);
  });
});

describe('manifest roles', () => {
  it('every flag and its NO- form, any case; LOGIN unless NOLOGIN; ADMIN team_admin_role', () => {
    const cluster = clusterWith({
      all_flags: ['superuser', 'INHERIT', 'login', 'createrole', 'createdb', 'replication', 'bypassrls'],
      no_flags: ['nosuperuser', 'NOINHERIT', 'nocreaterole', 'nocreatedb', 'noreplication', 'nobypassrls'],
      group_role: ['nologin'],
      plain: null,
    });
    const { roles, notes } = manifestRoles(cluster, config, {
      all_flags: 'a',
      no_flags: 'b',
      plain: 'c',
      group_role: 'ignored',
    });
    assert.deepEqual(notes, []);
    const byName = Object.fromEntries(roles.map((r) => [r.name, r]));
    assert.deepEqual(byName.all_flags!.attributes, [
      'BYPASSRLS',
      'CREATEDB',
      'CREATEROLE',
      'INHERIT',
      'LOGIN',
      'REPLICATION',
      'SUPERUSER',
    ]);
    assert.deepEqual(byName.no_flags!.attributes, [
      'LOGIN',
      'NOBYPASSRLS',
      'NOCREATEDB',
      'NOCREATEROLE',
      'NOINHERIT',
      'NOREPLICATION',
      'NOSUPERUSER',
    ]);
    assert.deepEqual(byName.group_role!.attributes, []);
    assert.equal(byName.group_role!.password, undefined, 'a NOLOGIN role has no password');
    assert.equal(byName.plain!.password, 'c');
    assert.deepEqual(byName.plain!.admins, ['admin']);
  });

  it('no ADMIN without enable_admin_role_for_users', () => {
    const off = referenceConfig('v2.0.1', { enable_admin_role_for_users: 'false' });
    assert.deepEqual(manifestRoles(clusterWith({ u: [] }), off, {}).roles[0]!.admins, []);
  });
});

describe('infrastructure roles', () => {
  it('legacy format: the v2.0.1 reference Secret and ConfigMap', () => {
    const secret = decoded(
      (readReference('v2.0.1/infrastructure-roles.yaml') as { data: Record<string, string> }).data,
    );
    const configMap = (readReference('v2.0.1/infrastructure-roles-configmap.yaml') as { data: Record<string, string> })
      .data;
    const { roles, notes } = legacyInfrastructureRoles(secret, configMap, 'default/postgresql-infrastructure-roles');
    assert.deepEqual(notes, []);
    assert.deepEqual(roles, [
      role('robot_zmon_acid_monitoring', 'infrastructure', { memberOf: ['robot_zmon'], password: 'foobar' }),
      role('testuser', 'infrastructure', { password: 'testpassword' }),
      role('batman', 'infrastructure', {
        attributes: ['CREATEDB', 'LOGIN'],
        memberOf: ['admin'],
        parameters: { log_statement: 'all' },
        password: 'justice',
      }),
    ]);
  });

  it('legacy format v1.0.0: an entry without a password is ignored, with a note', () => {
    const secret = decoded(
      (readReference('v1.0.0/infrastructure-roles.yaml') as { data: Record<string, string> }).data,
    );
    const { roles, notes } = legacyInfrastructureRoles(secret, undefined, 'default/x');
    assert.deepEqual(
      roles.map((r) => r.name),
      ['testuser'],
    );
    assert.deepEqual(
      notes.map((n) => n.message),
      ['default/x: user1 has no password1; ignored'],
    );
  });

  it('new format: the v2.0.1 reference Secret with the reference definition', () => {
    const parsed = parseInfrastructureRoleDefinitions(
      'secretname:postgresql-infrastructure-roles-new,userkey:user,passwordkey:password,rolekey:inrole',
    );
    assert.deepEqual(parsed.errors, []);
    const secret = decoded(
      (readReference('v2.0.1/infrastructure-roles-new.yaml') as { data: Record<string, string> }).data,
    );
    const { roles } = definedInfrastructureRole(
      parsed.definitions[0]!,
      secret,
      undefined,
      'default/postgresql-infrastructure-roles-new',
    );
    assert.deepEqual(roles, [role('robot_zmon_acid_monitoring_new', 'infrastructure', { password: 'foobar_new' })]);
  });

  it('new format: defaults, several definitions, and precise errors', () => {
    const parsed = parseInfrastructureRoleDefinitions(
      'secretname:ns/a,passwordkey:p,defaultuservalue:fixed,defaultrolevalue:g1;secretname:b,bogus:1;userkey:u',
    );
    assert.deepEqual(parsed.definitions, [
      { secretname: 'ns/a', passwordkey: 'p', defaultuservalue: 'fixed', defaultrolevalue: 'g1' },
    ]);
    assert.deepEqual(parsed.errors, [
      'infrastructure_roles_secrets: "secretname:b,bogus:1": unknown item "bogus:1"',
      'infrastructure_roles_secrets: "userkey:u": no secretname',
    ]);
    const { roles } = definedInfrastructureRole(parsed.definitions[0]!, { p: 'pw' }, undefined, 'ns/a');
    assert.deepEqual(roles, [role('fixed', 'infrastructure', { memberOf: ['g1'], password: 'pw' })]);
  });

  it('bad details in the ConfigMap are reported, not guessed', () => {
    const { roles, notes } = legacyInfrastructureRoles(
      { user1: 'r', password1: 'p' },
      { r: 'user_flags: [superuser, nosuperuser]' },
      'ns/s',
    );
    assert.deepEqual(roles, []);
    assert.deepEqual(
      notes.map((n) => n.message),
      ['ns/s: invalid flags for user "r": conflicting user flags: "SUPERUSER" and "NOSUPERUSER"'],
    );
  });
});

describe('Teams API roles', () => {
  it('LOGIN, no password, pam role and team_admin_role, team_api_role_configuration', () => {
    assert.deepEqual(teamRoles(['jdoe'], [], config), [
      role('jdoe', 'teams-api', {
        memberOf: ['admin', 'zalandos'],
        parameters: { log_statement: 'all' },
        password: null,
      }),
    ]);
  });

  it('SUPERUSER with enable_team_superuser and for superuser teams, then only the pam role', () => {
    const superConfig = referenceConfig('v2.0.1', { enable_team_superuser: 'true' });
    assert.deepEqual(teamRoles(['jdoe'], [], superConfig)[0]!.attributes, ['LOGIN', 'SUPERUSER']);
    assert.deepEqual(teamRoles(['jdoe'], [], superConfig)[0]!.memberOf, ['zalandos']);
    const mixed = teamRoles(['jdoe', 'root'], ['root'], config);
    assert.deepEqual(
      mixed.map((r) => [r.name, r.attributes, r.memberOf]),
      [
        ['jdoe', ['LOGIN'], ['admin', 'zalandos']],
        ['root', ['LOGIN', 'SUPERUSER'], ['zalandos']],
      ],
    );
  });
});

describe('mergeRoles', () => {
  it('priority: system > Teams API > infrastructure > manifest, with a note for each override', () => {
    const { roles, notes } = mergeRoles(
      [
        role('shared', 'manifest', { attributes: ['CREATEDB', 'LOGIN'] }),
        role('shared', 'infrastructure', { password: 'infra' }),
        role('shared', 'teams-api', { password: null }),
        role('infra_over_manifest', 'infrastructure', { password: 'i' }),
        role('infra_over_manifest', 'manifest', { password: 'm' }),
      ],
      config,
    );
    assert.deepEqual(
      roles.map((r) => [r.name, r.origin]),
      [
        ['infra_over_manifest', 'infrastructure'],
        ['shared', 'teams-api'],
      ],
    );
    assert.deepEqual(
      notes.map((n) => n.message),
      [
        'manifest robot role "shared" is also an infrastructure role; the infrastructure role wins',
        'manifest robot role "infra_over_manifest" is also an infrastructure role; the infrastructure role wins',
        'infrastructure role "shared" is also an API role; the API role wins',
      ],
    );
  });

  it('protected and system names are refused for every non-system source', () => {
    const { roles, notes } = mergeRoles(
      [
        role('admin', 'manifest'),
        role('cron_admin', 'infrastructure'),
        role('admin', 'teams-api'),
        role('postgres', 'manifest'),
        role('standby', 'teams-api'),
        role('postgres', 'system'),
      ],
      config,
    );
    assert.deepEqual(
      roles.map((r) => [r.name, r.origin]),
      [['postgres', 'system']],
    );
    assert.deepEqual(
      notes.map((n) => n.message),
      [
        'cannot initialize a new manifest robot role with the name of the protected user "admin"',
        'cannot initialize a new manifest robot role with the name of the system user "postgres"',
        'cannot initialize a new infrastructure role with the name of the protected user "cron_admin"',
        'cannot initialize a new API role with the name of the protected user "admin"',
        'cannot initialize a new API role with the name of the system user "standby"',
      ],
    );
  });

  it('hostile role, group and parameter names are refused with the reason', () => {
    const { roles, notes } = mergeRoles(
      [
        role('x"; DROP ROLE postgres; --', 'teams-api'),
        role('ok', 'infrastructure', {
          memberOf: ['bad;group', 'ok', 'good'],
          parameters: { 'x;y': '1', Log_Statement: "it's" },
        }),
      ],
      config,
    );
    assert.deepEqual(roles, [
      role('ok', 'infrastructure', { memberOf: ['good'], parameters: { log_statement: "it's" } }),
    ]);
    assert.deepEqual(
      notes.map((n) => n.message),
      [
        'role "ok": group "bad;group" skipped: invalid role name "bad;group": must match ^[a-z0-9]([-_a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-_a-z0-9]*[a-z0-9])?)*$',
        'role "ok": group "ok" skipped: a role cannot be its own member',
        'role "ok": parameter "x;y" skipped: invalid parameter name "x;y": must match ^[a-zA-Z_][a-zA-Z0-9_]*(\\.[a-zA-Z_][a-zA-Z0-9_]*)*$',
        'API role refused: invalid role name "x\\"; DROP ROLE postgres; --": must match ^[a-z0-9]([-_a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-_a-z0-9]*[a-z0-9])?)*$',
      ],
    );
  });
});

describe('withoutTeamMemberRoles', () => {
  it('while the Teams API is down, roles that are members of the PAM role are left alone (system roles never)', () => {
    const members = new Map([
      ['jdoe', ['zalandos']],
      ['robot', ['robot_zmon']],
      ['postgres', ['zalandos']],
    ]);
    const { roles, notes } = withoutTeamMemberRoles(
      [
        role('jdoe', 'infrastructure'),
        role('robot', 'infrastructure'),
        role('new', 'manifest'),
        role('postgres', 'system'),
      ],
      members,
      'zalandos',
    );
    assert.deepEqual(
      roles.map((r) => r.name),
      ['robot', 'new', 'postgres'],
    );
    assert.deepEqual(
      notes.map((n) => n.message),
      [`role "jdoe" is a team member's role (member of zalandos); left as it is while the Teams API is unavailable`],
    );
  });
});

describe('desiredState', () => {
  it('the complete v2.0.1 manifest: roles of every source and its database', () => {
    const cluster = validCluster(rawManifest('v2.0.1/complete-postgres-manifest.yaml')).cluster;
    const state = desiredState({
      cluster,
      config,
      passwords: { postgres: 'p', standby: 's', zalando: 'z', foo_user: 'f' },
      infrastructure: [legacyInfrastructureRoles({ user1: 'robot', password1: 'r' }, undefined, 'ns/s')],
      team: { members: ['jdoe'], superuserMembers: [] },
    });
    assert.deepEqual(
      state.roles.map((r) => `${r.origin}:${r.name}`),
      [
        // preparedDatabases.bar: defaultUsers, schemas data and history (history without _user roles)
        ...['data_owner', 'data_reader', 'data_writer', 'history_owner', 'history_reader', 'history_writer']
          .concat(['owner', 'owner_user', 'reader', 'reader_user', 'writer', 'writer_user'])
          .map((r) => `bootstrap:bar_${r}`),
        'manifest:foo_user',
        'teams-api:jdoe',
        'system:postgres',
        'infrastructure:robot',
        'system:standby',
        'manifest:zalando',
      ],
    );
    assert.deepEqual(state.databases, [
      { name: 'bar', owner: 'bar_owner', createOnly: true },
      { name: 'foo', owner: 'zalando' },
    ]);
    assert.deepEqual(state.notes, []);
  });

  it('databases: bad names, system databases and unknown owners are skipped with a note', () => {
    // validatePostgresql refuses such names before this step runs; the roles layer still defends itself.
    const cluster = clusterWith({ owner: [] });
    cluster.spec.databases = { good: 'owner', 'bad-name': 'owner', postgres: 'owner', orphan: 'nobody' };
    const state = desiredState({ cluster, config, passwords: {}, infrastructure: [] });
    assert.deepEqual(
      state.databases.filter((d) => !d.createOnly),
      [{ name: 'good', owner: 'owner' }],
    );
    assert.deepEqual(
      state.notes.map((n) => n.message),
      [
        'database "bad-name" skipped: invalid database name "bad-name": must match ^[a-zA-Z_][a-zA-Z0-9_]*$',
        'database "orphan" skipped: owner "nobody" is not a role of this cluster',
        'database "postgres" skipped: "postgres" is a system database',
      ],
    );
  });
});
