// unsupportedFields: fields accepted but not acted on are reported only when they ask for something.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { PostgresqlSpec } from '../../../lib/model/postgresql';
import { unsupportedFields } from '../../../lib/model/unsupported';

const base = {
  teamId: 'acid',
  numberOfInstances: 1,
  postgresql: { version: '18' },
  volume: { size: '1Gi' },
} as PostgresqlSpec;
const fields = (extra: Record<string, unknown>) => unsupportedFields({ ...base, ...extra } as PostgresqlSpec);

describe('unsupportedFields', () => {
  it('is empty for a minimal spec', () => {
    assert.deepEqual(fields({}), []);
  });

  it('does not report the connection pooler, which is acted on', () => {
    assert.deepEqual(
      fields({
        enableConnectionPooler: true,
        enableReplicaConnectionPooler: true,
        enableMasterPoolerLoadBalancer: true,
        enableReplicaPoolerNodePort: true,
        connectionPooler: { numberOfInstances: 3 },
      }),
      [],
    );
  });

  it('does not report the logical backup, which is acted on', () => {
    assert.deepEqual(fields({ enableLogicalBackup: true, logicalBackupSchedule: '0 1 * * *' }), []);
  });

  it('does not report tls or sidecars, which are acted on', () => {
    assert.deepEqual(fields({ tls: { secretName: 'pg-tls', caFile: 'ca.crt' } }), []);
    assert.deepEqual(fields({ sidecars: [{ name: 'exporter', image: 'exporter:1' }] }), []);
  });

  it('reports empty collections as unset', () => {
    assert.deepEqual(
      fields({ databases: {}, sidecars: [], streams: [], maintenanceWindows: [], preparedDatabases: {} }),
      [],
    );
    assert.deepEqual(fields({ usersWithSecretRotation: null }), []);
  });

  it('reports set collections, sorted', () => {
    assert.deepEqual(
      fields({
        streams: [{ applicationId: 'a', database: 'd', tables: {} }],
        databases: { foo: 'zalando' },
        preparedDatabases: { bar: {} },
      }),
      ['streams'],
    );
  });

  it('reports volume tuning fields with their path', () => {
    assert.deepEqual(fields({ volume: { size: '1Gi', iops: 1000, throughput: 250, type: 'gp3' } }), [
      'volume.iops',
      'volume.throughput',
      'volume.type',
    ]);
  });
});
