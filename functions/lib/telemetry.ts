import type { MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import { metricsNamespace } from '../../shared/config';
import { EmfMetrics, MetricSink } from './emf';
import { JsonLogger, createJsonLogger } from './json-logger';

/**
 * The functions' logs and metrics: the JSON log lines and EMF metric lines Powertools' Logger
 * and Metrics write for the same calls (json-logger.ts and emf.ts, each checked against
 * Powertools by its test), without Powertools or the X-Ray SDK in any bundle (docs/deploy.md,
 * "Bundles and cold starts"; infra/mesh-function.ts says why). Handlers are middy handlers with
 * the `telemetry` middleware below.
 */

/** The metric namespace every function publishes to; the dashboard reads it (defined in shared/config.ts). */
export { metricsNamespace };

/** MetricUnit names the CloudWatch units the functions publish in (the strings Powertools' MetricUnit holds). */
export const MetricUnit = { Count: 'Count', Milliseconds: 'Milliseconds', Seconds: 'Seconds' } as const;
export type MetricUnit = (typeof MetricUnit)[keyof typeof MetricUnit];

export function createLogger(serviceName: string): JsonLogger {
  return createJsonLogger(serviceName);
}

export function createMetrics(serviceName: string): EmfMetrics {
  return new EmfMetrics(metricsNamespace, serviceName);
}

/**
 * telemetry is the middy middleware that does for a handler what Powertools' injectLambdaContext
 * and logMetrics middlewares did: the invocation's keys (function name, request id, cold start)
 * on every log line, and the metrics the invocation added published as one EMF line when it
 * ends, whether it returned or threw (the error goes on to Lambda unchanged).
 */
export function telemetry(
  logger: Pick<JsonLogger, 'addContext'>,
  metrics?: Pick<EmfMetrics, 'publishStoredMetrics'>,
): MiddlewareObj<unknown, unknown, Error, Context> {
  const publish = async () => {
    metrics?.publishStoredMetrics();
  };
  return {
    before: async (request) => {
      if (request.context) logger.addContext(request.context);
    },
    after: publish,
    onError: publish,
  };
}

export type { MetricSink } from './emf';

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
    for (const [name, value] of this.counts) this.metrics.addMetric(name, MetricUnit.Count, value);
    this.metrics.publishStoredMetrics();
    this.counts = new Map();
    this.openedAt = this.now();
    return true;
  }
}
