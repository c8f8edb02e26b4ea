import { startLocalControlPlane, LocalControlPlane } from '../../local/server';
import { ecsTaskEvent } from '../support/ecs-events';
import { request } from '../support/http-client';
import { assertConformant } from '../support/envoy-schema';

const payments = { name: 'payments', inboundPort: 15000, appPort: 8080, protocol: 'http' };
const orders = {
  name: 'orders',
  inboundPort: 15000,
  appPort: 8080,
  protocol: 'http',
  dependencies: [{ service: 'payments', localPort: 9001 }],
};
const ordersNode = { id: 'orders-i-0abc', cluster: 'orders' };

describe('the local control plane', () => {
  let cp: LocalControlPlane;
  beforeAll(async () => {
    cp = await startLocalControlPlane({ port: 0, config: { snapshotCacheTtlMs: 0 } });
  });
  afterAll(async () => cp.close());

  it('serves a task that an ECS event announced to the nodes of a dependent service', async () => {
    expect((await request(cp.url, 'PUT', '/services/payments', payments)).status).toBe(201);
    expect((await request(cp.url, 'PUT', '/services/orders', orders)).status).toBe(201);

    const event = ecsTaskEvent({ ecsService: 'payments', ip: '10.0.7.21', zone: 'us-east-1b', version: 3 });
    const posted = await request(cp.url, 'POST', '/events', event);
    expect(posted.status).toBe(200);
    expect(posted.body).toMatchObject({ results: [{ outcome: 'applied', service: 'payments' }] });

    const clusters = await request(cp.url, 'POST', '/v3/discovery:clusters', { node: ordersNode });
    expect(clusters.status).toBe(200);
    const clusterNames = (clusters.body as { resources: { name: string }[] }).resources.map((r) => r.name);
    expect(clusterNames).toContain('payments');
    assertConformant(clusters.body);

    const eds = await request(cp.url, 'POST', '/v3/discovery:endpoints', {
      node: ordersNode,
      resource_names: ['payments'],
      type_url: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
    });
    expect(eds.status).toBe(200);
    assertConformant(eds.body);
    const assignment = (eds.body as { resources: Record<string, unknown>[] }).resources;
    expect(assignment).toHaveLength(1);
    expect(assignment[0]).toMatchObject({
      cluster_name: 'payments',
      endpoints: [
        {
          locality: { zone: 'us-east-1b' },
          lb_endpoints: [
            {
              endpoint: { address: { socket_address: { address: '10.0.7.21', port_value: 15000 } } },
              health_status: 'HEALTHY',
            },
          ],
        },
      ],
    });
  });

  it('lists, reads and deletes declared services', async () => {
    const list = await request(cp.url, 'GET', '/services');
    expect((list.body as { services: { spec: { name: string } }[] }).services.map((s) => s.spec.name)).toEqual([
      'orders',
      'payments',
    ]);
    expect((await request(cp.url, 'GET', '/services/orders')).body).toMatchObject({ spec: orders, revision: 1 });
    const refused = await request(cp.url, 'DELETE', '/services/payments');
    expect(refused.status).toBe(409);
    expect(refused.body).toEqual({ error: expect.stringContaining('"orders"') });
    expect((await request(cp.url, 'DELETE', '/services/orders')).status).toBe(200);
    expect((await request(cp.url, 'GET', '/services/orders')).status).toBe(404);
    const poll = await request(cp.url, 'POST', '/v3/discovery:clusters', { node: ordersNode });
    expect(poll.status).toBe(404);
  });
});
