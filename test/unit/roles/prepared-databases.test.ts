// Prepared databases (pure): Zalando v1.15.1's defaults, role set, admins and memberships, search_path, Secrets,
// default privileges, and a plan that is empty once the catalog holds everything.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { renderPreparedStatement } from '../../../lib/pg/prepared-databases';
import { UnsafeNameError } from '../../../lib/pg/sql';
import { secretUsers } from '../../../lib/builders/secrets';
import { desiredState } from '../../../lib/roles/desired';
import {
  defaultAclKey,
  OBJECT_TYPES,
  planPreparedDatabase,
  preparedDatabases,
  preparedObjects,
  preparedRoleNames,
  preparedRoles,
  type PreparedCatalog,
  type PreparedDatabase,
  type PreparedStatement,
} from '../../../lib/roles/prepared-databases';
import { rawManifest, referenceConfig, validCluster } from '../reference';

const config = referenceConfig('v2.0.1');
const withPrepared = (preparedDatabases: unknown, name = 'acid-minimal-cluster') => {
  const raw = rawManifest('v2.0.1/minimal-postgres-manifest.yaml') as { metadata: { name: string }; spec: object };
  raw.metadata.name = name;
  raw.spec = { ...raw.spec, preparedDatabases };
  return validCluster(raw).cluster;
};

/** A role as `name member-of-list admin-list search_path LOGIN?`, for compact comparison. */
const shapeOf = (roles: ReturnType<typeof preparedRoles>) =>
  roles.map(
    (r) =>
      `${r.name} ${r.attributes.join()} in[${r.memberOf.join()}] admin[${r.admins.join()}] ${r.parameters.search_path}`,
  );

/** @returns a catalog holding what `statements` would create (as PostgreSQL would after running them) */
function catalogAfter(statements: readonly PreparedStatement[], roles: Set<string>) {
  const schemas = new Map<string, { owner: string; usage: string[] }>();
  const extensions = new Map<string, string>();
  const acl = new Set<string>();
  for (const s of statements) {
    if (s.type === 'create-schema') schemas.set(s.schema, { owner: s.owner, usage: [] });
    if (s.type === 'grant-schema-usage') schemas.get(s.schema)!.usage.push(...s.roles);
    if (s.type === 'default-privileges')
      for (const g of s.grantees)
        for (const p of s.privileges) acl.add(defaultAclKey(s.owner, s.schema ?? '', OBJECT_TYPES[s.objects], g, p));
    if (s.type === 'create-extension' || s.type === 'alter-extension-schema') extensions.set(s.extension, s.schema);
  }
  return { schemas, extensions, defaultAcl: acl, roles } satisfies PreparedCatalog;
}

const empty = (roles: Iterable<string>): PreparedCatalog => ({
  schemas: new Map(),
  extensions: new Map(),
  defaultAcl: new Set(),
  roles: new Set(roles),
});

describe('preparedDatabases: Zalando defaults', () => {
  it('an empty section is a database named like the cluster, - turned into _, with the schema data', () => {
    const { databases, notes } = preparedDatabases(withPrepared({}, 'acid-my-db'));
    assert.deepEqual(databases, [
      {
        name: 'acid_my_db',
        defaultUsers: false,
        schemas: [{ name: 'data', defaultRoles: true, defaultUsers: false }],
        extensions: [],
      },
    ]);
    assert.deepEqual(notes, []);
  });

  it('secretNamespace is reported, and the Secrets stay in the cluster namespace (Zalando without cross-namespace Secrets)', () => {
    const cluster = withPrepared({ foo: { defaultUsers: true, secretNamespace: 'apps' } });
    cluster.metadata.namespace = 'default';
    assert.deepEqual(
      preparedDatabases(cluster, config).notes.map((n) => n.message),
      [
        "spec.preparedDatabases.foo.secretNamespace ignored: Secrets in other namespaces are not supported yet (as Zalando's with enable_cross_namespace_secret off); the Secrets are in the cluster namespace",
      ],
    );
    assert.ok(secretUsers(cluster, config).users.includes('foo_owner_user'));
  });

  it('no section, no prepared database', () => {
    const cluster = withPrepared(undefined);
    delete cluster.spec.preparedDatabases;
    assert.deepEqual(preparedDatabases(cluster).databases, []);
  });

  it('bad names are skipped with a note naming the field', () => {
    const { databases, notes } = preparedDatabases(
      withPrepared({
        'bad-db': {},
        postgres: {},
        good: {
          schemas: { 'bad;schema': {}, ok: { defaultRoles: false, defaultUsers: true } },
          extensions: { 'x"y': 'public', pgcrypto: 'no-such schema', 'uuid-ossp': 'ok' },
        },
      }),
    );
    assert.deepEqual(
      databases.map((d) => [d.name, d.schemas, d.extensions]),
      [['good', [{ name: 'ok', defaultRoles: false, defaultUsers: false }], [{ name: 'uuid-ossp', schema: 'ok' }]]],
    );
    assert.deepEqual(
      notes.map((n) => n.message),
      [
        'spec.preparedDatabases.bad-db skipped: invalid database name "bad-db": must match ^[a-zA-Z_][a-zA-Z0-9_]*$',
        'spec.preparedDatabases.good.schemas.bad;schema skipped: invalid schema name "bad;schema": must match ^[a-zA-Z_][a-zA-Z0-9_]*$',
        'spec.preparedDatabases.good.schemas.ok.defaultUsers ignored: defaultRoles is false, so there are no schema roles',
        'spec.preparedDatabases.good.extensions.pgcrypto skipped: invalid schema name "no-such schema": must match ^[a-zA-Z_][a-zA-Z0-9_]*$',
        'spec.preparedDatabases.good.extensions.x"y skipped: invalid extension name "x\\"y": must match ^[a-zA-Z_][a-zA-Z0-9_-]*$',
        'spec.preparedDatabases.postgres skipped: "postgres" is a system database',
      ],
    );
  });
});

