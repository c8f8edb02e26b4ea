import { SubsetStats } from '../shared/model/rollout-state';
import { RolloutMetrics } from '../shared/rollout/controller';
import { HttpError } from '../shared/api/http';

/** A MetricSample is what the endpoints of a service carrying `labels` served around `at`. */
export interface MetricSample {
  readonly service: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly requests: number;
  readonly errors: number;
  readonly p99Ms?: number;
  readonly at: string;
}

/**
 * LocalRolloutMetrics is the local runner's metrics source for the rollout controller: samples
 * fed over `POST /local/metrics` (by a test, or by hand), summed over a step's window. A sample
 * counts for a subset when its labels include the subset's; the window's p99 is the largest
 * sample p99 (an upper bound, as percentiles do not add up).
 */
export class LocalRolloutMetrics implements RolloutMetrics {
  private readonly samples: MetricSample[] = [];

  record(input: unknown): MetricSample {
    const sample = parseSample(input);
    this.samples.push(sample);
    return sample;
  }

  async subsetStats(query: { service: string; labels: Readonly<Record<string, string>>; from: Date; to: Date }): Promise<SubsetStats | undefined> {
    const inWindow = this.samples.filter((s) => {
      const at = Date.parse(s.at);
      return s.service === query.service && at >= query.from.getTime() && at <= query.to.getTime() && Object.entries(query.labels).every(([k, v]) => s.labels[k] === v);
    });
    if (inWindow.length === 0) return undefined;
    const p99s = inWindow.flatMap((s) => (s.p99Ms === undefined ? [] : [s.p99Ms]));
    return {
      requests: inWindow.reduce((n, s) => n + s.requests, 0),
      errors: inWindow.reduce((n, s) => n + s.errors, 0),
      ...(p99s.length > 0 ? { p99Ms: Math.max(...p99s) } : {}),
    };
  }
}

/** parseSample checks a fed sample, naming what is wrong (a 400). */
function parseSample(input: unknown): MetricSample {
  const problems: string[] = [];
  const o = (input ?? {}) as Record<string, unknown>;
  if (typeof o.service !== 'string' || o.service === '') problems.push('service must be a service name');
  const labels = o.labels;
  if (!labels || typeof labels !== 'object' || Array.isArray(labels) || !Object.values(labels).every((v) => typeof v === 'string')) {
    problems.push('labels must be an object of string values, e.g. {"revision": "2"}');
  }
  for (const key of ['requests', 'errors'] as const) {
    if (!Number.isInteger(o[key]) || (o[key] as number) < 0) problems.push(`${key} must be a whole number, 0 or more`);
  }
  if (Number.isInteger(o.requests) && Number.isInteger(o.errors) && (o.errors as number) > (o.requests as number)) problems.push('errors must not exceed requests');
  if (o.p99Ms !== undefined && (typeof o.p99Ms !== 'number' || !(o.p99Ms >= 0))) problems.push('p99Ms must be a number of ms, 0 or more');
  if (typeof o.at !== 'string' || Number.isNaN(Date.parse(o.at))) problems.push('at must be an ISO 8601 instant');
  if (problems.length > 0) throw new HttpError(400, `bad metric sample: ${problems.join('; ')}`);
  return {
    service: o.service as string,
    labels: labels as Record<string, string>,
    requests: o.requests as number,
    errors: o.errors as number,
    ...(o.p99Ms !== undefined ? { p99Ms: o.p99Ms as number } : {}),
    at: new Date(o.at as string).toISOString(),
  };
}
