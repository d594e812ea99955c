/**
 * `npm run docs`: writes the generated documentation, today docs/config-reference.md (from
 * lib/model/config/keys.ts). `--check` writes nothing and exits 1 when a file is stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CONFIG_REFERENCE_PATH, configReference } from './docs/config-reference';

const root = fileURLToPath(new URL('../', import.meta.url));
const files: Array<[path: string, text: string]> = [[CONFIG_REFERENCE_PATH, configReference()]];
const check = process.argv.includes('--check');
let stale = 0;
for (const [path, text] of files) {
  let current: string | undefined;
  try {
    current = readFileSync(`${root}${path}`, 'utf8');
  } catch {
    current = undefined;
  }
  if (current === text) continue;
  stale++;
  if (check) console.error(`${path} is stale: run npm run docs`);
  else {
    writeFileSync(`${root}${path}`, text);
    console.log(`wrote ${path}`);
  }
}
if (check && stale > 0) process.exitCode = 1;
