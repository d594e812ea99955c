/**
 * `npm run build`: one esbuild bundle per function (`dist/functions/<name>/handler.js`, exporting the function
 * under its registry export, so Kubeless' handler is `handler.<export>`), plus the function host
 * (`dist/host/host.js`) and the event bridge (`dist/bridge/bridge.js`). Prints a size report from the metafile
 * (bytes, gzip bytes, the largest packages) and writes it to `dist/size-report.json`.
 *
 * Fails when esbuild warns, or when a bundle is over the budget: 1.5 MB minified per function (`--budget BYTES`
 * overrides). Why 1.5 MB: a Kubeless Function object carries the zipped bundle as base64 and must stay well under
 * etcd's ~1.5 MiB object limit; 1.5 MB minified zips to about a quarter of that.
 *
 * Options follow runtime research §6: CommonJS (Kubeless `require`s the module), platform node, target node20
 * (runs on Node 20 here and node:22 in the image), minified, names kept for readable errors, linked source map
 * and legal comments, optional native modules external.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build, type Metafile } from 'esbuild';
import { BUNDLE_MODULE, FUNCTIONS } from '../lib/registry/functions';

const root = fileURLToPath(new URL('../', import.meta.url));
const { values } = parseArgs({
  options: { budget: { type: 'string', default: '1500000' }, quiet: { type: 'boolean', default: false } },
});
const budget = Number(values.budget);

/** One bundle to make. */
interface Target {
  name: string;
  entry: string;
  outfile: string;
  budget?: number;
  alias?: Record<string, string>;
}

/** Build-time substitutes that keep the function bundles small (see each shim's comment). */
const FUNCTION_ALIASES = { 'node-fetch': './scripts/shims/node-fetch.cjs', yaml: './scripts/shims/yaml.cjs' };

const targets: Target[] = [
  ...FUNCTIONS.map((f) => ({
    name: f.name,
    entry: `functions/${f.export}/index.ts`,
    outfile: `dist/functions/${f.name}/${BUNDLE_MODULE}.js`,
    budget,
    alias: FUNCTION_ALIASES,
  })),
  { name: 'host', entry: 'lib/runtime/main.ts', outfile: 'dist/host/host.js' },
  // The bridge's entry point is optional while it is being written.
  ...(existsSync(`${root}lib/bridge/main.ts`)
    ? [{ name: 'bridge', entry: 'lib/bridge/main.ts', outfile: 'dist/bridge/bridge.js' }]
    : []),
];

/** @returns bytes per npm package (or `(project)`) of one output, largest first */
function packages(metafile: Metafile, outfile: string): Array<[string, number]> {
  const inputs = metafile.outputs[outfile]?.inputs ?? {};
  const sizes = new Map<string, number>();
  for (const [path, { bytesInOutput }] of Object.entries(inputs)) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
    const key = match ? match[1]! : '(project)';
    sizes.set(key, (sizes.get(key) ?? 0) + bytesInOutput);
  }
  return [...sizes.entries()].sort((a, b) => b[1] - a[1]);
}

async function bundle(target: Target) {
  const result = await build({
    absWorkingDir: root,
    entryPoints: [target.entry],
    outfile: target.outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    minify: true,
    keepNames: true,
    sourcemap: 'linked',
    legalComments: 'linked',
    metafile: true,
    logLevel: 'silent',
    alias: target.alias,
    external: ['pg-native', 'bufferutil', 'utf-8-validate', 'supports-color', 'encoding'],
  });
  const code = readFileSync(`${root}${target.outfile}`);
  return {
    name: target.name,
    file: target.outfile,
    bytes: code.length,
    gzipBytes: gzipSync(code).length,
    warnings: result.warnings.map((w) => `${w.location?.file ?? ''}:${w.location?.line ?? ''} ${w.text}`),
    largest: packages(result.metafile, target.outfile)
      .slice(0, 5)
      .map(([name, bytes]) => `${name} ${(bytes / 1024).toFixed(0)} KiB`),
    budget: target.budget,
  };
}

async function main(): Promise<void> {
  const started = process.hrtime.bigint();
  const reports = await Promise.all(targets.map(bundle));
  mkdirSync(`${root}dist`, { recursive: true });
  // The bundles are CommonJS (Kubeless `require`s them); the repository's package.json says "type": "module".
  writeFileSync(`${root}dist/package.json`, '{ "type": "commonjs" }\n');
  writeFileSync(`${root}dist/size-report.json`, `${JSON.stringify(reports, null, 2)}\n`);
  if (!values.quiet) {
    console.table(
      reports.map((r) => ({
        bundle: r.file,
        KiB: +(r.bytes / 1024).toFixed(1),
        'gzip KiB': +(r.gzipBytes / 1024).toFixed(1),
        'budget KiB': r.budget ? +(r.budget / 1024).toFixed(0) : '',
        largest: r.largest.slice(0, 3).join(', '),
      })),
    );
  }
  const problems = [
    ...reports.flatMap((r) => r.warnings.map((w) => `${r.file}: esbuild warning: ${w}`)),
    ...reports
      .filter((r) => r.budget && r.bytes > r.budget)
      .map((r) => `${r.file}: ${r.bytes} bytes is over the budget of ${r.budget} bytes`),
  ];
  for (const problem of problems) console.error(problem);
  console.log(`built ${reports.length} bundles in ${(Number(process.hrtime.bigint() - started) / 1e9).toFixed(1)} s`);
  if (problems.length > 0) process.exitCode = 1;
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exitCode = 1;
});
