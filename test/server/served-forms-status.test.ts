import { typeUrls, XdsTypeName } from '../../shared/envoy/resources';
import { ServiceConvergence, convergenceOf, nodesReport } from '../../shared/api/nodes';
import { useDynalite } from '../support/dynamo';
import { AdsResponse, AdsTestClient } from '../support/ads-client';
import { AdsPlane, adsPlane } from './fixtures';

const dynalite = useDynalite();

/**
 * Nodes served other forms than the stored REST ones (an Envoy on ADS, a proxyless gRPC client)
 * apply other versions: the fleet view (`GET /nodes`, meshctl status and config) compares each
 * node with the versions of the forms it is served, so a node that applied everything is on latest.
 */
describe('the fleet view of nodes served ADS or proxyless forms', () => {
  let plane: AdsPlane;
  const clients: AdsTestClient[] = [];
  beforeEach(async () => {
    plane = await adsPlane(await dynalite.newStore());
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await plane.server.close();
  });

  /** applyAll subscribes to each type in turn and ACKs what it is sent. */
  async function applyAll(node: Record<string, unknown>, subscriptions: [XdsTypeName, string[]][]): Promise<void> {
    const client = new AdsTestClient(plane.server.port);
    clients.push(client);
    let first = true;
    for (const [type, names] of subscriptions) {
      client.send({ ...(first ? { node } : {}), type_url: typeUrls[type], resource_names: names });
      first = false;
      const r: AdsResponse = await client.next();
      client.send({ type_url: typeUrls[type], resource_names: names, version_info: r.version_info, response_nonce: r.nonce });
    }
  }

  /** The report once both nodes' ACKs are recorded (each ACK is recorded after its response was sent); bounded. */
  async function reportOnceRecorded(): Promise<ServiceConvergence> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const [orders] = (await nodesReport(plane.store, 'orders')).services;
      const recorded = orders!.nodes.length === 3 && orders!.nodes.every((n) => Object.values(n.subscriptions).every((s) => s.appliedVersion !== ''));
      if (recorded || Date.now() > deadline) return orders!;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it('counts an Envoy on ADS (either kind) and a proxyless client that applied everything as on latest', async () => {
    const envoySubscriptions: [XdsTypeName, string[]][] = [['clusters', []], ['listeners', []], ['routes', ['outbound_payments']], ['endpoints', ['payments']]];
    await applyAll({ id: 'orders-a', cluster: 'orders', metadata: { 'mesh.xds': 'ads' } }, envoySubscriptions);
    await applyAll({ id: 'orders-g', cluster: 'orders', user_agent_name: 'gRPC Node Pure JS' }, [['listeners', ['payments']], ['clusters', ['payments']], ['endpoints', ['payments']]]);
    await applyAll({ id: 'orders-m', cluster: 'orders', metadata: { 'mesh.xds': 'ads', 'mesh.sds': 'rest' } }, envoySubscriptions);
    const orders = await reportOnceRecorded();
    expect(orders.nodes.map((n) => [n.nodeId, n.forms])).toEqual([['orders-a', 'ads'], ['orders-g', 'proxyless'], ['orders-m', 'ads-rest-sds']]);
    expect({ live: orders.liveNodes, onLatest: orders.onLatest, behind: orders.behind }).toEqual({ live: 3, onLatest: 3, behind: [] });

    // Read as REST forms, the same statuses would be behind: the forms are what makes them current.
    const asRest = orders.nodes.map(({ forms: _forms, ...n }) => n);
    const snapshot = await plane.store.getSnapshot('orders');
    const assignments = await plane.store.getEndpointAssignments(['payments']);
    expect(convergenceOf('orders', asRest, snapshot, assignments).behind.map((b) => b.nodeId)).toEqual(['orders-a', 'orders-g', 'orders-m']);
  });
});
