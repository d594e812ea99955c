// Maintenance windows as written in the manifest and the operator config: HH:MM-HH:MM or Ddd:HH:MM-HH:MM (UTC).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseMaintenanceWindow, parseMaintenanceWindows } from '../../../lib/model/maintenance-window';

describe('parseMaintenanceWindow', () => {
  it('reads a daily window and a weekday window, the end minute included', () => {
    assert.deepEqual(parseMaintenanceWindow('01:00-06:00'), {
      ok: true,
      window: { text: '01:00-06:00', startMinute: 60, endMinute: 360 },
    });
    assert.deepEqual(parseMaintenanceWindow(' Sat:00:00-04:30 '), {
      ok: true,
      window: { text: 'Sat:00:00-04:30', weekday: 6, startMinute: 0, endMinute: 270 },
    });
    assert.deepEqual(parseMaintenanceWindow('Sun:9:5-Sun:23:59'), {
      ok: true,
      window: { text: 'Sun:9:5-Sun:23:59', weekday: 0, startMinute: 545, endMinute: 1439 },
    });
  });

  it('refuses what is not a window, saying why', () => {
    assert.deepEqual(parseMaintenanceWindow('nightly'), {
      ok: false,
      error: '"nightly" is not a window: write HH:MM-HH:MM or Ddd:HH:MM-HH:MM (UTC)',
    });
    assert.equal(parseMaintenanceWindow('24:00-25:00').ok, false);
    assert.deepEqual(parseMaintenanceWindow('23:00-01:00'), {
      ok: false,
      error: '"23:00-01:00": the window ends before it starts',
    });
    assert.deepEqual(parseMaintenanceWindow('Fri:22:00-Sat:02:00'), {
      ok: false,
      error: '"Fri:22:00-Sat:02:00": a window ends on the day it starts (Fri, not Sat)',
    });
    assert.deepEqual(parseMaintenanceWindow('22:00-Sat:23:00'), {
      ok: false,
      error: '"22:00-Sat:23:00": a window ends on the day it starts (every day, not Sat)',
    });
  });

  it('reports every bad window of a list by its index', () => {
    assert.deepEqual(parseMaintenanceWindows(['01:00-02:00', 'x', '03:00-02:00']), {
      ok: false,
      errors: [
        { index: 1, error: '"x" is not a window: write HH:MM-HH:MM or Ddd:HH:MM-HH:MM (UTC)' },
        { index: 2, error: '"03:00-02:00": the window ends before it starts' },
      ],
    });
    assert.deepEqual(parseMaintenanceWindows([]), { ok: true, windows: [] });
  });
});
