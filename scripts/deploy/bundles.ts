/**
 * Reads the function bundles that `npm run build` (scripts/build) writes to `dist/functions/<name>/handler.js`,
 * and packs one as the zip Kubeless unpacks into `/kubeless` (`function-content-type: base64+zip`).
 *
 * Sources: Kubeless prepare container (`base64 -d`, `sha256sum -c` of the decoded bytes, `unzip -o … -d
 * /kubeless`; runtime research §1.1, §6); APPNOTE.TXT (zip) via fflate.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { zipSync, type Zippable } from 'fflate';
import { BUNDLE_MODULE, type FunctionSpec } from '../../lib/registry/functions';

/** One function's build output. */
export interface Bundle {
  /** `handler.js` */
  code: Uint8Array;
  /** `handler.js.LEGAL.txt` (third-party licence notices), when the build wrote one */
  legal?: Uint8Array;
}

/** A bundle that is not built; the message tells the user to build first. */
export class MissingBundleError extends Error {
  override name = 'MissingBundleError';
}

/** @returns the path of a function's bundle in a build output directory */
export function bundlePath(distDir: string, spec: FunctionSpec): string {
  return join(distDir, 'functions', spec.name, `${BUNDLE_MODULE}.js`);
}

/**
 * @returns the bundle of a function from `distDir`
 * @throws MissingBundleError when `handler.js` is not there
 */
export function readBundle(distDir: string, spec: FunctionSpec): Bundle {
  const path = bundlePath(distDir, spec);
  if (!existsSync(path)) {
    const shown = relative(process.cwd(), path) || path;
    throw new MissingBundleError(
      `${shown} does not exist: the kubeless target ships the built bundles, run \`npm run build\` first`,
    );
  }
  const legalPath = `${path}.LEGAL.txt`;
  return { code: readFileSync(path), ...(existsSync(legalPath) ? { legal: readFileSync(legalPath) } : {}) };
}

/**
 * Every entry gets this modification time, so the same bundle always gives the same zip bytes (and checksum).
 * Built from local fields because zip stores local date and time: the bytes do not depend on the time zone.
 */
const FIXED_MTIME = new Date(2000, 0, 1, 0, 0, 0);

/** @returns the zip holding `handler.js` (and its licence notices) at its root; deterministic */
export function zipBundle(bundle: Bundle): Uint8Array {
  const files: Zippable = { [`${BUNDLE_MODULE}.js`]: [bundle.code, { level: 9, mtime: FIXED_MTIME }] };
  if (bundle.legal) files[`${BUNDLE_MODULE}.js.LEGAL.txt`] = [bundle.legal, { level: 9, mtime: FIXED_MTIME }];
  return zipSync(files);
}

/** @returns `sha256:<hex>` of some bytes, as Kubeless's `checksum` */
export function sha256Checksum(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}
