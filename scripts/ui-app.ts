/**
 * Bundles the operator UI's page script (`lib/api/ui/app/main.ts` with Preact and htm) into one minified ES module
 * for browsers. `scripts/build.ts` puts the text into the function bundles (`define __UI_APP_JS__`), so the
 * operator-api function serves it from memory: no files beside the bundle, no CDN, no build on the user's side.
 * Tests that run the UI route from source pass this function's output in instead.
 *
 * Source: esbuild API, "Build" with `write: false` and `define` (https://esbuild.github.io/api/#define).
 */
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('../', import.meta.url));

/** @returns the page script, minified, with Preact's and htm's licence comments at the end */
export async function buildUiApp(): Promise<string> {
  const result = await build({
    entryPoints: [`${root}lib/api/ui/app/main.ts`],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    // Browsers of the last few years; Chromium in the tests.
    target: ['es2020'],
    minify: true,
    legalComments: 'eof',
    write: false,
    logLevel: 'silent',
  });
  if (result.warnings.length) throw new Error(`UI bundle warnings: ${result.warnings.map((w) => w.text).join('; ')}`);
  return result.outputFiles[0]!.text;
}
