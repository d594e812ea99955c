import { readFileSync } from 'node:fs';

/** Summary statistics of timings in milliseconds. */
export interface Summary {
  runs: number;
  medianMs: number;
  p99Ms: number;
  meanMs: number;
  maxMs: number;
}

const round = (n: number) => Math.round(n * 100) / 100;

/** @returns median, p99 (nearest rank), mean and max of the samples */
export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length;
  return {
    runs: sorted.length,
    medianMs: round(rank(0.5)),
    p99Ms: round(rank(0.99)),
    meanMs: round(mean),
    maxMs: round(sorted.at(-1)!),
  };
}

/** @returns the resident set size of a process in MiB, one decimal (VmRSS from /proc/<pid>/status) */
export function rssMiB(pid: number | undefined): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 102.4) / 10;
}
