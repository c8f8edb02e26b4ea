import { mockClient } from 'aws-sdk-client-mock';
import { DescribeTasksCommand, ECSClient, ListTasksCommand } from '@aws-sdk/client-ecs';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { createReconcilerHandler, ReconcileIncompleteError, slowestConvergenceMs } from '../../../functions/reconciler/handler';
import { EcsTasks } from '../../../functions/lifecycle/aws/ecs';
import { handleLifecycleEvent } from '../../../shared/lifecycle/handle';
import { useDynalite } from '../../support/dynamo';
import { declare, ecsTaskEvent, spec } from '../../shared/lifecycle/fixtures';
import { sdkEcs } from '../../support/sdk-ecs';

const dynamo = useDynalite();
const ecs = mockClient(ECSClient);
beforeEach(() => ecs.reset());

const context = { functionName: 'reconciler', awsRequestId: 'req-1', getRemainingTimeInMillis: () => 120_000 } as Context;
const scheduled: ScheduledEvent = {
  version: '0',
  id: '89d1a02d-5ec7-412e-82f5-13505f849b41',
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '111122223333',
  time: '2026-11-25T12:00:00Z',
  region: 'us-east-1',
  resources: ['arn:aws:events:us-east-1:111122223333:rule/reconcile'],
  detail: {},
};

describe('reconciler handler', () => {
  it('runs a reconciliation named after the scheduled event and returns its report', async () => {
    const store = await dynamo.newStore();
    await declare(store, spec({ name: 'orders', ecs: { cluster: 'prod' } }));
    await handleLifecycleEvent({ store }, ecsTaskEvent({ taskId: 'gone', ecsService: 'orders', version: 2, time: '2026-11-25T10:00:00Z' }));
    ecs.on(ListTasksCommand).resolves({ taskArns: [] });
    // The listing emptied the service: the valve asks ECS about the task itself, which is gone.
    ecs.on(DescribeTasksCommand).callsFake((input: { tasks: string[] }) => ({ tasks: [], failures: input.tasks.map((arn) => ({ arn, reason: 'MISSING' })) }));
    const handler = createReconcilerHandler({ store, tasks: new EcsTasks(sdkEcs(new ECSClient({}))), now: () => new Date('2026-11-25T12:00:00Z') });
    expect(await handler(scheduled, context)).toMatchObject({
      runId: 'reconcile-89d1a02d-5ec7-412e-82f5-13505f849b41',
      services: 1,
      drift: { added: 0, updated: 0, drained: 1, removed: 0 },
      errors: [],
      held: [],
    });
  });

  it('fails a run that could not list everything, after repairing the rest', async () => {
    const store = await dynamo.newStore();
    await declare(store, spec({ name: 'orders', ecs: { cluster: 'prod' } }));
    ecs.on(ListTasksCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    const handler = createReconcilerHandler({ store, tasks: new EcsTasks(sdkEcs(new ECSClient({ maxAttempts: 1 }))) });
    const error = await handler(scheduled, context).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReconcileIncompleteError);
    expect((error as ReconcileIncompleteError).report.errors).toEqual([
      'listing ECS tasks in cluster prod: ThrottlingException: Rate exceeded',
    ]);
  });
});

describe('the convergence the reconciler reports (ConvergenceMs)', () => {
  const change = (max: number) => ({ lastChange: { at: '2026-11-25T12:00:00.000Z', reachedNodes: 3, convergenceMs: { p50: max / 2, max } } });

  it("is the slowest service's time for its newest change to reach its nodes", () => {
    expect(slowestConvergenceMs([change(1_200), {}, change(8_400), change(300)])).toBe(8_400);
  });

  it('is not reported while no service has a change its nodes applied', () => {
    expect(slowestConvergenceMs([{}, {}])).toBeUndefined();
    expect(slowestConvergenceMs([])).toBeUndefined();
  });
});
