import { clusterName, instanceObservationChange, observedInstancePhase, taskArnCluster } from '../../../shared/reconcile/observe';
import { InstanceDescription } from '../../../shared/lifecycle/ports';
import { instanceOrderingKey, terminalOrderingKey } from '../../../shared/lifecycle/ec2-instance';
import { spec } from '../lifecycle/fixtures';

const instance = (state: string, lifecycleState?: string): InstanceDescription => ({
  instanceId: 'i-0000000000000000a',
  state,
  privateIp: '10.0.2.1',
  zone: 'us-east-1a',
  tags: { 'mesh:service': 'web' },
  ...(lifecycleState ? { lifecycleState } : {}),
});

describe('observedInstancePhase', () => {
  it.each([
    ['running', undefined, 'healthy'],
    ['running', 'InService', 'healthy'],
    ['running', 'Pending:Wait', 'unhealthy'],
    ['running', 'Pending:Proceed', 'healthy'],
    ['running', 'Terminating:Wait', 'draining'],
    ['running', 'Terminating:Proceed', 'draining'],
    ['running', 'Standby', 'draining'],
    ['running', 'Detaching', 'draining'],
    ['running', 'Warmed:Running', 'remove'],
    ['stopped', 'Warmed:Stopped', 'remove'],
    ['pending', 'Warmed:Pending', 'starting'],
    ['stopping', undefined, 'draining'],
    ['shutting-down', 'Terminating:Proceed', 'draining'],
    ['stopped', undefined, 'remove'],
    ['terminated', 'Terminated', 'remove'],
    ['pending', undefined, 'starting'],
  ])('an instance %s in Auto Scaling state %s is %s', (state, lifecycleState, phase) => {
    expect(observedInstancePhase(instance(state, lifecycleState))).toBe(phase);
  });
});

describe('instanceObservationChange', () => {
  const run = { runId: 'run-1', observedAt: new Date('2026-11-25T12:00:00Z'), skewMs: 60_000 };
  const web = spec({ name: 'web' });

  it('ranks an observation a skew before the listing, so events around it win', () => {
    const change = instanceObservationChange(instance('running'), web, run);
    expect(change?.kind === 'upsert' && change.endpoint.source).toEqual({
      kind: 'reconciler',
      eventId: 'run-1',
      eventTime: '2026-11-25T12:00:00.000Z',
      orderingKey: instanceOrderingKey('2026-11-25T11:59:00Z', 1),
    });
  });

  it('ranks a terminate hook’s drain like stopping, and a terminated instance as final', () => {
    const draining = instanceObservationChange(instance('running', 'Terminating:Wait'), web, run);
    expect(draining?.kind === 'upsert' && draining.endpoint.source.orderingKey).toBe(instanceOrderingKey('2026-11-25T11:59:00Z', 2));
    const gone = instanceObservationChange(instance('terminated'), web, run);
    expect(gone).toMatchObject({ kind: 'remove', source: { orderingKey: terminalOrderingKey } });
  });
});

describe('ARNs and names', () => {
  it.each([
    ['arn:aws:ecs:us-east-1:111122223333:task/prod/0123abcd', 'prod'],
    ['arn:aws:ecs:us-east-1:111122223333:task/0123abcd', undefined],
  ])('reads the cluster of %s', (arn, cluster) => {
    expect(taskArnCluster(arn)).toBe(cluster);
  });

  it('reads a cluster name from a name or an ARN', () => {
    expect([clusterName('prod'), clusterName('arn:aws:ecs:us-east-1:111122223333:cluster/prod')]).toEqual(['prod', 'prod']);
  });
});
