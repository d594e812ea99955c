// patroniConfigChange: the PATCH /config that brings Patroni's dynamic configuration to the manifest's.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { patroniConfigChange, patroniConfigReport, patroniConfigWanted } from '../../../lib/plan/patroni-config';

const current = {
  ttl: 30,
  loop_wait: 10,
  retry_timeout: 10,
  maximum_lag_on_failover: 33554432,
  postgresql: { use_pg_rewind: true, parameters: { max_connections: 100, wal_level: 'replica', work_mem: '4MB' } },
  slots: { keep: { type: 'physical' } },
};

describe('patroniConfigChange', () => {
  it('is undefined when Patroni holds what the manifest sets, numbers and their text alike', () => {
    assert.equal(patroniConfigChange({}, current), undefined);
    assert.equal(
      patroniConfigChange(
        { ttl: 30, postgresql: { parameters: { max_connections: '100' } }, slots: { keep: { type: 'physical' } } },
        current,
      ),
      undefined,
    );
  });

  it('patches only what differs: top-level keys, single parameters and slots; says what changes', () => {
    const change = patroniConfigChange(
      {
        ttl: 20,
        loop_wait: 10,
        synchronous_mode: true,
        postgresql: { parameters: { max_connections: '200', wal_level: 'replica', log_min_duration_statement: '250' } },
        slots: { keep: { type: 'physical' }, cdc: { type: 'logical', database: 'app', plugin: 'pgoutput' } },
      },
      current,
    );
    assert.deepEqual(change, {
      patch: {
        ttl: 20,
        synchronous_mode: true,
        postgresql: { parameters: { max_connections: '200', log_min_duration_statement: '250' } },
        slots: { cdc: { type: 'logical', database: 'app', plugin: 'pgoutput' } },
      },
      changes: [
        'ttl: 30 -> 20',
        'synchronous_mode: (unset) -> true',
        'postgresql.parameters.max_connections: 100 -> 200',
        'postgresql.parameters.log_min_duration_statement: (unset) -> 250',
        'slots.cdc: (unset) -> {"type":"logical","database":"app","plugin":"pgoutput"}',
      ],
    });
  });

  it('leaves alone what the manifest does not set: other parameters, use_pg_rewind, slots it does not name', () => {
    const change = patroniConfigChange({ postgresql: { parameters: { work_mem: '8MB' } } }, current);
    assert.deepEqual(change?.patch, { postgresql: { parameters: { work_mem: '8MB' } } });
  });

  it('compares a slot as a whole, whatever its key order', () => {
    const slot = { type: 'logical', database: 'app', plugin: 'pgoutput' };
    const reordered = { plugin: 'pgoutput', database: 'app', type: 'logical' };
    assert.equal(patroniConfigChange({ slots: { cdc: slot } }, { slots: { cdc: reordered } }), undefined);
    assert.deepEqual(
      patroniConfigChange({ slots: { cdc: slot } }, { slots: { cdc: { ...reordered, database: 'other' } } })?.patch,
      { slots: { cdc: slot } },
    );
  });
});

describe('patroniConfigWanted', () => {
  it('asks Patroni only when the manifest sets some of it and there is a pod to ask', () => {
    assert.equal(patroniConfigWanted({ ttl: 20 }, 2), true);
    assert.equal(patroniConfigWanted({}, 2), false);
    assert.equal(patroniConfigWanted({ ttl: 20 }, 0), false);
  });
});

describe('patroniConfigReport', () => {
  const change = {
    patch: { ttl: 20 },
    changes: ['ttl: 30 -> 20', 'postgresql.parameters.max_connections: 100 -> 200'],
  };

  it('reports a change made as one Event naming the member and every difference', () => {
    assert.deepEqual(patroniConfigReport({ outcome: 'patched', change, via: 'acid-a-1' }), {
      events: [
        {
          type: 'Normal',
          reason: 'PatroniConfigUpdated',
          message:
            "Updated Patroni's dynamic configuration (through acid-a-1): ttl: 30 -> 20, postgresql.parameters.max_connections: 100 -> 200; " +
            'a parameter that needs a restart takes effect when the pods next restart',
        },
      ],
    });
  });

  it('asks for the Lease when a change is due, and reports nothing when none is', () => {
    assert.deepEqual(patroniConfigReport({ outcome: 'needs-write', change }), { events: [], needsLease: true });
    assert.deepEqual(patroniConfigReport({ outcome: 'unchanged' }), { events: [] });
  });

  it('turns a failure into a warning to log, not an error of the sync', () => {
    assert.deepEqual(patroniConfigReport({ outcome: 'error', error: 'acid-a-0: timeout' }), {
      events: [],
      warning: 'acid-a-0: timeout',
    });
  });
});