describe('preparedRoles: the role set of docs/user.md', () => {
  it('the v2.0.1 minimal manifest (bar: {}): six NOLOGIN roles, no Secrets', () => {
    const cluster = validCluster(rawManifest('v2.0.1/minimal-postgres-manifest.yaml')).cluster;
    const roles = preparedRoles(preparedDatabases(cluster).databases, config, {});
    assert.deepEqual(shapeOf(roles), [
      'bar_owner NOLOGIN in[] admin[admin] "$user", "data"',
      'bar_reader NOLOGIN in[] admin[bar_owner] "$user", "data"',
      'bar_writer NOLOGIN in[bar_reader] admin[bar_owner] "$user", "data"',
      'bar_data_owner NOLOGIN in[] admin[bar_owner] "$user", "data"',
      'bar_data_reader NOLOGIN in[] admin[bar_data_owner] "$user", "data"',
      'bar_data_writer NOLOGIN in[bar_data_reader] admin[bar_data_owner] "$user", "data"',
    ]);
    assert.ok(roles.every((r) => r.origin === 'bootstrap' && !('password' in r)));
    assert.deepEqual(secretUsers(cluster, config).users, ['postgres', 'standby', 'foo_user', 'zalando']);
  });

  it('the complete manifest: _user LOGIN roles with their Secrets; history without _user roles', () => {
    const cluster = validCluster(rawManifest('v2.0.1/complete-postgres-manifest.yaml')).cluster;
    const passwords = { bar_owner_user: 'o', bar_reader_user: 'r', bar_writer_user: 'w' };
    const roles = preparedRoles(preparedDatabases(cluster).databases, config, passwords);
    assert.deepEqual(shapeOf(roles), [
      'bar_owner NOLOGIN in[] admin[admin] "$user", "data", "history"',
      'bar_reader NOLOGIN in[] admin[bar_owner] "$user", "data", "history"',
      'bar_writer NOLOGIN in[bar_reader] admin[bar_owner] "$user", "data", "history"',
      'bar_owner_user LOGIN in[bar_owner] admin[admin] "$user", "data", "history"',
      'bar_reader_user LOGIN in[bar_reader] admin[bar_owner] "$user", "data", "history"',
      'bar_writer_user LOGIN in[bar_writer] admin[bar_owner] "$user", "data", "history"',
      'bar_data_owner NOLOGIN in[] admin[bar_owner] "$user", "data"',
      'bar_data_reader NOLOGIN in[] admin[bar_data_owner] "$user", "data"',
      'bar_data_writer NOLOGIN in[bar_data_reader] admin[bar_data_owner] "$user", "data"',
      'bar_history_owner NOLOGIN in[] admin[bar_owner] "$user", "history"',
      'bar_history_reader NOLOGIN in[] admin[bar_history_owner] "$user", "history"',
      'bar_history_writer NOLOGIN in[bar_history_reader] admin[bar_history_owner] "$user", "history"',
    ]);
    assert.deepEqual(
      roles.filter((r) => r.password !== undefined).map((r) => [r.name, r.password]),
      [
        ['bar_owner_user', 'o'],
        ['bar_reader_user', 'r'],
        ['bar_writer_user', 'w'],
      ],
    );
    assert.deepEqual(secretUsers(cluster, config).users.slice(-3), [
      'bar_owner_user',
      'bar_reader_user',
      'bar_writer_user',
    ]);
  });

  it('schema _user roles, and the owner roles get additional_owner_roles', () => {
    const cluster = withPrepared({ foo: { schemas: { s: { defaultUsers: true } } } });
    const roles = preparedRoles(
      preparedDatabases(cluster).databases,
      { ...config, additional_owner_roles: ['cron_admin'] },
      {},
    );
    assert.deepEqual(
      shapeOf(roles).filter((r) => r.startsWith('foo_s_') || r.startsWith('foo_owner')),
      [
        'foo_owner NOLOGIN in[cron_admin] admin[admin] "$user", "s"',
        'foo_s_owner NOLOGIN in[cron_admin] admin[foo_owner] "$user", "s"',
        'foo_s_reader NOLOGIN in[] admin[foo_s_owner] "$user", "s"',
        'foo_s_writer NOLOGIN in[foo_s_reader] admin[foo_s_owner] "$user", "s"',
        'foo_s_owner_user LOGIN in[cron_admin,foo_s_owner] admin[foo_owner] "$user", "s"',
        'foo_s_reader_user LOGIN in[foo_s_reader] admin[foo_s_owner] "$user", "s"',
        'foo_s_writer_user LOGIN in[foo_s_writer] admin[foo_s_owner] "$user", "s"',
      ],
    );
  });

  it('desiredState: bootstrap roles win a name clash with a manifest user; the database is created, never re-owned', () => {
    const cluster = withPrepared({ bar: {} });
    cluster.spec.users = { ...cluster.spec.users, bar_reader: ['login'] };
    const state = desiredState({ cluster, config, passwords: {}, infrastructure: [] });
    assert.equal(state.roles.find((r) => r.name === 'bar_reader')?.origin, 'bootstrap');
    assert.deepEqual(
      state.databases.find((d) => d.name === 'bar'),
      { name: 'bar', owner: 'bar_owner', createOnly: true },
    );
    assert.deepEqual(
      state.notes.map((n) => n.message),
      ['manifest robot role "bar_reader" is also a bootstrap role; the bootstrap role wins'],
    );
    // a database whose owner role is refused (63 bytes at most) is neither created nor prepared
    const long = 'x'.repeat(60);
    const refused = withPrepared({ [long]: {} });
    const none = desiredState({ cluster: refused, config, passwords: {}, infrastructure: [] });
    assert.deepEqual([none.databases.filter((d) => d.createOnly), none.prepared], [[], []]);
    assert.ok(
      none.notes.some((n) => n.message.startsWith(`bootstrap role refused: invalid role name "${long}_owner"`)),
    );
    // spec.databases names the same database: its owner is the one kept, as in Zalando
    cluster.spec.databases = { bar: 'zalando' };
    const both = desiredState({ cluster, config, passwords: {}, infrastructure: [] });
    assert.deepEqual(
      both.databases.find((d) => d.name === 'bar'),
      { name: 'bar', owner: 'zalando' },
    );
  });
});

