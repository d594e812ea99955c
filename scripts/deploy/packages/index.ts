/**
 * `npx tsx scripts/deploy/packages/index.ts [--check]`: writes the kustomize packages (`config/`) and the Helm chart
 * (`charts/postgres-operator-functions/`) from the function registry and the deploy generators; with `--check`,
 * writes nothing and exits 1 naming every file that is stale, missing or left over.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../options';
import { CHART_NAME, chartFiles } from './helm';
import { kustomizeFiles } from './kustomize';

/** @returns every generated file, path relative to the repository root -> content */
export function packageFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const [file, text] of kustomizeFiles()) files.set(`config/${file}`, text);
  for (const [file, text] of chartFiles()) files.set(`charts/${CHART_NAME}/${file}`, text);
  return files;
}

/** @returns the files under a directory of the repository, relative to the root ([] when it does not exist) */
function filesUnder(dir: string): string[] {
  try {
    return (
      readdirSync(path.join(repoRoot, dir), { recursive: true, withFileTypes: true }) as import('node:fs').Dirent[]
    )
      .filter((entry) => entry.isFile())
      .map((entry) => path.relative(repoRoot, path.join(entry.parentPath, entry.name)));
  } catch {
    return [];
  }
}

/** @returns the generated paths whose checked-in copy differs or is missing, and checked-in files not generated */
export function stalePackageFiles(files = packageFiles()): string[] {
  const stale = [...files].filter(([file, text]) => {
    try {
      return readFileSync(path.join(repoRoot, file), 'utf8') !== text;
    } catch {
      return true;
    }
  });
  const extra = [...filesUnder('config'), ...filesUnder(`charts/${CHART_NAME}`)].filter((f) => !files.has(f));
  return [...stale.map(([file]) => file), ...extra].sort();
}

function main(argv: string[]): void {
  const files = packageFiles();
  if (argv.includes('--check')) {
    const stale = stalePackageFiles(files);
    if (stale.length > 0) {
      console.error(`stale: ${stale.join(', ')}; run npx tsx scripts/deploy/packages/index.ts`);
      process.exitCode = 1;
    }
    return;
  }
  rmSync(path.join(repoRoot, 'config'), { recursive: true, force: true });
  rmSync(path.join(repoRoot, 'charts', CHART_NAME), { recursive: true, force: true });
  for (const [file, text] of files) {
    mkdirSync(path.dirname(path.join(repoRoot, file)), { recursive: true });
    writeFileSync(path.join(repoRoot, file), text);
  }
  console.log(`wrote ${files.size} files under config/ and charts/${CHART_NAME}/`);
}

if (import.meta.url === `file://${process.argv[1]}`) main(process.argv.slice(2));
