/**
 * Benchmarks: `npm run bench -- <name> [args]`. Each prints a table and a JSON line, and writes
 * bench/results/<name>.json. Without $KUBECONFIG a local control plane is started for the run, except for the
 * benchmarks in OWN_PLANE, which start one themselves when they need it.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { benchColdStart } from './cold-start';
import { benchCreateCost } from './create-cost';
import { benchE2e } from './e2e';
import { benchFaults } from './faults';
import { benchFleet } from './fleet';
import { benchPeer } from './peer';
import { benchRoles } from './roles';
import { benchRollout } from './rollout';
import { benchSync } from './sync';
import { ensureControlPlane } from './testenv';

const benchmarks: Record<string, (args: string[]) => Promise<unknown>> = {
  sync: (args) => benchSync(Number(args[0] ?? 50)),
  roles: (args) => benchRoles(Number(args[0] ?? 500), Number(args[1] ?? 10)),
  fleet: (args) => benchFleet(Number(args[0] ?? 1000)),
  e2e: (args) => benchE2e(Number(args[0] ?? 50)),
  peer: () => benchPeer(),
  rollout: (args) => benchRollout(Number(args[0] ?? 20), Number(args[1] ?? 3), Number(args[2] ?? 5)),
  faults: (args) => benchFaults(args),
  'cold-start': (args) => benchColdStart(args),
  'create-cost': (args) => benchCreateCost(Number(args[0] ?? 60)),
};

/** Benchmarks that need pods that run (the full plane) with real processes on the pod IPs (a network namespace). */
const NEEDS_PODS = new Set(['rollout', 'faults']);
/** Benchmarks that start a control plane themselves, for the parts that need one. */
const OWN_PLANE = new Set(['cold-start']);

async function main() {
  const [name = 'sync', ...args] = process.argv.slice(2);
  const run = benchmarks[name];
  if (!run) throw new Error(`unknown benchmark ${name}; known: ${Object.keys(benchmarks).join(', ')}`);
  if (NEEDS_PODS.has(name) && !process.env.TESTENV_NETNS && !process.env.KUBECONFIG) {
    // Pod IPs must be local addresses for Patroni to listen on: run again inside a private network namespace.
    const netns = fileURLToPath(new URL('../scripts/testenv/netns.sh', import.meta.url));
    const again = spawnSync('bash', [netns, process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
      stdio: 'inherit',
    });
    process.exitCode = again.status ?? 1;
    return;
  }
  const pods = NEEDS_PODS.has(name) || (name === 'fleet' && process.env.BENCH_FLEET_FULL === '1');
  const stop = OWN_PLANE.has(name) ? () => undefined : ensureControlPlane(pods);
  try {
    const report = (await run(args)) as { phases?: Record<string, Record<string, unknown>> };
    if (report.phases) {
      console.table(
        Object.fromEntries(
          Object.entries(report.phases).map(([phase, r]) => [
            phase,
            {
              runs: r.runs,
              'median ms': r.medianMs,
              'p99 ms': r.p99Ms,
              'mean ms': r.meanMs,
              'requests/sync': JSON.stringify(r.requestsPerSync),
              'max writes/sync': r.maxWritesPerSync,
            },
          ]),
        ),
      );
    }
    console.log(JSON.stringify(report));
    const dir = fileURLToPath(new URL('./results/', import.meta.url));
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${dir}${name}.json`, `${JSON.stringify(report, null, 2)}\n`);
  } finally {
    stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
