/**
 * `npm run build`: one esbuild bundle per function (`dist/functions/<name>/handler.js`, exporting the function
 * under its registry export, so Kubeless' handler is `handler.<export>`), plus the function host
 * (`dist/host/host.js`), the event bridge (`dist/bridge/bridge.js`) and both in one process
 * (`dist/combined/combined.js`, serving every function bundle). Prints a size report from the metafile
 * (bytes, gzip bytes, the largest packages) and writes it to `dist/size-report.json`. `--outdir DIR` writes the
 * same tree elsewhere (to compare builds with `npm run bench -- cold-start --dist DIR`). The operator UI's page
 * script (Preact and htm, `scripts/ui-app.ts`) is built first and given to the function bundles as a constant.
 *
 * Fails when esbuild warns, or when a bundle is over the budget: 1 MB minified per function (`--budget BYTES`
 * overrides). Why 1 MB: a cold host compiles the whole bundle before it can answer, about 4 ms per 100 KB here
 * (issue 14: a cold start within 300 ms; bench/README.md); and a Kubeless Function object carries the zipped
 * bundle as base64, which must stay well under etcd's ~1.5 MiB object limit.
 *
 * Options follow runtime research §6: CommonJS (Kubeless `require`s the module), platform node, target node20
 * (runs on Node 20 here and node:22 in the image), minified, names kept for readable errors, linked source map
 * and legal comments, optional native modules external. The source maps carry no `sourcesContent`: stack traces
 * (`--enable-source-maps`, which the host runs with) need only the mappings, and Node reads and parses a bundle's
 * whole map when it loads the bundle: a map a third the size, 9 MiB less RSS per host
 * (https://esbuild.github.io/api/#sources-content). */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build, type Metafile, type Plugin } from 'esbuild';
import { BUNDLE_MODULE, FUNCTIONS } from '../lib/registry/functions';
import { buildUiApp } from './ui-app';

const root = fileURLToPath(new URL('../', import.meta.url));
const { values } = parseArgs({
  options: {
    budget: { type: 'string', default: '1000000' },
    quiet: { type: 'boolean', default: false },
    outdir: { type: 'string', default: 'dist' },
  },
});
const budget = Number(values.budget);
/** Where the bundles go, relative to the repository (or absolute): `dist` unless `--outdir` (e.g. to compare builds). */
const out = values.outdir;
/** @returns a target's file (written as the manifests and the image name it, `dist/...`) in the output directory */
const outPath = (file: string) => path.resolve(root, out, path.relative('dist', file));

/** One bundle to make. */
interface Target {
  name: string;
  entry: string;
  outfile: string;
  budget?: number;
  alias?: Record<string, string>;
  plugins?: Plugin[];
}

/** Build-time substitutes that keep the function bundles small (see each shim's comment). */
const FUNCTION_ALIASES = { 'node-fetch': './scripts/shims/node-fetch.cjs', yaml: './scripts/shims/yaml.mjs' };

/**
 * Resolves client-node's `./gen/index.js`, as its KubeConfig module imports it, to a shim re-exporting the two names
 * that module uses (`scripts/shims/client-node-gen.mjs`): ~340 KiB less per function bundle. A plugin, because
 * esbuild's `alias` only rewrites package paths (https://esbuild.github.io/plugins/#on-resolve-callbacks).
 */
const CLIENT_NODE_GEN: Plugin = {
  name: 'client-node-gen',
  setup(build) {
    build.onResolve({ filter: /^\.\/gen\/index\.js$/ }, (args) =>
      /\/@kubernetes\/client-node\/dist\/config\.js$/.test(args.importer)
        ? { path: `${root}scripts/shims/client-node-gen.mjs` }
        : undefined,
    );
  },
};

const targets: Target[] = [
  ...FUNCTIONS.map((f) => ({
    name: f.name,
    entry: `functions/${f.export}/index.ts`,
    outfile: `dist/functions/${f.name}/${BUNDLE_MODULE}.js`,
    budget,
    alias: FUNCTION_ALIASES,
    plugins: [CLIENT_NODE_GEN],
  })),
  { name: 'host', entry: 'lib/runtime/main.ts', outfile: 'dist/host/host.js' },
  // Every function's host and the bridge in one process (functions/combined.ts); it loads the function
  // bundles above from their directories.
  { name: 'combined', entry: 'functions/combined.ts', outfile: 'dist/combined/combined.js' },
  // The kubectl plugin (bin/kubectl-pg runs it when built: a start in a fraction of a second instead of tsx's).
  { name: 'kubectl-pg', entry: 'scripts/kubectl-pg.ts', outfile: 'dist/kubectl-pg/kubectl-pg.js' },
  // The bridge's entry point is optional while it is being written.
  ...(existsSync(`${root}lib/bridge/main.ts`)
    ? [{ name: 'bridge', entry: 'lib/bridge/main.ts', outfile: 'dist/bridge/bridge.js' }]
    : []),
];

