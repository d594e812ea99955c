import assert from 'node:assert/strict';
import { it } from 'node:test';
import { exitCodeOf } from '../../../lib/k8s/exec';

it('reads the exit code from the exec stream status', () => {
  assert.equal(exitCodeOf({ status: 'Success' }), 0);
  const failed = {
    status: 'Failure',
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: '3' }] },
  };
  assert.equal(exitCodeOf(failed), 3);
  // kwok's exec answers an InternalError without a cause: still a failure
  assert.equal(exitCodeOf({ status: 'Failure', reason: 'InternalError', message: 'exit status 3' }), 1);
});