describe('preparedObjects and planPreparedDatabase', () => {
  const minimal = preparedDatabases(validCluster(rawManifest('v2.0.1/minimal-postgres-manifest.yaml')).cluster)
    .databases[0]!;

  it('minimal: schema data owned by bar_data_owner, USAGE for both reader/writer pairs, Zalando default privileges', () => {
    const objects = preparedObjects(minimal);
    assert.deepEqual(objects.schemas, [{ name: 'data', owner: 'bar_data_owner' }]);
    assert.deepEqual(objects.schemaUsage, [
      { schema: 'data', roles: ['bar_data_reader', 'bar_data_writer', 'bar_reader', 'bar_writer'] },
    ]);
    const owners = [...new Set(objects.defaultPrivileges.map((p) => `${p.owner}@${p.schema ?? '*'}`))];
    // database-wide for bar_owner; in schema data for bar_data_owner (towards bar_*) and both owners (towards bar_data_*)
    assert.deepEqual(owners, ['bar_owner@*', 'bar_data_owner@data', 'bar_owner@data']);
    const global = objects.defaultPrivileges.filter((p) => p.schema === undefined);
    assert.deepEqual(
      global.map((p) => `${p.privileges.join(',')} ON ${p.objects} TO ${p.grantees.join(',')}`),
      [
        'USAGE ON SCHEMAS TO bar_reader,bar_writer',
        'SELECT ON TABLES TO bar_reader',
        'SELECT ON SEQUENCES TO bar_reader',
        'INSERT,UPDATE,DELETE ON TABLES TO bar_writer',
        'USAGE,UPDATE ON SEQUENCES TO bar_writer',
        'EXECUTE ON FUNCTIONS TO bar_reader,bar_writer',
        'USAGE ON TYPES TO bar_reader,bar_writer',
      ],
    );
  });

  it('a fresh database: everything is planned in order; once done the plan is empty (idempotent)', () => {
    const database: PreparedDatabase = { ...minimal, extensions: [{ name: 'pgcrypto', schema: 'data' }] };
    const roles = new Set(preparedRoleNames(preparedObjects(database)));
    const first = planPreparedDatabase(database, empty(roles));
    assert.deepEqual(first.notes, []);
    const types = first.statements.map((s) => s.type);
    assert.deepEqual(
      [...new Set(types)],
      ['create-schema', 'grant-schema-usage', 'default-privileges', 'create-extension'],
    );
    // database-wide for bar_owner; in data: bar_data_owner -> bar_*, bar_owner and bar_data_owner -> bar_data_*
    assert.equal(types.filter((t) => t === 'default-privileges').length, 7 + 3 * 6);
    const second = planPreparedDatabase(database, catalogAfter(first.statements, roles));
    assert.deepEqual(second, { statements: [], notes: [] });
  });

  it('only what is missing: one lost default privilege and an extension in another schema', () => {
    const database: PreparedDatabase = { ...minimal, extensions: [{ name: 'pgcrypto', schema: 'data' }] };
    const roles = new Set(preparedRoleNames(preparedObjects(database)));
    const done = catalogAfter(planPreparedDatabase(database, empty(roles)).statements, roles);
    const acl = new Set(done.defaultAcl);
    acl.delete(defaultAclKey('bar_owner', 'data', 'r', 'bar_data_writer', 'DELETE'));
    const plan = planPreparedDatabase(database, {
      ...done,
      defaultAcl: acl,
      extensions: new Map([['pgcrypto', 'public']]),
    });
    assert.deepEqual(
      plan.statements.map((s) => s.reason),
      [
        'database bar: default privileges of bar_owner in schema data: INSERT, UPDATE, DELETE on tables for bar_data_writer',
        'database bar: move extension pgcrypto from schema public to data',
      ],
    );
  });

  it('waits for missing roles and schemas with a note instead of failing', () => {
    const database: PreparedDatabase = { ...minimal, extensions: [{ name: 'postgis', schema: 'gis' }] };
    const plan = planPreparedDatabase(database, empty(['bar_owner', 'bar_reader', 'bar_writer']));
    assert.ok(plan.statements.every((s) => s.type === 'default-privileges' && s.schema === undefined));
    assert.deepEqual(
      plan.notes.map((n) => n.message),
      [
        'database bar: extension postgis waits for schema "gis", which does not exist',
        'database bar: privileges wait for roles that do not exist: bar_data_owner, bar_data_reader, bar_data_writer',
      ],
    );
  });

  it('a schema without default roles is owned by <db>_owner; _user owners get privileges too', () => {
    const [database] = preparedDatabases(
      withPrepared({ foo: { defaultUsers: true, schemas: { plain: { defaultRoles: false } } } }),
    ).databases;
    const objects = preparedObjects(database!);
    assert.deepEqual(objects.schemas, [{ name: 'plain', owner: 'foo_owner' }]);
    assert.deepEqual(objects.schemaUsage, [{ schema: 'plain', roles: ['foo_reader', 'foo_writer'] }]);
    assert.deepEqual(
      [...new Set(objects.defaultPrivileges.map((p) => `${p.owner}@${p.schema ?? '*'}`))],
      ['foo_owner@*', 'foo_owner_user@*', 'foo_owner@plain', 'foo_owner_user@plain'],
    );
  });
});