/**
 * Packages the function bundles load only when an invocation needs them (a dynamic `import()`), with why. A static
 * import from the project's code loads them at start again; the build says so (a note, not a failure).
 */
const LAZY_PACKAGES: Record<string, string> = {
  // Node 20: pg's stream module probes `Response`, which loads Node's fetch implementation (bench/README.md).
  pg: "await import('pg') where a connection is opened; escaping functions from pg/lib/utils.js",
};

/** @returns `<project file> imports <package>` for each static import of a lazy package's entry point */
function eagerImports(metafile: Metafile): string[] {
  return Object.entries(metafile.inputs).flatMap(([file, input]) =>
    file.includes('node_modules/')
      ? []
      : input.imports
          .filter((i) => i.kind !== 'dynamic-import')
          .map((i) => /node_modules\/([^/]+)\/(esm\/index\.mjs|lib\/index\.js)$/.exec(i.path)?.[1])
          .filter((name): name is string => name !== undefined && name in LAZY_PACKAGES)
          .map((name) => `${file} imports ${name} (load it lazily: ${LAZY_PACKAGES[name]})`),
  );
}

/** @returns bytes per npm package (or `(project)`) of the bundle (the output with an entry point), largest first */
function packages(metafile: Metafile): Array<[string, number]> {
  const inputs = Object.values(metafile.outputs).find((output) => output.entryPoint)?.inputs ?? {};
  const sizes = new Map<string, number>();
  for (const [file, { bytesInOutput }] of Object.entries(inputs)) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
    const key = match ? match[1]! : '(project)';
    sizes.set(key, (sizes.get(key) ?? 0) + bytesInOutput);
  }
  return [...sizes.entries()].sort((a, b) => b[1] - a[1]);
}

async function bundle(target: Target, uiApp: string) {
  const result = await build({
    // The operator UI's page script (lib/api/ui/assets.ts), for every bundle that holds operator-api: its own and
    // the combined one; the others never read the name, so it costs them nothing.
    define: { __UI_APP_JS__: JSON.stringify(uiApp) },
    absWorkingDir: root,
    entryPoints: [target.entry],
    outfile: outPath(target.outfile),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    minify: true,
    keepNames: true,
    sourcemap: 'linked',
    sourcesContent: false,
    legalComments: 'linked',
    metafile: true,
    logLevel: 'silent',
    alias: target.alias,
    plugins: target.plugins,
    external: ['pg-native', 'bufferutil', 'utf-8-validate', 'supports-color', 'encoding'],
  });
  const file = outPath(target.outfile);
  const code = readFileSync(file);
  return {
    name: target.name,
    file: file.startsWith(root) ? path.relative(root, file) : file,
    bytes: code.length,
    gzipBytes: gzipSync(code).length,
    warnings: result.warnings.map((w) => `${w.location?.file ?? ''}:${w.location?.line ?? ''} ${w.text}`),
    largest: packages(result.metafile)
      .slice(0, 5)
      .map(([name, bytes]) => `${name} ${(bytes / 1024).toFixed(0)} KiB`),
    budget: target.budget,
    eager: target.plugins ? eagerImports(result.metafile) : [],
  };
}

async function main(): Promise<void> {
  const started = process.hrtime.bigint();
  const uiApp = await buildUiApp();
  const reports = await Promise.all(targets.map((target) => bundle(target, uiApp)));
  const dir = outPath('dist');
  mkdirSync(dir, { recursive: true });
  // The bundles are CommonJS (Kubeless `require`s them); the repository's package.json says "type": "module".
  writeFileSync(path.join(dir, 'package.json'), '{ "type": "commonjs" }\n');
  writeFileSync(path.join(dir, 'size-report.json'), `${JSON.stringify(reports, null, 2)}\n`);
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
  for (const note of new Set(reports.flatMap((r) => r.eager)))
    console.error(`note: a function bundle loads at start: ${note}`);
  console.log(`built ${reports.length} bundles in ${(Number(process.hrtime.bigint() - started) / 1e9).toFixed(1)} s`);
  if (problems.length > 0) process.exitCode = 1;
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exitCode = 1;
});
