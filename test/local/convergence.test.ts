import { startLocalControlPlane, LocalControlPlane } from '../../local/server';
import { ecsTaskEvent } from '../support/ecs-events';
import { request } from '../support/http-client';
import { threeServices } from '../support/three-services';
import { EnvoyPoller, httpTransport } from '../support/envoy-poller';

/**
 * The seed's whole argument is convergence: after a burst of lifecycle events, every Envoy of
 * the fleet is on the new config within two poll intervals, and the control plane knows it.
 * Here a poll interval is one round in which every simulated Envoy polls each of its
 * subscriptions once, so the test depends on the protocol, not on timing.
 */
describe('a fleet of polling Envoys', () => {
  let cp: LocalControlPlane;
  const pollers: EnvoyPoller[] = [];
  const round = () => Promise.all(pollers.map((p) => p.pollOnce()));

  beforeAll(async () => {
    cp = await startLocalControlPlane({ port: 0, config: { snapshotCacheTtlMs: 0, nodeStatusMinWriteGapMs: 0 } });
    const specs = [threeServices.payments, threeServices.ledger, threeServices.orders];
    for (const spec of specs) expect((await request(cp.url, 'PUT', `/services/${spec.name}`, spec)).status).toBe(201);
    const transport = httpTransport(cp.url);
    const fleet: [string, number][] = [
      ['orders', 20],
      ['ledger', 15],
      ['payments', 15],
    ];
    for (const [service, count] of fleet) {
      for (let i = 0; i < count; i++) {
        pollers.push(new EnvoyPoller({ nodeId: `${service}-${i}`, service, zone: i % 2 ? 'us-east-1a' : 'us-east-1b', transport }));
      }
    }
  });
  afterAll(async () => cp.close());

  it('converges on the latest version within two poll intervals after a burst of events, and GET /nodes agrees', async () => {
    // Start-up: CDS and LDS, then the EDS and RDS subscriptions they reveal, then reporting back.
    await round();
    await round();
    await round();

    const burst = [
      ...Array.from({ length: 12 }, (_, i) =>
        ecsTaskEvent({ ecsService: 'payments', taskId: `pay${i}`, ip: `10.0.1.${i + 1}`, zone: i % 2 ? 'us-east-1a' : 'us-east-1b', version: 3 }),
      ),
      ...Array.from({ length: 6 }, (_, i) => ecsTaskEvent({ ecsService: 'ledger', taskId: `led${i}`, ip: `10.0.2.${i + 1}`, version: 3 })),
      ecsTaskEvent({ ecsService: 'payments', taskId: 'pay0', ip: '10.0.1.1', version: 5, lastStatus: 'RUNNING', desiredStatus: 'STOPPED' }),
      ecsTaskEvent({ ecsService: 'payments', taskId: 'pay1', ip: '10.0.1.2', version: 6, lastStatus: 'STOPPED' }),
      ecsTaskEvent({ ecsService: 'ledger', taskId: 'led0', ip: '10.0.2.1', version: 4, healthStatus: 'UNHEALTHY' }),
    ];
    const posted = await request(cp.url, 'POST', '/events', burst);
    expect(posted.status).toBe(200);

    await round(); // every Envoy is served the new endpoints
    await round(); // ... and reports that it applied them

    const addresses = (p: EnvoyPoller, service: string) =>
      p
        .resources('endpoints', [service])
        .flatMap((cla) => (cla.endpoints as { lb_endpoints: { endpoint: { address: { socket_address: { address: string } } }; health_status: string }[] }[]))
        .flatMap((l) => l.lb_endpoints.map((e) => `${e.endpoint.address.socket_address.address}:${e.health_status}`))
        .sort();
    const expectedPayments = [
      '10.0.1.1:DRAINING',
      ...Array.from({ length: 10 }, (_, i) => `10.0.1.${i + 3}:HEALTHY`),
    ].sort();
    for (const p of pollers.filter((x) => x.nodeId.startsWith('orders') || x.nodeId.startsWith('ledger'))) {
      expect({ node: p.nodeId, payments: addresses(p, 'payments') }).toEqual({ node: p.nodeId, payments: expectedPayments });
    }
    for (const p of pollers.filter((x) => x.nodeId.startsWith('orders'))) {
      expect(addresses(p, 'ledger')).toContain('10.0.2.1:UNHEALTHY');
    }

    const nodes = await request(cp.url, 'GET', '/nodes');
    expect(nodes.status).toBe(200);
    const report = (nodes.body as { services: { service: string; liveNodes: number; onLatest: number; behind: unknown[]; lastChange?: { reachedNodes: number; convergenceMs: { p50: number; max: number } } }[] }).services;
    expect(report.map(({ service, liveNodes, onLatest, behind }) => ({ service, liveNodes, onLatest, behind }))).toEqual([
      { service: 'ledger', liveNodes: 15, onLatest: 15, behind: [] },
      { service: 'orders', liveNodes: 20, onLatest: 20, behind: [] },
      { service: 'payments', liveNodes: 15, onLatest: 15, behind: [] },
    ]);
    // The callers of payments and ledger saw the burst: the report says how long it took to reach them.
    const orders = report.find((s) => s.service === 'orders')!;
    expect(orders.lastChange).toEqual({ at: expect.any(String), reachedNodes: 20, convergenceMs: { p50: expect.any(Number), max: expect.any(Number) } });
    // Rounds, not a clock, decide the outcome; the generous limit only absorbs a loaded CI machine.
  }, 180_000);

  it('reports a node that has not caught up as behind', async () => {
    const late = pollers.find((p) => p.nodeId === 'orders-0')!;
    await request(cp.url, 'POST', '/events', ecsTaskEvent({ ecsService: 'payments', taskId: 'pay99', ip: '10.0.1.99', version: 3 }));
    await Promise.all(pollers.filter((p) => p !== late).map((p) => p.pollOnce()));
    await Promise.all(pollers.filter((p) => p !== late).map((p) => p.pollOnce()));
    const nodes = await request(cp.url, 'GET', '/nodes?service=orders');
    const [orders] = (nodes.body as { services: { onLatest: number; behind: { nodeId: string; subscriptions: { key: string }[] }[] }[] }).services;
    expect(orders!.onLatest).toBe(19);
    expect(orders!.behind).toEqual([{ nodeId: 'orders-0', subscriptions: [expect.objectContaining({ key: 'endpoints:payments' })] }]);
  }, 120_000);
});
