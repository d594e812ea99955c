// PostgresTeam objects -> a cluster's teams and members; team member deprecation; RESET ALL; owner roles; the
// Secret of a manifest user that is also an infrastructure role. Pure functions, no server.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseOperatorConfig, type OperatorConfig } from '../../../lib/model/config';
import { parsePostgresTeam } from '../../../lib/model/postgres-team';
import { postgresTeamCrd } from '../../../lib/model/postgres-team-crd';
import { renderPostgresTeamCrdYaml } from '../../../lib/model/crd-yaml';
import { deprecatedNames, planDeprecation } from '../../../lib/roles/deprecation';
import { desiredState } from '../../../lib/roles/desired';
import { planRoles } from '../../../lib/roles/plan';
import { clusterTeams, mergePostgresTeams, teamMembers } from '../../../lib/roles/postgres-teams';
import { renderStatement } from '../../../lib/pg/sql';
import type { DesiredRole } from '../../../lib/roles/types';
import { catalogOf, catalogRole } from './fixtures';
import type { Postgresql } from '../../../lib/model/postgresql';
import { readFileSync } from 'node:fs';
import { REPO_ROOT } from '../reference';

const config = (data: Record<string, string> = {}): OperatorConfig => {
  const parsed = parseOperatorConfig(data);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return parsed.config;
};

const row = catalogRole;
const teamRole = (name: string): DesiredRole => ({
  name,
  origin: 'teams-api',
  attributes: ['LOGIN'],
  memberOf: ['zalandos'],
  admins: [],
  parameters: {},
  password: null,
});

describe('PostgresTeam objects', () => {
  // Zalando's manifests/custom-team-membership.yaml and its e2e test's second object, merged.
  const map = mergePostgresTeams([
    {
      additionalSuperuserTeams: { acid: ['postgres_superusers'] },
      additionalTeams: { acid: [] },
      additionalMembers: { acid: ['elephant'] },
    },
    {
      additionalTeams: { acid: ['e2e'], e2e: ['bi', 'acid'] },
      additionalMembers: { e2e: ['kind', 'tester'], acid: ['elephant'] },
    },
    { additionalMembers: { bi: null } },
  ]);

  it('are merged into one map per team id, lists unioned and sorted, null lists empty', () => {
    assert.deepEqual(map.get('acid'), {
      additionalSuperuserTeams: ['postgres_superusers'],
      additionalTeams: ['e2e'],
      additionalMembers: ['elephant'],
    });
    assert.deepEqual(map.get('bi'), { additionalSuperuserTeams: [], additionalTeams: [], additionalMembers: [] });
  });

  it('give a cluster the transitive additional teams, without itself, and superuser teams only when allowed', () => {
    const off = clusterTeams('acid', map, { postgres_superuser_teams: [], enable_postgres_team_crd_superusers: false });
    assert.deepEqual(off.superuserTeams, []);
    assert.deepEqual(off.teams, ['acid', 'bi', 'e2e']);
    assert.deepEqual(off.additionalMembers, { acid: ['elephant'], e2e: ['kind', 'tester'] });
    const on = clusterTeams('acid', map, {
      postgres_superuser_teams: ['bi'],
      enable_postgres_team_crd_superusers: true,
    });
    assert.deepEqual(on.superuserTeams, ['bi', 'postgres_superusers']);
    assert.deepEqual(on.teams, ['acid', 'e2e']);
  });

  it('an owning team that is a superuser team gets superuser roles only', () => {
    const teams = clusterTeams('acid', map, {
      postgres_superuser_teams: ['acid'],
      enable_postgres_team_crd_superusers: false,
    });
    assert.deepEqual(teams.teams, ['bi', 'e2e']);
    const members = teamMembers(teams, { acid: ['alice'], e2e: ['alice', 'bob'] });
    assert.deepEqual(members, { members: ['bob', 'kind', 'tester'], superuserMembers: ['alice', 'elephant'] });
  });

  it('without the CRD a cluster has its own team and the postgres_superuser_teams; no team id, no team', () => {
    assert.deepEqual(
      clusterTeams('acid', undefined, { postgres_superuser_teams: ['su'], enable_postgres_team_crd_superusers: true }),
      {
        superuserTeams: ['su'],
        teams: ['acid'],
        additionalMembers: {},
      },
    );
    assert.deepEqual(
      clusterTeams('', map, { postgres_superuser_teams: [], enable_postgres_team_crd_superusers: true }).teams,
      [],
    );
  });

  it('an object that does not match the schema is named with the field', () => {
    const bad = parsePostgresTeam({
      metadata: { name: 't', namespace: 'n' },
      spec: { additionalMembers: { acid: 'elephant' } },
    });
    assert.equal(bad.ok, false);
    assert.match(!bad.ok ? `${bad.name} ${bad.problem}` : '', /^n\/t spec\.additionalMembers\.acid: /);
  });

  it('the CRD has Zalando names and the committed YAML is current', () => {
    const crd = postgresTeamCrd() as {
      metadata: { name: string };
      spec: { names: { shortNames: string[]; kind: string } };
    };
    assert.equal(crd.metadata.name, 'postgresteams.acid.zalan.do');
    assert.deepEqual(crd.spec.names.shortNames, ['pgteam']);
    assert.equal(crd.spec.names.kind, 'PostgresTeam');
    assert.ok(
      readFileSync(`${REPO_ROOT}manifests/postgresteam.crd.yaml`, 'utf8') === renderPostgresTeamCrdYaml(),
      'manifests/postgresteam.crd.yaml is out of date: run `npm run crd`',
    );
  });
});

