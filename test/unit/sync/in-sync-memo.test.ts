import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseOperatorConfig, type OperatorConfig } from '../../../lib/model/config';
import { inputsOf, knownInSync, rememberInSync } from '../../../lib/sync/fleet/in-sync-memo';

const config = (data: Record<string, string> = {}): OperatorConfig => {
  const parsed = parseOperatorConfig(data);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return parsed.config;
};
const object = (resourceVersion?: string) => ({ metadata: { resourceVersion } });

describe('in-sync memo of fleet sync', () => {
  const raw = object('10');
  const children: Array<[string, ReturnType<typeof object>]> = [
    ['Service/a', object('11')],
    ['Secret/b', object('12')],
  ];

  it('names the inputs by every version, in any order; nothing without a version', () => {
    const inputs = inputsOf(raw, children);
    assert.match(inputs!, /^[0-9a-f]{16}$/);
    assert.equal(inputsOf(raw, [...children].reverse()), inputs);
    assert.notEqual(inputsOf(object('13'), children), inputs, 'the object written (its status too)');
    assert.notEqual(inputsOf(raw, [children[0]!, ['Secret/b', object('14')]]), inputs, 'a child written');
    assert.notEqual(inputsOf(raw, [children[0]!]), inputs, 'a child gone');
    assert.notEqual(inputsOf(raw, [...children, ['Endpoints/a', object('15')]]), inputs, 'a child more');
    assert.equal(inputsOf(raw, [...children, ['Endpoints/a', object()]]), undefined);
    assert.equal(inputsOf(object(), children), undefined);
  });

  it('remembers a cluster in sync under the same inputs and the same config only', () => {
    const first = config();
    const inputs = inputsOf(raw, children)!;
    const found = { progress: '1 of 1 pods ready', masterUp: true };
    rememberInSync(first, 'uid-1', inputs, found);
    assert.deepEqual(knownInSync(first, 'uid-1', inputs), { ...found, inputs });
    assert.deepEqual(knownInSync(config(), 'uid-1', inputs), { ...found, inputs }, 'an equal config parsed again');
    assert.equal(knownInSync(first, 'uid-1', inputsOf(object('13'), children)!), undefined);
    assert.equal(knownInSync(first, 'uid-2', inputs), undefined);
    assert.equal(
      knownInSync(config({ enable_owner_references: 'true' }), 'uid-1', inputs),
      undefined,
      'another config',
    );
    rememberInSync(first, 'uid-1', inputs, undefined);
    assert.equal(knownInSync(first, 'uid-1', inputs), undefined, 'forgotten once found out of sync');
  });

  it('keeps the entries of the last config seen only', () => {
    const [a, b] = [config({ enable_owner_references: 'true' }), config({ enable_owner_references: 'false' })];
    const inputs = inputsOf(raw, children)!;
    rememberInSync(a, 'uid-a', inputs, { progress: '', masterUp: false });
    rememberInSync(b, 'uid-b', inputs, { progress: '', masterUp: false });
    assert.equal(knownInSync(a, 'uid-a', inputs), undefined);
    assert.ok(knownInSync(b, 'uid-b', inputs));
  });
});
