// The Events of the StatefulSet steps: one per step that changed something, none for a step that changed nothing.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  adoptionReport,
  podAnnotationsReport,
  podsMarkedReport,
  statefulSetRecreatedReport,
  volumesResizedReport,
} from '../../../lib/plan/statefulset-events';

describe('StatefulSet step reports', () => {
  it('VolumeResized names the claims and both sizes', () => {
    assert.deepEqual(volumesResizedReport(['pgdata-acid-a-0', 'pgdata-acid-a-1'], { from: '1Gi', to: '2Gi' }), {
      type: 'Normal',
      reason: 'VolumeResized',
      message: 'Resized PersistentVolumeClaims pgdata-acid-a-0, pgdata-acid-a-1 from 1Gi to 2Gi',
    });
    assert.equal(volumesResizedReport([], { from: '1Gi', to: '2Gi' }), undefined);
  });

  it('RollingUpdateRequired gives the template change, or says the pods predate a new StatefulSet', () => {
    assert.deepEqual(
      podsMarkedReport('acid-a', ['acid-a-0'], 'StatefulSet acid-a: spec.template...image: "a" -> "b"'),
      {
        type: 'Normal',
        reason: 'RollingUpdateRequired',
        message: 'Marked pods acid-a-0 for a rolling update: StatefulSet acid-a: spec.template...image: "a" -> "b"',
      },
    );
    assert.equal(
      podsMarkedReport('acid-a', ['acid-a-0', 'acid-a-1'], undefined)?.message,
      'Marked pods acid-a-0, acid-a-1 for a rolling update: they were not created by StatefulSet acid-a as it is now',
    );
    assert.equal(podsMarkedReport('acid-a', [], 'x'), undefined);
  });

  it('PodAnnotationsUpdated names the keys set and removed, sorted', () => {
    assert.deepEqual(
      podAnnotationsReport({ set: { 'z.io/b': '1', 'a.io/a': '2' }, remove: ['m.io/c'] }, ['acid-a-0']),
      {
        type: 'Normal',
        reason: 'PodAnnotationsUpdated',
        message: 'Updated annotations a.io/a, m.io/c, z.io/b of pods acid-a-0',
      },
    );
    assert.equal(podAnnotationsReport({ set: { a: '1' }, remove: [] }, []), undefined);
  });

  it('StatefulSetRecreated gives the reason', () => {
    assert.deepEqual(statefulSetRecreatedReport('acid-a', 'spec.selector changed'), {
      type: 'Normal',
      reason: 'StatefulSetRecreated',
      message: 'Re-created StatefulSet acid-a, keeping its pods: spec.selector changed',
    });
  });

  it('StatefulSetAdopted is a Warning naming every template difference, Normal when there is none', () => {
    const warning = adoptionReport('acid-a', ['spec.template.a: 1 -> 2', 'spec.template.b: absent -> 3']);
    assert.equal(warning.type, 'Warning');
    assert.equal(warning.reason, 'StatefulSetAdopted');
    assert.match(warning.message, /without a rolling update/);
    assert.match(warning.message, /zalando-postgres-operator-rolling-update-required=true/);
    assert.match(
      warning.message,
      /Pod template differences: spec\.template\.a: 1 -> 2; spec\.template\.b: absent -> 3$/,
    );
    assert.deepEqual(adoptionReport('acid-a', []), {
      type: 'Normal',
      reason: 'StatefulSetAdopted',
      message: 'Took over StatefulSet acid-a, which another operator built: its pod template already matches',
    });
  });
});
