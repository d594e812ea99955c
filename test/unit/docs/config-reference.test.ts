// docs/config-reference.md is generated from the key table (lib/model/config/keys.ts): the checked-in file must be
// what `npm run docs` writes now, and it must name every key.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { OPERATOR_CONFIG_KEY_NAMES, keysNotActedOn } from '../../../lib/model/config';
import { CONFIG_REFERENCE_PATH, configReference } from '../../../scripts/docs/config-reference';
import { REPO_ROOT } from '../reference';

describe('docs/config-reference.md', () => {
  const generated = configReference();

  it('is what npm run docs writes (else run npm run docs)', () => {
    assert.equal(readFileSync(`${REPO_ROOT}${CONFIG_REFERENCE_PATH}`, 'utf8'), generated);
  });

  it('has one row per key, and the keys not acted on marked so and listed with their reason', () => {
    const keyTables = generated.slice(0, generated.indexOf('## Keys not acted on'));
    for (const key of OPERATOR_CONFIG_KEY_NAMES) {
      assert.equal(keyTables.match(new RegExp(`^\\| \`${key}\` \\|`, 'gm'))?.length, 1, key);
    }
    const notActedOn = generated.slice(generated.indexOf('## Keys not acted on'));
    for (const { key, reason } of keysNotActedOn()) {
      assert.match(generated, new RegExp(`^\\| \`${key}\` \\|.*\\*\\*not acted on\\*\\*`, 'm'), key);
      assert.ok(notActedOn.includes(`\`${key}\``) && notActedOn.includes(reason), key);
    }
  });
});
