// The ESLint layer rule really stops a pure layer from reaching the network, the clock or randomness.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ESLint } from 'eslint';

const eslint = new ESLint();
const messages = async (code: string, filePath: string) =>
  (await eslint.lintText(code, { filePath }))[0]!.messages.map((m) => m.message);

for (const layer of ['lib/model', 'lib/builders', 'lib/plan', 'lib/roles']) {
  test(`${layer} may not import clients or I/O modules`, async () => {
    const found = await messages(
      "import pg from 'pg';\nimport { KubeClient } from '../k8s/client';\nexport const x = [pg, KubeClient];\n",
      `${layer}/example.ts`,
    );
    assert.equal(found.filter((m) => m.includes('pure layers')).length, 2, found.join('\n'));
  });
  test(`${layer} may not read the clock or randomness`, async () => {
    const found = await messages(
      'export const t = Date.now() + Math.random() + new Date().getTime();\n',
      `${layer}/example.ts`,
    );
    assert.equal(found.filter((m) => m.includes('pure layers take no')).length, 3, found.join('\n'));
  });
}

test('lib/sync may use clients', async () => {
  const found = await messages(
    "import { KubeClient } from '../k8s/client';\nexport const x = KubeClient;\n",
    'lib/sync/example.ts',
  );
  assert.deepEqual(found, []);
});
