import { cpus, totalmem } from 'node:os';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * The benchmark harness: each suite in `bench/suites/` exports a `BenchSuite`; `npm run bench`
 * runs them all, prints one table and writes `bench/results.json`. Timings are measured here,
 * never asserted in tests.
 */

export type BenchScale = 'smoke' | 'full';

export interface BenchContext {
  /** `smoke` runs tiny sizes (used by a test of the harness); `full` the published sizes. */
  readonly scale: BenchScale;
  log(message: string): void;
}

export interface BenchRow {
  /** What was measured, e.g. "xds poll 304 (in-process)". */
  readonly name: string;
  /** The sizes it was measured at, e.g. `{ services: 1000 }`. */
  readonly params: Readonly<Record<string, number | string>>;
  /** Figures with their unit in the key: `p50_ms`, `reads_per_poll`, `bytes`. */
  readonly metrics: Readonly<Record<string, number>>;
}

export interface BenchSuite {
  readonly name: string;
  run(ctx: BenchContext): Promise<BenchRow[]>;
}

export interface BenchReport {
  readonly generatedAt: string;
  readonly machine: { cpu: string; cores: number; memoryGiB: number; node: string; platform: string };
  readonly scale: BenchScale;
  /** A suite run on its own (`--only`) into an earlier report says when and where. */
  readonly suites: { name: string; seconds: number; rows: BenchRow[]; measuredAt?: string; machine?: BenchReport['machine'] }[];
}

export function machineInfo(): BenchReport['machine'] {
  const cpu = cpus();
  return {
    cpu: cpu[0]?.model.trim() ?? 'unknown',
    cores: cpu.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  };
}

/** percentile of already sorted samples (nearest rank). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** timeSamples runs `fn` `count` times and returns the sorted durations in milliseconds. */
export async function timeSamples(count: number, fn: (i: number) => Promise<unknown> | unknown): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = process.hrtime.bigint();
    await fn(i);
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return samples.sort((a, b) => a - b);
}

export const round = (n: number, digits = 3) => Number(n.toFixed(digits));

/**
 * OperationCounter counts every DynamoDB operation a client sends, by operation name, through
 * the SDK's middleware stack: exact counts, not estimates.
 */
export class OperationCounter {
  private counts = new Map<string, number>();

  constructor(doc: DynamoDBDocumentClient) {
    doc.middlewareStack.add(
      (next, context) => async (args) => {
        const name = String(context.commandName ?? 'unknown').replace(/Command$/, '');
        this.counts.set(name, (this.counts.get(name) ?? 0) + 1);
        return next(args);
      },
      { step: 'initialize', name: 'benchOperationCounter' },
    );
  }

  reset(): void {
    this.counts.clear();
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort(([a], [b]) => a.localeCompare(b)));
  }

  /** reads and writes, as DynamoDB bills them by request kind. */
  totals(): { reads: number; writes: number } {
    let reads = 0;
    let writes = 0;
    for (const [op, n] of this.counts) {
      if (/^(Get|BatchGet|Query|Scan)/.test(op)) reads += n;
      else if (/^(Put|Update|Delete|BatchWrite)/.test(op)) writes += n;
    }
    return { reads, writes };
  }
}