describe('team member deprecation', () => {
  it('a removed member is set NOLOGIN and renamed; one already deprecated or still wanted is left alone', () => {
    const plan = planDeprecation(
      [teamRole('alice')],
      catalogOf([
        row('alice', { memberOf: ['zalandos'] }),
        row('bob', { memberOf: ['zalandos'] }),
        row('carol_deleted', { login: false }),
      ]),
      ['alice', 'bob', 'carol_deleted'],
      '_deleted',
    );
    assert.deepEqual(plan.statements.map(renderStatement), [
      'ALTER ROLE "bob" WITH NOLOGIN',
      'ALTER ROLE "bob" RENAME TO "bob_deleted"',
    ]);
    assert.equal(plan.catalog.roles.has('bob'), false);
  });

  it('a returning member gets its role back: renamed, then LOGIN from the role plan', () => {
    const roles = [teamRole('bob')];
    assert.deepEqual(deprecatedNames(roles, '_deleted'), ['bob_deleted']);
    const deprecation = planDeprecation(
      roles,
      catalogOf([row('bob_deleted', { login: false, memberOf: ['zalandos'] }), row('zalandos', { login: false })]),
      ['bob_deleted'],
      '_deleted',
    );
    assert.deepEqual(deprecation.statements.map(renderStatement), ['ALTER ROLE "bob_deleted" RENAME TO "bob"']);
    const plan = planRoles(roles, deprecation.catalog, { encryption: 'md5', salt: () => Buffer.alloc(16) });
    assert.deepEqual(plan.statements.map(renderStatement), ['ALTER ROLE "bob" WITH LOGIN']);
  });

  it('a name that would clash or grow too long is reported, not renamed', () => {
    const long = 'x'.repeat(60);
    const plan = planDeprecation([], catalogOf([row('bob'), row('bob_deleted'), row(long)]), ['bob', long], '_deleted');
    assert.deepEqual(plan.statements, []);
    assert.equal(plan.notes.length, 2);
    assert.match(plan.notes[0]!.message, /"bob_deleted": a role of that name exists/);
  });
});

