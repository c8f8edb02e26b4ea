import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { MetricUnit } from '@aws-lambda-powertools/metrics';

import { metricsNamespace } from '../../shared/config';

/**
 * The tracer-free half of the functions' observability: logs and metrics. The xds function
 * imports only this module (functions/lib/observability.ts adds the X-Ray tracer for the
 * others), so its bundle carries no X-Ray SDK: infra/mesh-function.ts says why.
 */

/** The metric namespace every function publishes to; the dashboard reads it (defined in shared/config.ts). */
export { metricsNamespace };

export function createLogger(serviceName: string): Logger {
  return new Logger({ serviceName });
}

export function createMetrics(serviceName: string): Metrics {
  return new Metrics({ namespace: metricsNamespace, serviceName });
}

/** count is MetricUnit.Count, written out so that the xds bundle needs nothing of Powertools' metrics package. */
const count: typeof MetricUnit.Count = 'Count';

/**
 * MetricSink is what MetricWindow publishes through: Powertools' Metrics, or the xds function's
 * EmfMetrics (emf.ts), which writes the same line without Powertools' 10 KB.
 */
export interface MetricSink {
  addMetric(name: string, unit: typeof MetricUnit.Count, value: number): void;
  publishStoredMetrics(): unknown;
}

/**
 * MetricWindow counts in memory and publishes one EMF line per window instead of one per
 * invocation: the xds function runs on every poll of the fleet, and a metrics line per poll
 * costs more in log ingestion than the polls themselves (docs/cost.md). Counts are flushed on
 * the first invocation after the window closes, so nothing is lost while the container lives.
 */
export class MetricWindow {
  private counts = new Map<string, number>();
  private openedAt: number;

  constructor(
    private readonly metrics: MetricSink,
    private readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {
    this.openedAt = now();
  }

  count(name: string, value = 1): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + value);
  }

  /** flushIfDue publishes the window's counts once it is `windowMs` old; returns whether it did. */
  flushIfDue(): boolean {
    if (this.now() - this.openedAt < this.windowMs || this.counts.size === 0) return false;
    for (const [name, value] of this.counts) this.metrics.addMetric(name, count, value);
    this.metrics.publishStoredMetrics();
    this.counts = new Map();
    this.openedAt = this.now();
    return true;
  }
}
