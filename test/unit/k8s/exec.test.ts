import assert from 'node:assert/strict';
import { it } from 'node:test';
import { asError, exitCodeOf } from '../../../lib/k8s/exec';

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

it('names what the WebSocket layer rejected with', () => {
  assert.equal(
    asError({ type: 'error', message: 'Unexpected server response: 403' }).message,
    'Unexpected server response: 403',
  );
  assert.equal(asError({ statusCode: 403 }).message, 'the exec was refused: HTTP 403');
  assert.equal(asError({ other: 1 }).message, 'the exec failed: {"other":1}');
  const error = new Error('x');
  assert.equal(asError(error), error);
});