describe('role parameters', () => {
  const role = (parameters: Record<string, string>): DesiredRole => ({ ...teamRole('alice'), parameters });
  const options = { encryption: 'md5' as const, salt: () => Buffer.alloc(16) };

  it('a setting no source asks for any more is reset (RESET ALL, then every wanted one set again)', () => {
    const plan = planRoles(
      [role({ log_statement: 'all' })],
      catalogOf([
        row('alice', { memberOf: ['zalandos'], parameters: { log_statement: 'all', work_mem: '64MB' } }),
        row('zalandos'),
      ]),
      options,
    );
    assert.deepEqual(plan.statements.map(renderStatement), [
      'ALTER ROLE "alice" RESET ALL',
      `ALTER ROLE "alice" SET "log_statement" TO 'all'`,
    ]);
  });

  it('matching settings need nothing; a role asking for none keeps what it has (as Zalando)', () => {
    const rows = catalogOf([
      row('alice', { memberOf: ['zalandos'], parameters: { log_statement: 'all' } }),
      row('zalandos'),
    ]);
    assert.deepEqual(planRoles([role({ log_statement: 'all' })], rows, options).statements, []);
    assert.deepEqual(planRoles([role({})], rows, options).statements, []);
  });
});

describe('owners and Secrets', () => {
  const cluster = {
    apiVersion: 'acid.zalan.do/v1',
    kind: 'postgresql',
    metadata: { name: 'acid-test', namespace: 'default' },
    spec: {
      teamId: 'acid',
      numberOfInstances: 1,
      volume: { size: '1Gi' },
      postgresql: { version: '16' },
      users: { app: [], reader: [], shared: [] },
      databases: { app: 'app', other: 'shared' },
    },
  } as unknown as Postgresql;

  it('database owners of the manifest are members of additional_owner_roles; other users are not', () => {
    const state = desiredState({
      cluster,
      config: config({ additional_owner_roles: 'cron_admin,part_man' }),
      passwords: { app: 'a', reader: 'r', shared: 's' },
      infrastructure: [],
    });
    const memberOf = Object.fromEntries(state.roles.map((r) => [r.name, r.memberOf]));
    assert.deepEqual(memberOf.app, ['cron_admin', 'part_man']);
    assert.deepEqual(memberOf.shared, ['cron_admin', 'part_man']);
    assert.deepEqual(memberOf.reader, []);
  });

  it('a manifest user that is also an infrastructure role takes its password, and a note says the Secret follows', () => {
    const infra: DesiredRole = {
      ...teamRole('shared'),
      origin: 'infrastructure',
      memberOf: [],
      parameters: {},
      password: 'infra-pw',
    };
    const state = desiredState({
      cluster,
      config: config({ additional_owner_roles: 'cron_admin' }),
      passwords: { app: 'a', reader: 'r', shared: 's' },
      infrastructure: [{ roles: [infra], notes: [] }],
    });
    const shared = state.roles.find((r) => r.name === 'shared')!;
    assert.equal(shared.password, 'infra-pw');
    assert.deepEqual(shared.memberOf, [], 'the infrastructure role won: no owner roles, as in Zalando');
    assert.ok(
      state.notes.some(
        (n) =>
          n.message ===
          'the Secret of manifest user "shared" holds the password of the infrastructure role of that name',
      ),
    );
  });

  it("a role whose password is not its Secret's is named in a note; another encryption of the same one is not", () => {
    const options = { encryption: 'scram-sha-256' as const, salt: () => Buffer.alloc(16, 1), strictEncryption: false };
    const wanted: DesiredRole = {
      ...teamRole('app'),
      origin: 'manifest',
      memberOf: [],
      parameters: {},
      password: 'secret',
    };
    const other = planRoles([wanted], catalogOf([row('app', { password: 'md5' + '0'.repeat(32) })]), options);
    assert.match(other.notes[0]!.message, /^role "app" logged in with a password other than its Secret's/);
    assert.equal(other.statements.length, 1);
  });
});
