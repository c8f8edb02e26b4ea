import { createServer } from 'node:net';
import { startLocalControlPlane, LocalControlPlane } from '../../../local/server';
import { request } from '../../support/http-client';
import { EnvoyPoller, httpTransport } from '../../support/envoy-poller';
import { threeServices } from '../../support/three-services';
import { runMeshctl } from '../../support/meshctl';

interface StatusJson {
  thresholdMs: number;
  services: { service: string; liveNodes: number; onLatest: number; behind: number }[];
  nodes: {
    nodeId: string;
    service: string;
    zone?: string;
    sinceLastPollMs: number;
    types: Record<string, { state: string; applied: string; current: string }>;
    nack?: { type: string; message: string };
    behindForMs: number;
    behindTooLong: boolean;
  }[];
  behindTooLong: string[];
}

/**
 * meshctl status against a real local control plane and simulated Envoys: rounds of polls,
 * not time, move the fleet, and the clock meshctl reads is the test's.
 */
describe('meshctl status', () => {
  let cp: LocalControlPlane;
  let pollers: EnvoyPoller[];
  const round = () => Promise.all(pollers.map((p) => p.pollOnce()));
  const ordersBefore = { ...threeServices.orders, dependencies: [threeServices.orders.dependencies[0]] };

  beforeAll(async () => {
    cp = await startLocalControlPlane({ port: 0, config: { snapshotCacheTtlMs: 0, nodeStatusMinWriteGapMs: 0 } });
    for (const spec of [threeServices.payments, threeServices.ledger, ordersBefore]) {
      expect((await request(cp.url, 'PUT', `/services/${spec.name}`, spec)).status).toBe(201);
    }
    const transport = httpTransport(cp.url);
    pollers = [
      new EnvoyPoller({ nodeId: 'orders-1', service: 'orders', zone: 'us-east-1a', transport }),
      new EnvoyPoller({
        nodeId: 'orders-2',
        service: 'orders',
        zone: 'us-east-1b',
        transport,
        reject: (type, resources) => (type === 'clusters' && resources.some((r) => r.name === 'ledger') ? 'bad cluster ledger' : undefined),
      }),
      new EnvoyPoller({ nodeId: 'payments-1', service: 'payments', zone: 'us-east-1a', transport }),
    ];
    for (let i = 0; i < 3; i++) await round();
  });
  afterAll(async () => cp.close());

  it('shows every Envoy synced, with the time since its last poll from the injected clock, and exits 0', async () => {
    const { services } = (await request(cp.url, 'GET', '/nodes')).body as { services: { nodes: { nodeId: string; lastPollAt: string }[] }[] };
    const lastPoll = Date.parse(services.flatMap((s) => s.nodes).find((n) => n.nodeId === 'orders-1')!.lastPollAt);
    const run = await runMeshctl(['status', '--endpoint', cp.url, '--output', 'json'], { now: new Date(lastPoll + 42_000) });
    expect(run.code).toBe(0);
    const status = run.json<StatusJson>();
    expect(status.services.map(({ service, liveNodes, onLatest, behind }) => ({ service, liveNodes, onLatest, behind }))).toEqual([
      { service: 'ledger', liveNodes: 0, onLatest: 0, behind: 0 },
      { service: 'orders', liveNodes: 2, onLatest: 2, behind: 0 },
      { service: 'payments', liveNodes: 1, onLatest: 1, behind: 0 },
    ]);
    const orders1 = status.nodes.find((n) => n.nodeId === 'orders-1')!;
    expect(orders1).toMatchObject({ service: 'orders', zone: 'us-east-1a', sinceLastPollMs: 42_000, behindForMs: 0, behindTooLong: false });
    expect(Object.fromEntries(Object.entries(orders1.types).map(([t, s]) => [t, s.state]))).toEqual({
      clusters: 'SYNCED',
      listeners: 'SYNCED',
      endpoints: 'SYNCED',
      routes: 'SYNCED',
    });
  });

  describe('after a change one Envoy rejects', () => {
    let since: number;
    beforeAll(async () => {
      expect((await request(cp.url, 'PUT', '/services/orders', threeServices.orders)).status).toBe(200);
      for (let i = 0; i < 3; i++) await round(); // CDS, then the new EDS subscription, then its report
      const nodes = (await request(cp.url, 'GET', '/nodes?service=orders')).body as {
        services: { behind: { nodeId: string; subscriptions: { key: string; currentSince?: string }[] }[] }[];
      };
      const behind = nodes.services[0]!.behind;
      expect(behind.map((b) => b.nodeId)).toEqual(['orders-2']);
      since = Date.parse(behind[0]!.subscriptions.find((s) => s.key === 'clusters')!.currentSince!);
    });

    it('shows the NACK with its message and exits 0 while the Envoy is behind for less than the threshold', async () => {
      const run = await runMeshctl(['status', 'orders', '--endpoint', cp.url, '-o', 'json', '--threshold', '60s'], { now: new Date(since + 5_000) });
      expect(run.code).toBe(0);
      const status = run.json<StatusJson>();
      const orders2 = status.nodes.find((n) => n.nodeId === 'orders-2')!;
      expect(orders2.types.clusters!.state).toBe('NACKED');
      expect(orders2.types.clusters!.applied).not.toBe(orders2.types.clusters!.current);
      expect(orders2.nack).toEqual({ type: 'clusters', message: expect.stringContaining('kept version'), at: expect.any(String) });
      expect(orders2).toMatchObject({ behindForMs: 5_000, behindTooLong: false });
      expect(status.nodes.find((n) => n.nodeId === 'orders-1')!.types.clusters!.state).toBe('SYNCED');
      expect(status.services).toEqual([expect.objectContaining({ service: 'orders', liveNodes: 2, onLatest: 1, behind: 1 })]);
    });

    it('exits 1 and names the Envoy once it has been behind for longer than the threshold', async () => {
      const run = await runMeshctl(['status', '--endpoint', cp.url, '--threshold', '2m'], { now: new Date(since + 3 * 60_000) });
      expect(run.code).toBe(1);
      expect(run.stderr).toBe('\n1 Envoy(s) behind for longer than 2m: orders-2\n');
      const header = run.stdout.split('\n').find((l) => l.startsWith('NODE'))!;
      expect(header.split(/\s{2,}/)).toEqual(['NODE', 'SERVICE', 'ZONE', 'CDS', 'LDS', 'EDS', 'RDS', 'SDS', 'LAST POLL', 'BEHIND FOR', 'NACK']);
      const row = run.stdout.split('\n').find((l) => l.startsWith('orders-2'))!;
      // Listeners wait for the clusters they reference, so LDS is behind too, but only CDS was rejected.
      expect(row).toMatch(/^orders-2\s+orders\s+us-east-1b\s+NACKED [\w-]{8}→[\w-]{8}\s+STALE [\w-]{8}→[\w-]{8}\s+SYNCED [\w-]{8}/);
      expect(row).toMatch(/ 3m\s+clusters: kept version/);
      expect(run.stdout).toMatch(/^orders\s+2\s+1\s+1\s/m);
    });
  });

  it('refuses an unknown service, a bad threshold and an unreachable endpoint with exit code 2 or 1 and a clear message', async () => {
    const unknown = await runMeshctl(['status', 'nope', '--endpoint', cp.url]);
    expect({ code: unknown.code, stderr: unknown.stderr }).toEqual({
      code: 1,
      stderr: 'meshctl: GET /nodes?service=nope failed with 404: service "nope" is not declared\n',
    });
    const threshold = await runMeshctl(['status', '--endpoint', cp.url, '--threshold', 'soon']);
    expect({ code: threshold.code, stderr: threshold.stderr }).toEqual({
      code: 2,
      stderr: 'meshctl: --threshold must be a duration such as 30s, 5m or 500ms, got "soon"\n',
    });
    const closed = await closedPort();
    const down = await runMeshctl(['status', '--endpoint', `http://127.0.0.1:${closed}`]);
    expect({ code: down.code, stderr: down.stderr }).toEqual({
      code: 2,
      stderr: `meshctl: cannot reach the control plane at http://127.0.0.1:${closed}: ECONNREFUSED\n`,
    });
  });

  it('has --help', async () => {
    const run = await runMeshctl(['status', '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^usage: meshctl status \[service\]/);
    expect(run.stdout).toContain('--threshold');
    expect(run.stdout).toContain('--endpoint URL');
  });
});

/** closedPort is a loopback port nothing listens on: one the OS just handed out and took back. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
