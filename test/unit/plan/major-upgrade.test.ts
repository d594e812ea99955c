import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decideMajorUpgrade,
  desiredMajorVersion,
  majorUpgradeReport,
  reportsStreaming,
  runningVersionKnown,
  upgradeCommand,
  upToDateMessage,
  type MajorUpgradeInputs,
} from '../../../lib/plan/major-upgrade';
import { buildEdited, referenceConfig } from '../reference';
import { fleetDecision } from '../../../lib/plan/fleet';

const manual = {
  major_version_upgrade_mode: 'manual',
  major_version_upgrade_team_allow_list: [] as string[],
  minimal_major_version: '14',
  target_major_version: '18',
};

/** A two-member cluster on PostgreSQL 15 whose manifest asks for 16, healthy, no windows. */
function inputs(over: Partial<MajorUpgradeInputs> = {}): MajorUpgradeInputs {
  return {
    specVersion: '16',
    teamId: 'acid',
    config: manual,
    window: { open: true },
    pods: 2,
    master: { pod: 'c-0', serverVersion: 150004, patroniVersion: '3.0.2' },
    standby: false,
    members: [
      { name: 'c-0', role: 'leader', state: 'running' },
      { name: 'c-1', role: 'replica', state: 'running', lag: 0 },
    ],
    ...over,
  };
}

describe('desiredMajorVersion', () => {
  it('is the manifest version in manual and off modes', () => {
    assert.equal(desiredMajorVersion('13', manual), '13');
    assert.equal(desiredMajorVersion('13', { ...manual, major_version_upgrade_mode: 'off' }), '13');
  });
  it('is target_major_version in full mode below minimal_major_version, else the manifest version', () => {
    const full = { ...manual, major_version_upgrade_mode: 'full' };
    assert.equal(desiredMajorVersion('13', full), '18');
    assert.equal(desiredMajorVersion('14', full), '14');
    assert.equal(desiredMajorVersion('17', full), '17');
  });
});

describe('decideMajorUpgrade', () => {
  it('runs the upgrade in the master pod with the number of pods when everything is ready', () => {
    assert.deepEqual(decideMajorUpgrade(inputs()), { kind: 'upgrade', pod: 'c-0', members: 2, from: 15, to: 16 });
  });

  it('does nothing when the running major is the desired one, and clears a failure annotation then', () => {
    assert.deepEqual(decideMajorUpgrade(inputs({ specVersion: '15' })), {
      kind: 'up-to-date',
      running: 15,
      clearFailure: false,
    });
    const failed = decideMajorUpgrade(inputs({ specVersion: '15', failedAt: '2030-01-01T00:00:00Z' }));
    assert.deepEqual(failed, { kind: 'up-to-date', running: 15, clearFailure: true });
  });

  it('refuses a downgrade, naming spec.postgresql.version and the running version', () => {
    const d = decideMajorUpgrade(inputs({ specVersion: '14' }));
    assert.equal(d.kind, 'refused');
    assert.match(
      (d as { message: string }).message,
      /spec\.postgresql\.version 14 .*lower than the running PostgreSQL 15/,
    );
  });

  it('refuses a version an in-place upgrade cannot go to', () => {
    const d = decideMajorUpgrade(inputs({ specVersion: '19' }));
    assert.equal(d.kind, 'refused');
    assert.match(
      (d as { message: string }).message,
      /spec\.postgresql\.version 19: in-place upgrades go to PostgreSQL 13 to 18/,
    );
    const old = decideMajorUpgrade(inputs({ specVersion: '9.6' }));
    assert.equal(old.kind, 'refused');
  });

  it('with mode off holds the upgrade and says so (no silent pass), unless the team is allowed', () => {
    const off = { ...manual, major_version_upgrade_mode: 'off' };
    const d = decideMajorUpgrade(inputs({ config: off }));
    assert.equal(d.kind, 'hold');
    assert.equal((d as { reason: string }).reason, 'NotEnabled');
    assert.match(
      (d as { message: string }).message,
      /spec\.postgresql\.version 16 asks for PostgreSQL 16, PostgreSQL 15 runs/,
    );
    assert.match((d as { message: string }).message, /major_version_upgrade_mode is off/);
    const allowed = { ...off, major_version_upgrade_team_allow_list: ['acid'] };
    assert.equal(decideMajorUpgrade(inputs({ config: allowed })).kind, 'upgrade');
  });

  it('in full mode upgrades a cluster below minimal_major_version to target_major_version', () => {
    const full = {
      ...manual,
      major_version_upgrade_mode: 'full',
      minimal_major_version: '16',
      target_major_version: '17',
    };
    assert.deepEqual(decideMajorUpgrade(inputs({ specVersion: '15', config: full })), {
      kind: 'upgrade',
      pod: 'c-0',
      members: 2,
      from: 15,
      to: 17,
    });
  });

  it('does not retry after a failed attempt', () => {
    const d = decideMajorUpgrade(inputs({ failedAt: '2030-01-01T00:00:00Z' }));
    assert.deepEqual(
      [d.kind, (d as { reason: string }).reason, (d as { retry: boolean }).retry],
      ['hold', 'Failed', false],
    );
    assert.match((d as { message: string }).message, /last-major-upgrade-failure/);
  });

  it('waits for the maintenance window', () => {
    const nextStart = new Date('2030-01-05T22:00:00Z');
    const d = decideMajorUpgrade(inputs({ window: { open: false, windows: 'Sat:22:00-23:59', nextStart } }));
    assert.equal((d as { reason: string }).reason, 'WaitingForMaintenanceWindow');
    assert.match((d as { message: string }).message, /Sat 2030-01-05 22:00 UTC/);
  });

  it('waits while a member is missing, not running, not streaming (3.0.4+) or lagging more than 16 MiB', () => {
    const waits = (over: Partial<MajorUpgradeInputs>) => {
      const d = decideMajorUpgrade(inputs(over));
      assert.equal(d.kind, 'hold');
      assert.equal((d as { reason: string }).reason, 'Waiting');
      assert.equal((d as { retry: boolean }).retry, true);
      return (d as { message: string }).message;
    };
    assert.match(waits({ members: [{ name: 'c-0', role: 'leader', state: 'running' }] }), /1 of 2 members/);
    assert.match(
      waits({
        members: [
          { name: 'c-0', role: 'leader', state: 'running' },
          { name: 'c-1', role: 'replica', state: 'starting', lag: 0 },
        ],
      }),
      /replica c-1 is starting/,
    );
    const newer = { pod: 'c-0', serverVersion: 150004, patroniVersion: '3.3.0' };
    assert.match(waits({ master: newer }), /replica c-1 is running, not streaming/);
    assert.match(
      waits({
        members: [
          { name: 'c-0', role: 'leader', state: 'running' },
          { name: 'c-1', role: 'replica', state: 'running', lag: 17 * 1024 * 1024 },
        ],
      }),
      /lags/,
    );
    assert.match(waits({ members: undefined }), /did not answer/);
    assert.match(waits({ master: undefined }), /no master/);
  });

  it('holds a standby cluster', () => {
    assert.equal((decideMajorUpgrade(inputs({ standby: true })) as { reason: string }).reason, 'StandbyCluster');
  });
});

