import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignatureV4 } from '@smithy/signature-v4';
import { NodeSha256 } from '../../cli/sigv4';
import { fixedCredentials } from '../support/sigv4-endpoint';
import { CloudWatchRolloutMetrics, cloudWatchGetMetricData, dataPlaneMetricNames } from '../../functions/lib/cloudwatch-rollout-metrics';
import { sdkCloudWatch } from '../support/sdk-cloudwatch';
import { dataPlaneMetricsNamespace } from '../../infra/sidecar/telemetry';

/**
 * The rollout controller's CloudWatch reader, at the one boundary no local implementation
 * exists for (CloudWatch's GetMetricData is mocked): what it asks for, and how it adds up the
 * answer, pages included.
 */
describe('CloudWatchRolloutMetrics', () => {
  const cloudWatch = mockClient(CloudWatchClient);
  beforeEach(() => cloudWatch.reset());
  afterAll(() => cloudWatch.restore());
  const metrics = new CloudWatchRolloutMetrics(sdkCloudWatch(new CloudWatchClient({ region: 'eu-west-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } })));
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

describe('cloudWatchGetMetricData, the signed request in the rollouts bundle', () => {
  let server: Server;
  let endpoint: string;
  let answer = { status: 200, body: '{}' };
  const seen: { target: string; body: Record<string, unknown>; verified: boolean }[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c)).on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        void (async () => {
          const auth = String(req.headers.authorization ?? '');
          const signedNames = /SignedHeaders=([^,]+)/.exec(auth)?.[1]?.split(';') ?? [];
          const headers = Object.fromEntries(signedNames.map((h) => [h, String(req.headers[h] ?? '')]));
          const amzDate = String(req.headers['x-amz-date'] ?? '');
          const signingDate = new Date(amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'));
          const signer = new SignatureV4({ service: 'monitoring', region: 'eu-west-1', credentials: fixedCredentials, sha256: NodeSha256 });
          const expected = await signer.sign({ method: 'POST', protocol: 'http:', hostname: '127.0.0.1', path: '/', query: {}, headers, body }, { signingDate });
          seen.push({ target: String(req.headers['x-amz-target']), body: JSON.parse(body) as Record<string, unknown>, verified: expected.headers.authorization === auth });
          res.writeHead(answer.status, { 'content-type': 'application/x-amz-json-1.0' });
          res.end(answer.body);
        })();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const lean = () => new CloudWatchRolloutMetrics(cloudWatchGetMetricData({ region: 'eu-west-1', endpoint, credentials: fixedCredentials, maxAttempts: 1 }));
  const sdk = () => new CloudWatchRolloutMetrics(sdkCloudWatch(new CloudWatchClient({ region: 'eu-west-1', endpoint, credentials: fixedCredentials, maxAttempts: 1 })));
  const query = { service: 'orders', labels: { revision: 'v2' }, from: new Date('2026-11-25T10:00:00Z'), to: new Date('2026-11-25T10:05:00Z') };

  it('sends the request the SDK client sends and adds up the same answer', async () => {
    answer = {
      status: 200,
      body: JSON.stringify({
        MetricDataResults: [
          { Id: 'class2', Label: 'class2', Timestamps: [1795600800], Values: [940], StatusCode: 'Complete' },
          { Id: 'class5', Label: 'class5', Timestamps: [1795600800], Values: [12.0], StatusCode: 'Complete' },
          { Id: 'p99', Label: 'p99', Timestamps: [1795600800], Values: [187.5], StatusCode: 'Complete' },
        ],
        Messages: [],
      }),
    };
    seen.length = 0;
    const ours = await lean().subsetStats(query);
    const theirs = await sdk().subsetStats(query);
    expect(ours).toEqual({ requests: 952, errors: 12, p99Ms: 187.5 });
    expect(ours).toEqual(theirs);
    expect(seen.map((s) => s.verified)).toEqual([true, true]);
    expect(seen[0]!.target).toBe('GraniteServiceVersion20100801.GetMetricData');
    expect(seen[0]!.body).toEqual(seen[1]!.body);
    expect(seen[0]!.body).toMatchObject({ StartTime: 1795600800, EndTime: 1795601100 });
  });

  it('fails as the SDK client fails, named by CloudWatch error type', async () => {
    answer = { status: 400, body: JSON.stringify({ __type: 'com.amazonaws.cloudwatch#InvalidNextToken', message: 'The next token is invalid.' }) };
    const ours = await lean().subsetStats(query).catch((e: Error) => ({ name: e.name, message: e.message }));
    const theirs = await sdk().subsetStats(query).catch((e: Error) => ({ name: e.name, message: e.message }));
    expect(ours).toEqual({ name: 'InvalidNextToken', message: 'The next token is invalid.' });
    expect(ours).toEqual(theirs);
  });
});

