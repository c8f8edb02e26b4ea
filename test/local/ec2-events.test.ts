import { startLocalControlPlane, LocalControlPlane } from '../../local/server';
import { ecsTaskEvent } from '../support/ecs-events';
import { request } from '../support/http-client';
import { ec2StateEvent, lifecycleActionEvent } from '../shared/lifecycle/fixtures';

/**
 * EC2 state changes and Auto Scaling hooks over the local HTTP API, as in AWS: an instance is
 * described first (`PUT /local/instances/{id}`, what DescribeInstances would say), then its
 * events are posted. A batch that mixes events is answered per event, so nothing is applied
 * without being reported.
 */
describe('EC2 and Auto Scaling events on the local control plane', () => {
  let cp: LocalControlPlane;
  beforeAll(async () => {
    cp = await startLocalControlPlane({ port: 0 });
    expect((await request(cp.url, 'PUT', '/services/web', { name: 'web', inboundPort: 15001, appPort: 8080, protocol: 'http', drainSeconds: 0 })).status).toBe(201);
    expect((await request(cp.url, 'PUT', '/services/payments', { name: 'payments', inboundPort: 15000, appPort: 8081, protocol: 'http' })).status).toBe(201);
  });
  afterAll(async () => cp.close());

  const liveEndpoints = async (service: string) =>
    (await cp.runtime.store.listEndpoints(service)).filter((e) => !e.removed).map((e) => `${e.id} ${e.endpoint.address}:${e.endpoint.port} ${e.endpoint.health}`);

  it('turns a described instance and its state change into an endpoint of the service its tag names', async () => {
    const described = await request(cp.url, 'PUT', '/local/instances/i-0123456789abcdef0', {
      state: 'running',
      privateIp: '10.0.4.7',
      zone: 'us-east-1a',
      tags: { 'mesh:service': 'web' },
    });
    expect(described.status).toBe(201);
    const posted = await request(cp.url, 'POST', '/events', ec2StateEvent({ instanceId: 'i-0123456789abcdef0', state: 'running', time: '2026-11-25T10:00:00Z' }));
    expect({ status: posted.status, outcome: (posted.body as { results: { outcome: string }[] }).results[0]!.outcome }).toEqual({ status: 200, outcome: 'applied' });
    expect(await liveEndpoints('web')).toEqual(['i-0123456789abcdef0 10.0.4.7:15001 healthy']);
  });

  it('drains on a terminate hook and completes the lifecycle action after the drain', async () => {
    await request(cp.url, 'PUT', '/local/instances/i-0123456789abcdef1', { state: 'running', privateIp: '10.0.4.8', tags: { 'mesh:service': 'web' } });
    await request(cp.url, 'POST', '/events', ec2StateEvent({ instanceId: 'i-0123456789abcdef1', state: 'running', time: '2026-11-25T10:00:00Z' }));
    const hook = lifecycleActionEvent({ transition: 'terminate', instanceId: 'i-0123456789abcdef1', time: '2026-11-25T11:00:00Z', token: 'tok-1' });
    expect((await request(cp.url, 'POST', '/events', hook)).status).toBe(200);
    await cp.drains.settled();
    const listed = await request(cp.url, 'GET', '/local/instances');
    expect((listed.body as { completedLifecycleActions: unknown[] }).completedLifecycleActions).toEqual([
      expect.objectContaining({ instanceId: 'i-0123456789abcdef1', lifecycleActionToken: 'tok-1', result: 'CONTINUE' }),
    ]);
    expect(await liveEndpoints('web')).not.toContainEqual(expect.stringContaining('i-0123456789abcdef1'));
  });

  it('answers a batch whose EC2 event names an instance nobody described with 207, each event with its own status', async () => {
    const ecs = ecsTaskEvent({ ecsService: 'payments', taskId: 'batch1', ip: '10.0.5.1', version: 2 });
    const unknown = ec2StateEvent({ instanceId: 'i-00000000000000999', state: 'running', time: '2026-11-25T10:00:00Z', eventId: 'ev-unknown' });
    const answer = await request(cp.url, 'POST', '/events', [ecs, unknown]);
    expect(answer.status).toBe(207);
    expect(answer.body).toEqual({
      error: '1 of 2 events could not be applied; the others were',
      results: [
        expect.objectContaining({ status: 200, outcome: 'applied', service: 'payments' }),
        { status: 422, eventId: 'ev-unknown', error: expect.stringContaining('i-00000000000000999') },
      ],
    });
    expect(await liveEndpoints('payments')).toEqual([expect.stringContaining('10.0.5.1:15000 healthy')]);
  });

  it('rejects an instance description that is not one, naming the field, and an id that is not an instance id', async () => {
    const bad = await request(cp.url, 'PUT', '/local/instances/i-0123456789abcdef2', { state: 'napping', privateIp: 'ten' });
    expect(bad.status).toBe(400);
    expect((bad.body as { problems: { path: string }[] }).problems.map((p) => p.path).sort()).toEqual(['privateIp', 'state']);
    expect((await request(cp.url, 'PUT', '/local/instances/web-1', { state: 'running' })).status).toBe(400);
    expect((await request(cp.url, 'DELETE', '/local/instances/i-0123456789abcdef9')).status).toBe(404);
  });
});
