import { startLocalControlPlane, LocalControlPlane } from '../../local/server';
import { request } from '../support/http-client';
import { EnvoyPoller, httpTransport } from '../support/envoy-poller';
import { runMeshctl } from '../support/meshctl';

interface NodesReport {
  services: {
    service: string;
    nodes: { nodeId: string; plaintextTo?: string[] }[];
    plaintextCallers?: { caller: string; nodes: string[] }[];
  }[];
}

const spec = (name: string, inboundPort: number, extra: Record<string, unknown> = {}) => ({ name, inboundPort, appPort: 8080, protocol: 'http', ...extra });
const payments = spec('payments', 15000, { mtls: { mode: 'permissive' } });
const ordersPlain = spec('orders', 15001, { mtls: { mode: 'off' }, dependencies: [{ service: 'payments', localPort: 9001 }] });
const ledger = spec('ledger', 15002, { dependencies: [{ service: 'payments', localPort: 9001 }] });
const edge = { name: 'edge', kind: 'gateway', mtls: { mode: 'off' }, listeners: [{ port: 8443, protocol: 'http' }], routes: [{ pathPrefix: '/', service: 'payments' }] };

/**
 * Migrating a live mesh to mTLS: while a service is permissive, `GET /nodes` names the callers
 * (and their Envoys) that still come in plaintext, and on each caller's Envoys the permissive
 * services it calls so; `meshctl status` shows the same. Over the local control plane on dynalite.
 */
describe('plaintext callers in GET /nodes', () => {
  let cp: LocalControlPlane;
  let pollers: EnvoyPoller[];
  const round = () => Promise.all(pollers.map((p) => p.pollOnce()));
  const nodes = async (query = '') => {
    const res = await request(cp.url, 'GET', `/nodes${query}`);
    expect(res.status).toBe(200);
    return (res.body as NodesReport).services;
  };

  beforeAll(async () => {
    cp = await startLocalControlPlane({ port: 0, config: { snapshotCacheTtlMs: 0, nodeStatusMinWriteGapMs: 0 } });
    for (const s of [payments, ordersPlain, ledger, edge]) expect((await request(cp.url, 'PUT', `/services/${s.name}`, s)).status).toBe(201);
    const transport = httpTransport(cp.url);
    pollers = [
      new EnvoyPoller({ nodeId: 'orders-2', service: 'orders', transport }),
      new EnvoyPoller({ nodeId: 'orders-1', service: 'orders', transport }),
      new EnvoyPoller({ nodeId: 'ledger-1', service: 'ledger', transport }),
      new EnvoyPoller({ nodeId: 'payments-1', service: 'payments', transport }),
    ];
    await round();
  });
  afterAll(async () => cp.close());

  it('names, per permissive service, the callers without mTLS and their live Envoys, and on each of their Envoys what it calls in plaintext', async () => {
    const report = await nodes();
    expect(report.map((s) => ({ service: s.service, plaintextCallers: s.plaintextCallers }))).toEqual([
      { service: 'edge', plaintextCallers: undefined },
      { service: 'ledger', plaintextCallers: undefined },
      { service: 'orders', plaintextCallers: undefined },
      // The gateway has no live Envoy yet; ledger sends mTLS.
      { service: 'payments', plaintextCallers: [{ caller: 'edge', nodes: [] }, { caller: 'orders', nodes: ['orders-1', 'orders-2'] }] },
    ]);
    const plaintextTo = Object.fromEntries(report.flatMap((s) => s.nodes).map((n) => [n.nodeId, n.plaintextTo]));
    expect(plaintextTo).toEqual({ 'ledger-1': undefined, 'orders-1': ['payments'], 'orders-2': ['payments'], 'payments-1': undefined });
  });

  it('tells the same for one service asked for alone', async () => {
    const [only] = await nodes('?service=payments');
    expect(only!.plaintextCallers).toEqual([{ caller: 'edge', nodes: [] }, { caller: 'orders', nodes: ['orders-1', 'orders-2'] }]);
    const [orders] = await nodes('?service=orders');
    expect(orders!.nodes.map((n) => [n.nodeId, n.plaintextTo])).toEqual([['orders-1', ['payments']], ['orders-2', ['payments']]]);
  });

  it('shows them in meshctl status, as a table and in its JSON', async () => {
    const text = await runMeshctl(['status', '--endpoint', cp.url]);
    expect(text.code).toBe(0);
    const lines = text.stdout.split('\n');
    const header = lines.findIndex((l) => l.startsWith('PERMISSIVE SERVICE'));
    expect(lines[header]!.split(/\s{2,}/)).toEqual(['PERMISSIVE SERVICE', 'PLAINTEXT CALLER', 'ITS ENVOYS']);
    expect(lines.slice(header + 1, header + 3).map((l) => l.split(/\s{2,}/))).toEqual([
      ['payments', 'edge', '-'],
      ['payments', 'orders', 'orders-1, orders-2'],
    ]);
    const json = (await runMeshctl(['status', '--endpoint', cp.url, '-o', 'json'])).json<{
      services: { service: string; plaintextCallers?: unknown }[];
      nodes: { nodeId: string; plaintextTo?: string[] }[];
    }>();
    expect(json.services.find((s) => s.service === 'payments')!.plaintextCallers).toEqual([
      { caller: 'edge', nodes: [] },
      { caller: 'orders', nodes: ['orders-1', 'orders-2'] },
    ]);
    expect(json.nodes.filter((n) => n.plaintextTo).map((n) => n.nodeId)).toEqual(['orders-1', 'orders-2']);
  });

  it('drops a caller once its mTLS is on, and shows no plaintext table when none is left', async () => {
    expect((await request(cp.url, 'PUT', '/services/orders', { ...ordersPlain, mtls: { mode: 'strict' } })).status).toBe(200);
    expect((await request(cp.url, 'PUT', '/services/edge', { ...edge, mtls: { mode: 'strict' } })).status).toBe(200);
    const report = await nodes();
    expect(report.filter((s) => s.plaintextCallers).map((s) => s.service)).toEqual([]);
    expect(report.flatMap((s) => s.nodes).filter((n) => n.plaintextTo)).toEqual([]);
    const text = await runMeshctl(['status', '--endpoint', cp.url]);
    expect(text.stdout).not.toContain('PERMISSIVE SERVICE');
  });
});
