import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { oneAtATime } from '../../../lib/runtime/one-at-a-time';

/** A run that ends when told to, recording when it started. */
function gate(log: string[], name: string) {
  let open!: (value: string) => void;
  const done = new Promise<string>((resolve) => (open = resolve));
  return {
    run: () => {
      log.push(`start ${name}`);
      return done;
    },
    open: () => open(name),
  };
}

describe('one run at a time per process', () => {
  it('a run with the same fingerprint joins the one in flight; another waits for it, then runs', async () => {
    const log: string[] = [];
    const a = gate(log, 'a');
    const b = gate(log, 'b');
    const c = gate(log, 'c');
    const first = oneAtATime('k', 'config-1', a.run);
    const joined = oneAtATime('k', 'config-1', b.run);
    const other = oneAtATime('k', 'config-2', c.run);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(log, ['start a'], 'neither the joined nor the different run started yet');
    a.open();
    assert.equal(await first, 'a');
    assert.equal(await joined, 'a', 'the joined run gets the first run its result');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(log, ['start a', 'start c']);
    c.open();
    assert.equal(await other, 'c');
  });

  it('other keys do not wait; a failed run lets the next one run', async () => {
    const log: string[] = [];
    const a = gate(log, 'a');
    const pending = oneAtATime('k1', 'x', a.run);
    assert.equal(await oneAtATime('k2', 'x', async () => 'k2 ran'), 'k2 ran');
    const failing = oneAtATime('k3', 'x', async () => {
      throw new Error('list failed');
    });
    await assert.rejects(failing, /list failed/);
    assert.equal(await oneAtATime('k3', 'x', async () => 'after'), 'after');
    a.open();
    assert.equal(await pending, 'a');
  });
});
