/**
 * `npm run deploy -- <target> [--dry-run] [options]` (see USAGE in options.ts): generates the target's objects
 * from the registry of functions and prints them as YAML (`--dry-run`) or applies them to the cluster of
 * $KUBECONFIG with server-side apply, printing progress. The `local` target runs processes instead.
 *
 * Exit codes: 0 done, 1 failed (the message says why), 2 bad command line.
 */
import { KubeClient } from '../../lib/k8s/client';
import { applyObjects, describe, requireNamespaces, type ApplyOutcome } from './apply';
import { requireKubeconfig, requireReachable } from '../first-run/preflight';
import { DEPLOY_FIELD_MANAGER } from './meta';
import { parseDeployArgs, USAGE, UsageError, type DeployCommand } from './options';
import { generate, render, TARGETS } from './targets';

async function applyTarget(command: DeployCommand): Promise<void> {
  const started = Date.now();
  const step = (text: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${text}`);
  const objects = generate(command.target, command.options);
  requireKubeconfig(`npm run deploy -- ${command.target}`);
  const client = KubeClient.fromDefault({ fieldManager: DEPLOY_FIELD_MANAGER });
  try {
    await requireReachable(client);
    step(
      `target ${command.target}: ${objects.length} objects to the API server at ${client.kubeConfig.getCurrentCluster()?.server}`,
    );
    await requireNamespaces(client, objects);
    const counts: Record<ApplyOutcome, number> = { created: 0, configured: 0, unchanged: 0 };
    await applyObjects(client, objects, {
      onApplied: (object, outcome) => {
        counts[outcome] += 1;
        step(`${describe(object)} ${outcome}`);
      },
    });
    step(`done: ${counts.created} created, ${counts.configured} configured, ${counts.unchanged} unchanged`);
  } finally {
    client.close();
  }
}

async function main(argv: string[]): Promise<void> {
  let command: DeployCommand;
  try {
    command = parseDeployArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`${error.message}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  const target = TARGETS[command.target];
  if (target.type === 'processes') return target.run(command);
  if (command.dryRun) {
    process.stdout.write(render(command.target, command.options));
    return;
  }
  await applyTarget(command);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(`deploy failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
