import { LocalControlPlane, startLocalControlPlane } from '../../local/server';
import { request } from '../support/http-client';
import { ecsTaskEvent } from '../support/ecs-events';
import { CallBatch, startWhoServer, WhoServer, XdsClientProcess } from '../support/xds-client';

/**
 * End to end, on loopback: three real gRPC servers of `payments` registered by ECS task events,
 * and a real @grpc/grpc-js-xds client of `orders` in its own process dialing `xds:///payments`
 * through the local control plane's push tier. Every loop is bounded; everything is closed.
 */
describe('a proxyless gRPC client on the push tier', () => {
  let cp: LocalControlPlane;
  let servers: WhoServer[] = [];
  let client: XdsClientProcess | undefined;
  let stopped = false;

  beforeAll(async () => {
    cp = await startLocalControlPlane({ port: 0, grpcPort: 0 });
    servers = await Promise.all(['who-a', 'who-b', 'who-c'].map((id) => startWhoServer(id)));
  });
  afterAll(async () => {
    await client?.close();
    for (const s of servers) s.close();
    if (!stopped) await cp.close();
  });

  const taskOf = (s: WhoServer, lastStatus = 'RUNNING', version = 1) =>
    ecsTaskEvent({
      ecsService: 'payments',
      taskId: `task${s.id.replace('-', '')}`,
      version,
      lastStatus,
      ...(lastStatus === 'STOPPED' ? { desiredStatus: 'STOPPED' } : {}),
      bridge: { containerInstanceId: 'local', bindings: [{ containerPort: 15000, hostPort: s.port, bindIP: '127.0.0.1' }] },
    });

  it('spreads calls over the three servers, and a STOPPED task stops receiving calls within a push', async () => {
    expect((await request(cp.url, 'PUT', '/services/payments', { name: 'payments', inboundPort: 15000, appPort: 8080, protocol: 'grpc' })).status).toBe(201);
    expect(
      (await request(cp.url, 'PUT', '/services/orders', { name: 'orders', inboundPort: 15000, appPort: 8080, protocol: 'grpc', dependencies: [{ service: 'payments', localPort: 9001 }] }))
        .status,
    ).toBe(201);
    const posted = await request(cp.url, 'POST', '/events', servers.map((s) => taskOf(s)));
    expect(posted.status).toBe(200);

    client = new XdsClientProcess(cp.grpc!.port, { id: 'orders-grpc-1', cluster: 'orders' }, 'payments');
    // Calls wait for the channel to be ready (for its config), 5 s each: a few tries bound the start.
    let ready: CallBatch | undefined;
    for (let i = 0; i < 10 && !(ready && ready.failed === 0); i++) ready = await client.calls(1);
    expect(ready).toMatchObject({ failed: 0 });

    const spread = await client.calls(30);
    expect(spread.failed).toBe(0);
    expect(Object.keys(spread.counts).sort()).toEqual(['who-a', 'who-b', 'who-c']);
    for (const n of Object.values(spread.counts)) expect(n).toBeGreaterThanOrEqual(5); // round robin: 10 each

    const stoppedAt = Date.now();
    expect((await request(cp.url, 'POST', '/events', taskOf(servers[1]!, 'STOPPED', 2))).status).toBe(200);
    let after: CallBatch | undefined;
    let batches = 0;
    for (; batches < 100 && (after === undefined || after.counts['who-b'] !== undefined); batches++) after = await client.calls(3);
    const stopMs = Date.now() - stoppedAt;
    console.log(`push tier: calls stopped reaching a STOPPED task ${stopMs} ms after its event (${batches} batches of 3 calls)`);
    expect(after?.counts['who-b']).toBeUndefined();
    const rest = await client.calls(30);
    expect(rest.failed).toBe(0);
    expect(Object.keys(rest.counts).sort()).toEqual(['who-a', 'who-c']);
    expect(stopMs).toBeLessThan(20_000); // a generous bound: a loaded machine passes it too
  });

  it("ends a call to a slow server at the caller's declared timeout, before the client's own deadline", async () => {
    const slow = await startWhoServer('slow-a', 2000);
    servers.push(slow);
    expect((await request(cp.url, 'PUT', '/services/slow', { name: 'slow', inboundPort: 15000, appPort: 8080, protocol: 'grpc' })).status).toBe(201);
    const dependencies = [
      { service: 'payments', localPort: 9001 },
      { service: 'slow', localPort: 9002, timeoutMs: 300, retries: { numRetries: 0 } },
    ];
    expect((await request(cp.url, 'PUT', '/services/orders', { name: 'orders', inboundPort: 15000, appPort: 8080, protocol: 'grpc', dependencies })).status).toBe(200);
    const task = ecsTaskEvent({
      ecsService: 'slow',
      bridge: { containerInstanceId: 'local', bindings: [{ containerPort: 15000, hostPort: slow.port, bindIP: '127.0.0.1' }] },
    });
    expect((await request(cp.url, 'POST', '/events', task)).status).toBe(200);
    // The client's own deadline (20 s) is far beyond the server's 2 s: the call fails only if the route's 300 ms applies.
    const slowClient = new XdsClientProcess(cp.grpc!.port, { id: 'orders-grpc-2', cluster: 'orders' }, 'slow', 20_000);
    try {
      const batch = await slowClient.calls(1);
      expect(batch.failed).toBe(1);
      expect(batch.lastError).toMatch(/^4 /); // DEADLINE_EXCEEDED, from max_stream_duration
    } finally {
      await slowClient.close();
    }
  });

  it('sends calls to a task that comes back, and keeps serving calls when the control plane stops', async () => {
    expect((await request(cp.url, 'POST', '/events', taskOf(servers[1]!, 'RUNNING', 3))).status).toBe(200);
    let batch: CallBatch | undefined;
    for (let i = 0; i < 100 && batch?.counts['who-b'] === undefined; i++) batch = await client!.calls(3);
    expect(batch?.counts['who-b']).toBeGreaterThan(0);

    // Loss of control is not loss of service: the client keeps the config it has.
    await cp.close();
    stopped = true;
    const without = await client!.calls(30);
    expect(without.failed).toBe(0);
    expect(Object.keys(without.counts).sort()).toEqual(['who-a', 'who-b', 'who-c']);
  });
});
