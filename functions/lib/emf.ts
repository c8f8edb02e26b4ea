
const truthy = /^(true|1|yes|on|y)$/i;

export interface EmfMetricsOptions {
  /** Where a line goes. @default stdout, as Powertools writes it */
  readonly write?: (line: string) => void;
  readonly now?: () => number;
  readonly env?: NodeJS.ProcessEnv;
}

/** MetricSink is what MetricWindow (telemetry.ts) publishes through: EmfMetrics, or Powertools' Metrics in its test. */
export interface MetricSink {
  addMetric(name: string, unit: 'Count', value: number): void;
  publishStoredMetrics(): unknown;
}

/**
 * EmfMetrics writes the CloudWatch Embedded Metric Format line that Powertools' Metrics writes
 * for the same counts (namespace, the `service` dimension, one value per metric or an array
 * when a name was added more than once), and honours POWERTOOLS_METRICS_DISABLED and
 * POWERTOOLS_DEV as it does; test/functions/emf.test.ts compares the two lines. Every function
 * publishes through it (the xds function one line per MetricWindow): Powertools' Metrics is
 * 10 KB of each bundle and of each cold start's module loading (docs/deploy.md).
 */
export class EmfMetrics implements MetricSink {
  private stored = new Map<string, { unit: string; values: number[] }>();
  private readonly disabled: boolean;
  private readonly write: (line: string) => void;
  private readonly now: () => number;

  constructor(
    private readonly namespace: string,
    private readonly serviceName: string,
    options: EmfMetricsOptions = {},
  ) {
    const env = options.env ?? process.env;
    const switchedOff = env.POWERTOOLS_METRICS_DISABLED;
    this.disabled = switchedOff !== undefined ? truthy.test(switchedOff.trim()) : truthy.test((env.POWERTOOLS_DEV ?? '').trim());
    this.write = options.write ?? ((line) => process.stdout.write(`${line}\n`));
    this.now = options.now ?? Date.now;
  }

  addMetric(name: string, unit: string, value: number): void {
    const metric = this.stored.get(name) ?? { unit, values: [] };
    metric.values.push(value);
    this.stored.set(name, metric);
  }

  publishStoredMetrics(): void {
    if (this.stored.size === 0) return;
    const metrics = [...this.stored];
    this.stored = new Map();
    this.emit(metrics, {});
  }

  /**
   * singleMetric is Powertools' singleMetric: a metric with dimensions of its own (beside
   * `service`), written as its own line as soon as it is added.
   */
  singleMetric(): { addDimension(name: string, value: string): void; addMetric(name: string, unit: string, value: number): void } {
    const dimensions: Record<string, string> = {};
    return {
      addDimension: (name, value) => void (dimensions[name] = value),
      addMetric: (name, unit, value) => this.emit([[name, { unit, values: [value] }]], dimensions),
    };
  }

  private emit(metrics: [string, { unit: string; values: number[] }][], dimensions: Record<string, string>): void {
    if (this.disabled) return;
    this.write(
      JSON.stringify({
        _aws: {
          Timestamp: this.now(),
          CloudWatchMetrics: [
            {
              Namespace: this.namespace,
              Dimensions: [['service', ...Object.keys(dimensions)]],
              Metrics: metrics.map(([name, { unit }]) => ({ Name: name, Unit: unit })),
            },
          ],
        },
        service: this.serviceName,
        ...dimensions,
        ...Object.fromEntries(metrics.map(([name, { values }]) => [name, values.length === 1 ? values[0] : values])),
      }),
    );
  }
}
