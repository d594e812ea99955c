// testenv: none
// The first run (`npm start`, scripts/main.ts) as a newcomer sees it: with no KUBECONFIG, as root, it brings up its
// own full plane with real Patroni + PostgreSQL behind the pods in a network namespace, gets
// manifests/minimal-postgres-manifest.yaml `Running` with its users and databases, and prints the psql command;
// that command (scripts/psql.ts) runs a query as the manifest user; Ctrl-C (SIGINT to the job's process group)
// stops everything it started. Its state goes to a temp MAIN_STATE_DIR, so a developer's `npm start` is untouched.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findPatroniTools } from '../../scripts/testenv/patroni-process';
import { repoRoot } from '../../scripts/deploy/options';

const tools = findPatroniTools();
const assets = process.env.KUBEBUILDER_ASSETS;
// CI installs patroni (.ci/run), so there a missing tool is a failure, not a skip.
const netns = spawnSync('bash', [`${repoRoot}scripts/testenv/netns.sh`, '--check'], { encoding: 'utf8' });
const skip =
  process.getuid?.() !== 0
    ? 'needs root (a network namespace for the pod IPs)'
    : netns.status !== 0
      ? `no network namespace here (run-integration.sh's full phase also runs without one): ${netns.stderr.trim()}`
      : typeof tools === 'string' && process.env.CI !== 'true'
        ? tools
        : assets && !existsSync(join(assets, 'kwok'))
          ? 'needs the full plane binaries (TESTENV_FULL=0)'
          : false;

const state = mkdtempSync(join(tmpdir(), 'first-run-'));
after(() => rmSync(state, { recursive: true, force: true }));

/** The env of a newcomer's shell: no cluster, no test plane of run-integration.sh. */
function newcomerEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, MAIN_STATE_DIR: state };
  for (const key of Object.keys(env)) if (key === 'KUBECONFIG' || key.startsWith('TESTENV_')) delete env[key];
  return env;
}

const tsx = [`${repoRoot}node_modules/tsx/dist/cli.mjs`];

describe('first run: npm start', { skip }, () => {
  test('shows a running database, the psql command works, Ctrl-C stops everything', { timeout: 900_000 }, async () => {
    // npm test has built the bundles; building them again here would rewrite dist/ under the tests running beside.
    const built = existsSync(`${repoRoot}dist/combined/combined.js`) ? ['--no-build'] : [];
    const job = spawn(process.execPath, [...tsx, 'scripts/main.ts', '--no-install', ...built], {
      cwd: repoRoot,
      env: newcomerEnv(),
      detached: true, // its own process group, which gets the SIGINT as from a terminal
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    job.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    job.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => job.on('exit', (code) => resolve(code)));
    let poll: NodeJS.Timeout | undefined;
    let deadline: NodeJS.Timeout | undefined;
    try {
      const ready = await Promise.race([
        new Promise<boolean>((resolve) => {
          poll = setInterval(() => output.includes('Press Ctrl-C to stop') && resolve(true), 250);
        }),
        exited.then(() => false),
        new Promise<boolean>((resolve) => (deadline = setTimeout(() => resolve(false), 840_000))),
      ]);
      clearInterval(poll);
      clearTimeout(deadline);
      assert.ok(ready, `npm start did not get the cluster running:\n${output.slice(-3000)}`);
      assert.match(output, /Summary: postgresql default\/acid-minimal-cluster is Running/);
      assert.match(output, /login check: zalando logged in to foo on acid-minimal-cluster-\d/);
      assert.match(output, /\n {2}npm run psql -- acid-minimal-cluster\n/);

      const psql = spawnSync(
        process.execPath,
        [
          ...tsx,
          'scripts/psql.ts',
          'acid-minimal-cluster',
          '--',
          '-At',
          '-c',
          'select current_user, current_database(), pg_is_in_recovery()',
        ],
        { cwd: repoRoot, env: newcomerEnv(), encoding: 'utf8', timeout: 120_000 },
      );
      assert.equal(psql.status, 0, `npm run psql failed: ${psql.stderr}`);
      assert.equal(psql.stdout.trim(), 'zalando|foo|f');
    } finally {
      clearInterval(poll);
      clearTimeout(deadline);
      if (job.exitCode === null) process.kill(-job.pid!, 'SIGINT');
    }
    const code = await exited;
    assert.equal(code, 130, output.slice(-2000));
    assert.match(
      output,
      /stopping Patroni and PostgreSQL behind the pods[\s\S]*testenv: down[\s\S]*stopped \(exit code 130\)/,
    );
    assert.ok(!existsSync(join(state, 'main')), 'the local plane state dir is left');
    assert.ok(!existsSync(join(state, 'main-run.json')), 'the run file is left');
  });
});
