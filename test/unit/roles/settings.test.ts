// Connection settings from the environment, the Teams API token Secret, and role parameter values.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connectionDefaults, masterAddress } from '../../../lib/pg/connection';
import { parameterMatches, parameterValues } from '../../../lib/roles/parameters';
import { teamsApiToken } from '../../../lib/teams/token';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('connection settings', () => {
  it('default: the master Service name, port 5432, sslmode require, 5s/30s/2m', () => {
    const d = connectionDefaults({});
    assert.deepEqual(d, {
      hostTemplate: '{cluster}.{namespace}.svc.{cluster_domain}',
      ssl: 'require',
      connectTimeoutMs: 5000,
      statementTimeoutMs: 30000,
      overallTimeoutMs: 120000,
    });
    assert.deepEqual(masterAddress(d.hostTemplate, 'acid-x', 'ns', 'cluster.local'), {
      host: 'acid-x.ns.svc.cluster.local',
      port: 5432,
    });
  });

  it('a template with a port, IPv6, and Go durations', () => {
    const d = connectionDefaults({
      POSTGRES_HOST_TEMPLATE: '127.0.0.1:6543',
      POSTGRES_SSLMODE: 'disable',
      POSTGRES_CONNECT_TIMEOUT: '1500ms',
      POSTGRES_OVERALL_TIMEOUT: '1m',
    });
    assert.deepEqual(masterAddress(d.hostTemplate, 'c', 'n', 'd'), { host: '127.0.0.1', port: 6543 });
    assert.deepEqual([d.ssl, d.connectTimeoutMs, d.overallTimeoutMs], ['disable', 1500, 60000]);
    assert.deepEqual(masterAddress('[::1]:7000', 'c', 'n', 'd'), { host: '::1', port: 7000 });
  });

  it('bad values name the variable', () => {
    assert.throws(
      () => connectionDefaults({ POSTGRES_SSLMODE: 'prefer' }),
      /invalid POSTGRES_SSLMODE "prefer": expected disable, require or verify-full/,
    );
    assert.throws(
      () => connectionDefaults({ POSTGRES_STATEMENT_TIMEOUT: '10' }),
      /invalid POSTGRES_STATEMENT_TIMEOUT "10"/,
    );
    assert.throws(() => masterAddress('{cluster}:99999', 'c', 'n', 'd'), /invalid port/);
  });
});

describe('Teams API token', () => {
  it('needs read-only-token-type Bearer and a token; messages hold no Secret data', () => {
    assert.deepEqual(
      teamsApiToken({ 'read-only-token-type': b64('Bearer'), 'read-only-token-secret': b64('testtoken') }, 'ns/s'),
      { ok: true, token: 'testtoken' },
    );
    const wrong = teamsApiToken(
      { 'read-only-token-type': b64('Basic'), 'read-only-token-secret': b64('s3cr3t') },
      'ns/s',
    );
    assert.deepEqual(wrong, { ok: false, error: 'wrong token type in ns/s: read-only-token-type must be "Bearer"' });
    assert.deepEqual(teamsApiToken(undefined, 'ns/s'), {
      ok: false,
      error: 'the Teams API token Secret ns/s does not exist',
    });
    assert.deepEqual(teamsApiToken({ 'read-only-token-type': b64('Bearer') }, 'ns/s'), {
      ok: false,
      error: 'the Teams API token Secret ns/s has no read-only-token-secret',
    });
  });
});

describe('role parameter values', () => {
  it('outer single quotes are removed; list settings are split into literals', () => {
    assert.deepEqual(parameterValues('log_statement', 'all'), ['all']);
    assert.deepEqual(parameterValues('log_statement', "'all'"), ['all']);
    assert.deepEqual(parameterValues('search_path', `'"$user", public'`), ['$user', 'public']);
    assert.ok(parameterMatches('search_path', '"$user", public', `'"$user", public'`));
    assert.ok(!parameterMatches('search_path', 'public', `'"$user", public'`));
    assert.ok(!parameterMatches('log_statement', undefined, 'all'));
  });
});
