import { PushMetrics } from '../../server/metrics';
import { PollSummary } from '../../shared/xds/discovery';
import { Nack } from '../../shared/model/node-status';

/** A poll as the core summarises it: node orders-1 asking for clusters. */
const poll = (reportedVersion: string, answeredVersion: string, extra: Partial<PollSummary> = {}): PollSummary => ({
  nodeId: 'orders-1',
  service: 'orders',
  type: 'clusters',
  resourceNames: [],
  reportedVersion,
  answeredVersion,
  held: false,
  ...extra,
});

const nack: Nack = { subscription: 'clusters', type: 'clusters', rejectedVersion: 'v2', keptVersion: 'v1', message: 'bad cluster', at: '2026-01-01T00:00:00.000Z' };

describe('PushMetrics', () => {
  it('writes one EMF line per interval: streams, pushes, NACKs and the push-to-ACK latency, then starts over', () => {
    let now = 1_700_000_000_000;
    const metrics = new PushMetrics({ now: () => now });
    metrics.observe(poll('', 'v1')); // first push
    now += 40;
    metrics.observe(poll('v1', 'v1')); // its ACK, 40 ms later
    metrics.observe(poll('v1', 'v2')); // a second push
    now += 15;
    metrics.observe(poll('v1', 'v2', { nack })); // rejected
    const lines = metrics.flush(7);
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      {
        _aws: {
          Timestamp: now,
          CloudWatchMetrics: [
            {
              Namespace: 'EnvoyControlPlane',
              Dimensions: [['service']],
              Metrics: [
                { Name: 'ActiveStreams', Unit: 'Count' },
                { Name: 'Pushes', Unit: 'Count' },
                { Name: 'Nacks', Unit: 'Count' },
                { Name: 'PushLatency', Unit: 'Milliseconds' },
              ],
            },
          ],
        },
        service: 'push',
        ActiveStreams: 7,
        Pushes: 3,
        Nacks: 1,
        PushLatency: [40],
      },
    ]);
    const next = JSON.parse(metrics.flush(2)[0]!);
    expect(next).toMatchObject({ ActiveStreams: 2, Pushes: 0, Nacks: 0 });
    expect(next.PushLatency).toBeUndefined();
    expect(next._aws.CloudWatchMetrics[0].Metrics.map((m: { Name: string }) => m.Name)).toEqual(['ActiveStreams', 'Pushes', 'Nacks']);
  });

  it('counts neither a held answer nor an unchanged version as a push', () => {
    const metrics = new PushMetrics({ now: () => 0 });
    metrics.observe(poll('v1', 'v1'));
    metrics.observe(poll('', 'v1', { type: 'listeners', held: true }));
    expect(JSON.parse(metrics.flush(1)[0]!)).toMatchObject({ Pushes: 0, Nacks: 0 });
  });

  it('spreads more than 100 latency samples over lines of at most 100 values (the EMF limit)', () => {
    let now = 0;
    const metrics = new PushMetrics({ now: () => now });
    for (let i = 0; i < 250; i++) {
      const node = { nodeId: `n-${i}` };
      metrics.observe(poll('', 'v1', node));
      now += 1;
      metrics.observe(poll('v1', 'v1', node));
    }
    const lines = metrics.flush(250).map((l) => JSON.parse(l));
    expect(lines.map((l) => l.PushLatency.length)).toEqual([100, 100, 50]);
    expect(lines[0]).toMatchObject({ Pushes: 250, ActiveStreams: 250 });
    expect(lines[1].Pushes).toBeUndefined();
    expect(lines[1]._aws.CloudWatchMetrics[0].Metrics).toEqual([{ Name: 'PushLatency', Unit: 'Milliseconds' }]);
  });
});