describe('reportsStreaming', () => {
  it('is true from Patroni 3.0.4', () => {
    assert.deepEqual(['3.0.2', '3.0.4', '3.1.0', '4.0.1', '2.1.9'].map(reportsStreaming), [
      false,
      true,
      true,
      true,
      false,
    ]);
  });
});

describe('the condition and its Events', () => {
  const now = new Date('2030-01-01T00:00:00Z');
  it('reports an Event only when the reason or message changed', () => {
    const event = { type: 'Warning' as const, reason: 'MajorVersionUpgradeNotEnabled', message: 'm' };
    const first = majorUpgradeReport(undefined, 3, now, { active: true, reason: 'NotEnabled', message: 'm', event });
    assert.deepEqual(first.events, [event]);
    assert.equal(first.condition.status, 'True');
    const again = majorUpgradeReport(first.condition, 3, new Date('2030-01-02T00:00:00Z'), {
      active: true,
      reason: 'NotEnabled',
      message: 'm',
      event,
    });
    assert.deepEqual(again.events, []);
    assert.deepEqual(again.condition, first.condition);
  });

  it('knows the running version from an UpToDate condition of this generation and desired version only', () => {
    const c = majorUpgradeReport(undefined, 4, now, {
      active: false,
      reason: 'UpToDate',
      message: upToDateMessage(16),
    }).condition;
    assert.equal(runningVersionKnown(c, 4, '16', undefined), true);
    assert.equal(runningVersionKnown(c, 5, '16', undefined), false);
    assert.equal(runningVersionKnown(c, 4, '17', undefined), false);
    assert.equal(runningVersionKnown(c, 4, '16', '2030-01-01T00:00:00Z'), false);
    assert.equal(runningVersionKnown(undefined, 4, '16', undefined), false);
  });
});

it("runs Spilo's script as Zalando does", () => {
  assert.equal(
    upgradeCommand(3),
    'set -o pipefail && /usr/bin/python3 /scripts/inplace_upgrade.py 3 2>&1 | tee last_upgrade.log',
  );
});

describe('PGVERSION of the pods', () => {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const pgversion = (objects: readonly any[]) =>
    objects
      .find((o) => o.kind === 'StatefulSet')
      .spec.template.spec.containers[0].env.find((e: { name: string }) => e.name === 'PGVERSION')?.value;

  it('is the manifest version, or target_major_version in full mode below minimal_major_version', () => {
    const config = referenceConfig('v2.0.1');
    const at = (version: string) =>
      pgversion(
        buildEdited('v2.0.1/minimal-postgres-manifest.yaml', config, (raw) => {
          (raw.spec as { postgresql: { version: string } }).postgresql.version = version;
        }).objects,
      );
    assert.equal(at('15'), '15');
    Object.assign(config, {
      major_version_upgrade_mode: 'full',
      minimal_major_version: '16',
      target_major_version: '17',
    });
    assert.equal(at('15'), '17');
    assert.equal(at('16'), '16');
  });
});

describe('fleet sync and the MajorVersionUpgrade condition', () => {
  const inSync = {
    valid: true as const,
    drift: [],
    statusChanges: false,
    progress: '2 of 2 pods ready',
    masterUp: true,
  };
  const config = { kubernetes_use_configmaps: false, enable_finalizers: true };
  const withUpgrade = (reason: string) =>
    fleetDecision(
      {
        deleting: false,
        hasFinalizer: true,
        generation: 3,
        status: {
          PostgresClusterStatus: 'Running',
          observedGeneration: 3,
          conditions: [{ type: 'MajorVersionUpgrade', status: 'True', reason, message: 'm' }],
        },
      },
      () => inSync,
      config,
    );

  it('syncs a cluster whose upgrade waits for something a later sync may find', () => {
    for (const reason of ['Waiting', 'WaitingForMaintenanceWindow', 'WaitingForSlot', 'NotEnabled']) {
      assert.deepEqual(withUpgrade(reason), { action: 'sync', why: `major version upgrade: ${reason}` });
    }
  });

  it('leaves a failed, refused or standby upgrade to a change of the object', () => {
    for (const reason of ['Failed', 'Refused', 'StandbyCluster']) assert.equal(withUpgrade(reason), undefined);
  });
});
