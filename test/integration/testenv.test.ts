// Proves the integration harness: the control plane answers and the kubeconfig user is the cluster admin.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createNamespace, deleteNamespace, kubectl, requireTestenv } from './testenv';

test('the test control plane is ready and the kubeconfig user is cluster admin', async () => {
  requireTestenv();
  const readyz = await kubectl(['get', '--raw', '/readyz']);
  assert.equal(readyz.code, 0, readyz.stderr);
  assert.equal(readyz.stdout.trim(), 'ok');

  const canI = await kubectl(['auth', 'can-i', '*', '*', '--all-namespaces']);
  assert.equal(canI.code, 0, canI.stderr);
  assert.equal(canI.stdout.trim(), 'yes');
});

test('createNamespace makes a unique namespace and deleteNamespace removes it', async () => {
  const ns = await createNamespace('Harness_Test');
  assert.match(ns, /^harness-test-[0-9a-f]{8}$/);
  const got = await kubectl(['get', 'namespace', ns, '-o', 'jsonpath={.status.phase}']);
  assert.equal(got.code, 0, got.stderr);
  assert.equal(got.stdout, 'Active');
  await deleteNamespace(ns);
  // Without kube-controller-manager the namespace only reaches Terminating; gone or Terminating both mean deleted.
  const after = await kubectl(['get', 'namespace', ns, '-o', 'jsonpath={.status.phase}', '--ignore-not-found']);
  assert.ok(after.stdout === '' || after.stdout === 'Terminating', `phase after delete: ${after.stdout}`);
});
