// Whether a cluster may roll now by its maintenance windows, and when the next window starts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseMaintenanceWindows } from '../../../lib/model/maintenance-window';
import {
  checkMaintenanceWindows,
  clusterMaintenanceWindows,
  describeWindowStart,
} from '../../../lib/plan/maintenance-window';

const windows = (...texts: string[]) => {
  const parsed = parseMaintenanceWindows(texts);
  assert.ok(parsed.ok);
  return parsed.windows;
};
// 2030-01-01 is a Tuesday.
const at = (iso: string) => new Date(`2030-01-${iso}Z`);

describe('checkMaintenanceWindows', () => {
  it('is open without windows, and inside one, its first and last minute included', () => {
    assert.deepEqual(checkMaintenanceWindows([], at('01T12:00:00')), { open: true });
    const nightly = windows('01:00-06:00');
    assert.deepEqual(checkMaintenanceWindows(nightly, at('01T01:00:00')), { open: true });
    assert.deepEqual(checkMaintenanceWindows(nightly, at('01T06:00:59')), { open: true });
    assert.deepEqual(checkMaintenanceWindows(nightly, at('01T06:01:00')), {
      open: false,
      windows: '01:00-06:00',
      nextStart: at('02T01:00:00'),
    });
    assert.deepEqual(checkMaintenanceWindows(nightly, at('01T00:59:59')), {
      open: false,
      windows: '01:00-06:00',
      nextStart: at('01T01:00:00'),
    });
  });

  it('a weekday window holds on that weekday only; the next start is the nearest of all windows', () => {
    const weekly = windows('Sat:22:00-23:59', 'Wed:03:00-04:00');
    assert.deepEqual(checkMaintenanceWindows(weekly, at('05T22:30:00')), { open: true }, 'Saturday night');
    assert.equal(checkMaintenanceWindows(weekly, at('04T22:30:00')).open, false, 'Friday night');
    assert.deepEqual(checkMaintenanceWindows(weekly, at('01T12:00:00')), {
      open: false,
      windows: 'Sat:22:00-23:59, Wed:03:00-04:00',
      nextStart: at('02T03:00:00'),
    });
    assert.deepEqual(checkMaintenanceWindows(weekly, at('02T04:01:00')), {
      open: false,
      windows: 'Sat:22:00-23:59, Wed:03:00-04:00',
      nextStart: at('05T22:00:00'),
    });
    // Just after this week's only window: the same weekday next week.
    assert.deepEqual(checkMaintenanceWindows(windows('Tue:01:00-02:00'), at('01T02:01:00')), {
      open: false,
      windows: 'Tue:01:00-02:00',
      nextStart: at('08T01:00:00'),
    });
  });

  it('describes a start with its weekday, in UTC', () => {
    assert.equal(describeWindowStart(at('05T22:00:00')), 'Sat 2030-01-05 22:00 UTC');
  });
});

describe('clusterMaintenanceWindows', () => {
  const config = { enable_maintenance_windows: true, maintenance_windows: ['Sun:01:00-02:00'] };
  it("takes the manifest's windows, else the config's; none when turned off", () => {
    assert.deepEqual(
      clusterMaintenanceWindows(['01:00-06:00'], config).map((w) => w.text),
      ['01:00-06:00'],
    );
    assert.deepEqual(
      clusterMaintenanceWindows([], config).map((w) => w.text),
      ['Sun:01:00-02:00'],
    );
    assert.deepEqual(
      clusterMaintenanceWindows(undefined, config).map((w) => w.text),
      ['Sun:01:00-02:00'],
    );
    assert.deepEqual(clusterMaintenanceWindows(['01:00-06:00'], { ...config, enable_maintenance_windows: false }), []);
    assert.deepEqual(clusterMaintenanceWindows(undefined, { ...config, maintenance_windows: [] }), []);
  });
});
