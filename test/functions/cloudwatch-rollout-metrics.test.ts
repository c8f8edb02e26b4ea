import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { CloudWatchRolloutMetrics, dataPlaneMetricNames } from '../../functions/lib/cloudwatch-rollout-metrics';
import { dataPlaneMetricsNamespace } from '../../infra/sidecar/telemetry';

/**
 * The rollout controller's CloudWatch reader, at the one boundary no local implementation
 * exists for (CloudWatch's GetMetricData is mocked): what it asks for, and how it adds up the
 * answer, pages included.
 */
describe('CloudWatchRolloutMetrics', () => {
  const cloudWatch = mockClient(CloudWatchClient);
  beforeEach(() => cloudWatch.reset());
  const metrics = new CloudWatchRolloutMetrics(new CloudWatchClient({ region: 'eu-west-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }));
  const window = { service: 'payments', labels: { revision: '13', track: 'canary' }, from: new Date('2030-01-01T00:00:00Z'), to: new Date('2030-01-01T00:05:30Z') };

  it('asks for the inbound requests of every response class and the p99 request time of the subset, one datapoint over the window', async () => {
    cloudWatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
    await metrics.subsetStats(window);
    const input = cloudWatch.commandCalls(GetMetricDataCommand)[0]!.args[0].input;
    expect(input).toMatchObject({ StartTime: window.from, EndTime: window.to });
    const dims = [
      { Name: 'mesh_service', Value: 'payments' },
      { Name: 'mesh_listener', Value: 'inbound' },
      { Name: 'mesh_revision', Value: '13' },
      { Name: 'mesh_track', Value: 'canary' },
    ];
    expect(input.MetricDataQueries!.map((q) => [q.Id, q.MetricStat!.Metric!.MetricName, q.MetricStat!.Stat, q.MetricStat!.Period])).toEqual([
      ['class1', dataPlaneMetricNames.requests, 'Sum', 360],
      ['class2', dataPlaneMetricNames.requests, 'Sum', 360],
      ['class3', dataPlaneMetricNames.requests, 'Sum', 360],
      ['class4', dataPlaneMetricNames.requests, 'Sum', 360],
      ['class5', dataPlaneMetricNames.requests, 'Sum', 360],
      ['p99', dataPlaneMetricNames.requestTime, 'p99', 360],
    ]);
    expect(input.MetricDataQueries![4]!.MetricStat!.Metric!.Dimensions).toEqual([...dims, { Name: 'mesh_response_class', Value: '5' }]);
    expect(input.MetricDataQueries![5]!.MetricStat!.Metric!.Dimensions).toEqual(dims);
    // Where the sidecars' CloudWatch agents put them (infra/sidecar/telemetry.ts).
    for (const q of input.MetricDataQueries!) expect(q.MetricStat!.Metric!.Namespace).toBe(dataPlaneMetricsNamespace);
  });

  it('adds up every class as requests and 5xx as errors, across pages, and reads the largest p99', async () => {
    cloudWatch
      .on(GetMetricDataCommand)
      .resolvesOnce({
        MetricDataResults: [
          { Id: 'class2', Values: [900] },
          { Id: 'class4', Values: [40] },
          { Id: 'p99', Values: [120] },
        ],
        NextToken: 'more',
      })
      .resolvesOnce({ MetricDataResults: [{ Id: 'class5', Values: [10] }, { Id: 'class2', Values: [50] }, { Id: 'p99', Values: [180] }] });
    expect(await metrics.subsetStats(window)).toEqual({ requests: 1000, errors: 10, p99Ms: 180 });
    expect(cloudWatch.commandCalls(GetMetricDataCommand).map((c) => c.args[0].input.NextToken)).toEqual([undefined, 'more']);
  });

  it('says nothing was measured when CloudWatch has no datapoint (no traffic, or no metrics yet)', async () => {
    cloudWatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [{ Id: 'class2', Values: [] }, { Id: 'p99', Values: [] }] });
    expect(await metrics.subsetStats(window)).toBeUndefined();
  });
});
