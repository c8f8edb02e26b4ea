import { PollSummary } from '../shared/xds/discovery';
// From shared/, not functions/lib/observability: that module starts X-Ray's tracer (and its async hooks) when loaded.
import { metricsNamespace } from '../shared/config';

/**
 * The push tier's metrics, as CloudWatch embedded metric format (EMF) lines on stdout: the
 * awslogs driver ships them and CloudWatch extracts the metrics, so the task needs no
 * PutMetricData permission and no agent. Namespace and dimension are the functions' own
 * (EnvoyControlPlane, `service`), so the dashboard reads both tiers alike.
 */

/** pushMetricsService is the `service` dimension of every push tier metric. */
export const pushMetricsService = 'push';

/** The names the construct's autoscaling, alarms and dashboard read (infra/xds-server.ts). */
export const pushMetricNames = {
  activeStreams: 'ActiveStreams',
  pushes: 'Pushes',
  nacks: 'Nacks',
  pushLatency: 'PushLatency',
} as const;

/** EMF caps one metric at 100 values per line: more latency samples go on further lines. */
const maxValuesPerLine = 100;
/** A push not acknowledged after this long is forgotten (the node went away): memory stays bounded. */
const pendingLimit = 50_000;

export interface PushMetricsOptions {
  readonly now?: () => number;
}

/**
 * PushMetrics counts what a task's streams did between two flushes: responses that changed a
 * node's version (pushes), NACKs, and push latency, the time from a push to the node's ACK of
 * that version (what the Envoy's network and apply took). `flush` also reads the number of open
 * streams, the gauge autoscaling tracks per task.
 */
export class PushMetrics {
  private pushes = 0;
  private nacks = 0;
  private latencies: number[] = [];
  /** Pushes awaiting their ACK: `${node}\u0000${type}` → the version sent and when. */
  private readonly pending = new Map<string, { version: string; at: number }>();
  private readonly now: () => number;

  constructor(options: PushMetricsOptions = {}) {
    this.now = options.now ?? Date.now;
  }

  /** observe takes each answer of the core on any stream (AdsServerOptions.onPoll). */
  observe(poll: PollSummary): void {
    const key = `${poll.nodeId}\u0000${poll.type}\u0000${poll.resourceNames.join(',')}`;
    const waiting = this.pending.get(key);
    if (poll.nack) {
      this.nacks++;
      this.pending.delete(key);
    } else if (waiting && poll.reportedVersion === waiting.version) {
      this.latencies.push(this.now() - waiting.at);
      this.pending.delete(key);
    }
    if (poll.answeredVersion !== poll.reportedVersion && !poll.held) {
      this.pushes++;
      if (this.pending.size >= pendingLimit) this.pending.delete(this.pending.keys().next().value!);
      this.pending.delete(key);
      this.pending.set(key, { version: poll.answeredVersion, at: this.now() });
    }
  }

  /** flush returns the EMF lines for the interval just ended and starts the next one. */
  flush(activeStreams: number): string[] {
    const timestamp = this.now();
    const samples = this.latencies;
    const first = {
      [pushMetricNames.activeStreams]: activeStreams,
      [pushMetricNames.pushes]: this.pushes,
      [pushMetricNames.nacks]: this.nacks,
    };
    this.pushes = 0;
    this.nacks = 0;
    this.latencies = [];
    const lines = [emf(timestamp, first, samples.slice(0, maxValuesPerLine))];
    for (let i = maxValuesPerLine; i < samples.length; i += maxValuesPerLine) {
      lines.push(emf(timestamp, {}, samples.slice(i, i + maxValuesPerLine)));
    }
    return lines;
  }
}

function emf(timestamp: number, counts: Record<string, number>, latencies: number[]): string {
  const metrics = [
    ...Object.keys(counts).map((name) => ({ Name: name, Unit: 'Count' })),
    ...(latencies.length > 0 ? [{ Name: pushMetricNames.pushLatency, Unit: 'Milliseconds' }] : []),
  ];
  return JSON.stringify({
    _aws: { Timestamp: timestamp, CloudWatchMetrics: [{ Namespace: metricsNamespace, Dimensions: [['service']], Metrics: metrics }] },
    service: pushMetricsService,
    ...counts,
    ...(latencies.length > 0 ? { [pushMetricNames.pushLatency]: latencies } : {}),
  });
}