describe('renderPreparedStatement', () => {
  it('quotes every name and refuses bad ones', () => {
    assert.equal(
      renderPreparedStatement({
        type: 'default-privileges',
        owner: 'bar_owner',
        schema: 'data',
        objects: 'TABLES',
        privileges: ['INSERT', 'UPDATE', 'DELETE'],
        grantees: ['bar_writer'],
        reason: '',
      }),
      'ALTER DEFAULT PRIVILEGES FOR ROLE "bar_owner" IN SCHEMA "data" GRANT INSERT, UPDATE, DELETE ON TABLES TO "bar_writer"',
    );
    assert.equal(
      renderPreparedStatement({
        type: 'create-extension',
        extension: 'uuid-ossp',
        schema: 'data',
        owner: 'x',
        reason: '',
      }),
      'CREATE EXTENSION IF NOT EXISTS "uuid-ossp" SCHEMA "data"',
    );
    assert.equal(
      renderPreparedStatement({ type: 'create-schema', schema: 'data', owner: 'bar_data_owner', reason: '' }),
      'CREATE SCHEMA IF NOT EXISTS "data" AUTHORIZATION "bar_data_owner"',
    );
    assert.throws(
      () => renderPreparedStatement({ type: 'grant-schema-usage', schema: 'x"; DROP', roles: ['r'], reason: '' }),
      UnsafeNameError,
    );
    assert.throws(
      () =>
        renderPreparedStatement({
          type: 'default-privileges',
          owner: 'o',
          objects: 'TABLES',
          privileges: ['ALL; DROP'],
          grantees: ['r'],
          reason: '',
        }),
      UnsafeNameError,
    );
  });
});
