import { AwsRequestError, AwsRequestOptions, awsSender } from './aws-request';
import { SubsetStats } from '../../shared/model/rollout-state';
import { RolloutMetrics } from '../../shared/rollout/controller';
import { labelTag, statsTags } from '../../shared/render/stats';

/**
 * Where the data plane's metrics are in CloudWatch, as the sidecars' StatsD sink sends them
 * (shared/render/stats.ts, docs/rendering.md "Observability"): the inbound listener's requests
 * by response class and its request time, with the service, the listener's stat prefix and the
 * endpoint's labels as dimensions (`mesh_<label>`, e.g. `mesh_revision`).
 */
export const dataPlaneMetricNames = {
  namespace: 'EnvoyMesh',
  requests: 'envoy.http.downstream_rq_xx',
  requestTime: 'envoy.http.downstream_rq_time',
  serviceDimension: statsTags.service,
  listenerDimension: statsTags.listener,
  inboundListener: 'inbound',
  responseClassDimension: statsTags.responseClass,
  labelDimension: labelTag,
} as const;

const responseClasses = ['1', '2', '3', '4', '5'] as const;

/** MetricDataQuery is the part of CloudWatch's query the rollout controller sends: one metric statistic. */
export interface MetricDataQuery {
  readonly Id: string;
  readonly MetricStat: {
    readonly Metric: { readonly Namespace: string; readonly MetricName: string; readonly Dimensions: readonly { readonly Name: string; readonly Value: string }[] };
    readonly Period: number;
    readonly Stat: string;
  };
}

/**
 * GetMetricDataApi is the one CloudWatch call the rollout controller makes. In its bundle it is
 * the signed JSON request of cloudWatchGetMetricData (the SDK's CloudWatch client is 17 KB of
 * the bundle); tests adapt the SDK's client to it (test/support/sdk-cloudwatch.ts).
 */
export interface GetMetricDataApi {
  getMetricData(input: {
    MetricDataQueries: MetricDataQuery[];
    StartTime: Date;
    EndTime: Date;
    ScanBy: 'TimestampAscending';
    NextToken?: string;
  }): Promise<{ readonly MetricDataResults?: readonly { readonly Id?: string; readonly Values?: readonly number[] }[]; readonly NextToken?: string }>;
}

/**
 * cloudWatchGetMetricData is GetMetricData as a signed request in CloudWatch's JSON 1.0 protocol
 * (`X-Amz-Target: GraniteServiceVersion20100801.GetMetricData`, times in epoch seconds) on
 * aws-request.ts, retried as the SDK retries; errors are AwsRequestErrors named by CloudWatch's
 * type. test/functions/cloudwatch-rollout-metrics.test.ts compares it with the SDK's client.
 */
export function cloudWatchGetMetricData(options: AwsRequestOptions): GetMetricDataApi {
  const send = awsSender('monitoring', options, (status, text) => {
    let answer: Record<string, unknown> = {};
    try {
      answer = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // not JSON
    }
    const type = String(answer.__type ?? (status >= 500 ? 'ServiceUnavailable' : `Http${status}`)).replace(/^.*#/, '');
    return new AwsRequestError(type, status, String(answer.message ?? answer.Message ?? `CloudWatch answered ${status}`));
  });
  return {
    async getMetricData(input) {
      const body = JSON.stringify({ ...input, StartTime: input.StartTime.getTime() / 1000, EndTime: input.EndTime.getTime() / 1000 });
      const text = await send({ 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'GraniteServiceVersion20100801.GetMetricData' }, body);
      return JSON.parse(text) as Awaited<ReturnType<GetMetricDataApi['getMetricData']>>;
    },
  };
}

/**
 * CloudWatchRolloutMetrics reads what the new subset's Envoys served between two instants with
 * one GetMetricData: requests of every response class and the 5xx among them (an error is a 5xx
 * answered by the subset's own Envoy: what it proxied from the payload, or its own failure to),
 * and the p99 request time. One datapoint per query: the period spans the window (whole minutes).
 * Undefined when CloudWatch has no datapoint at all (no traffic, or no metrics yet).
 */
export class CloudWatchRolloutMetrics implements RolloutMetrics {
  constructor(
    private readonly cloudWatch: GetMetricDataApi,
    private readonly names = dataPlaneMetricNames,
  ) {}

  async subsetStats(query: { service: string; labels: Readonly<Record<string, string>>; from: Date; to: Date }): Promise<SubsetStats | undefined> {
    const n = this.names;
    const dimensions = [
      { Name: n.serviceDimension, Value: query.service },
      { Name: n.listenerDimension, Value: n.inboundListener },
      ...Object.keys(query.labels)
        .sort()
        .map((k) => ({ Name: n.labelDimension(k), Value: query.labels[k]! })),
    ];
    const period = Math.max(60, Math.ceil((query.to.getTime() - query.from.getTime()) / 60_000) * 60);
    const queries: MetricDataQuery[] = [
      ...responseClasses.map((c) => ({
        Id: `class${c}`,
        MetricStat: {
          Metric: { Namespace: n.namespace, MetricName: n.requests, Dimensions: [...dimensions, { Name: n.responseClassDimension, Value: c }] },
          Period: period,
          Stat: 'Sum',
        },
      })),
      { Id: 'p99', MetricStat: { Metric: { Namespace: n.namespace, MetricName: n.requestTime, Dimensions: dimensions }, Period: period, Stat: 'p99' } },
    ];
    const results: { readonly Id?: string; readonly Values?: readonly number[] }[] = [];
    let nextToken: string | undefined;
    do {
      const out = await this.cloudWatch.getMetricData({
        MetricDataQueries: queries,
        StartTime: query.from,
        EndTime: query.to,
        ScanBy: 'TimestampAscending',
        ...(nextToken ? { NextToken: nextToken } : {}),
      });
      results.push(...(out.MetricDataResults ?? []));
      nextToken = out.NextToken;
    } while (nextToken);
    const sum = (id: string) => results.filter((r) => r.Id === id).reduce((s, r) => s + (r.Values ?? []).reduce((a, v) => a + v, 0), 0);
    const seen = results.some((r) => (r.Values ?? []).length > 0);
    if (!seen) return undefined;
    const p99s = results.filter((r) => r.Id === 'p99').flatMap((r) => r.Values ?? []);
    return {
      requests: responseClasses.reduce((s, c) => s + sum(`class${c}`), 0),
      errors: sum('class5'),
      ...(p99s.length > 0 ? { p99Ms: Math.max(...p99s) } : {}),
    };
  }
}
