import { Metadata, status } from '@grpc/grpc-js';
import { LocalControlPlane, startLocalControlPlane } from '../../local/server';
import { typeUrls } from '../../shared/envoy/resources';
import { request } from '../support/http-client';
import { AdsTestClient } from '../support/ads-client';

/** The local runner serves the push tier beside REST: same table, same node status, same tokens. */
describe('the local push tier', () => {
  let cp: LocalControlPlane;
  const clients: AdsTestClient[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await cp.close();
  });
  const payments = { name: 'payments', inboundPort: 15000, appPort: 8080, protocol: 'http' };
  const orders = { ...payments, name: 'orders', dependencies: [{ service: 'payments', localPort: 9001 }] };

  it('shows a NACK sent over gRPC in GET /nodes, as REST polls are shown', async () => {
    cp = await startLocalControlPlane({ port: 0, grpcPort: 0, config: { nodeStatusMinWriteGapMs: 0 } });
    await request(cp.url, 'PUT', '/services/payments', payments);
    await request(cp.url, 'PUT', '/services/orders', orders);
    const client = new AdsTestClient(cp.grpc!.port);
    clients.push(client);
    client.send({ node: { id: 'orders-ads-1', cluster: 'orders' }, type_url: typeUrls.clusters });
    const first = await client.next();
    client.send({ type_url: typeUrls.clusters, response_nonce: first.nonce, error_detail: { code: 3, message: 'rejected by test' } });
    // The NACK is handled when it arrives, after this send returns: look until it shows, for at most 10 s.
    let nodes: { body: unknown } | undefined;
    for (const deadline = Date.now() + 10_000; Date.now() < deadline && !JSON.stringify(nodes?.body ?? '').includes('rejected by test'); ) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      nodes = await request(cp.url, 'GET', '/nodes');
    }
    expect(JSON.stringify(nodes?.body)).toContain('rejected by test');
  });

  it("binds a stream to its service's token under --auth token, carried as authorization metadata", async () => {
    cp = await startLocalControlPlane({ port: 0, grpcPort: 0, auth: 'token' });
    const admin = { authorization: `Bearer ${cp.adminToken}` };
    await request(cp.url, 'PUT', '/services/payments', payments, admin);
    await request(cp.url, 'PUT', '/services/orders', orders, admin);
    const anonymous = new AdsTestClient(cp.grpc!.port);
    clients.push(anonymous);
    anonymous.send({ node: { id: 'orders-1', cluster: 'orders' }, type_url: typeUrls.clusters });
    expect((await anonymous.ended()).code).toBe(status.UNAUTHENTICATED);

    const metadata = new Metadata();
    metadata.set('authorization', `Bearer ${cp.tokens.issue('orders')}`);
    const bound = new AdsTestClient(cp.grpc!.port, metadata);
    clients.push(bound);
    bound.send({ node: { id: 'orders-1', cluster: 'orders' }, type_url: typeUrls.clusters });
    expect((await bound.next()).type_url).toBe(typeUrls.clusters);
  });
});
