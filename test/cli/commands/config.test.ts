import { startLocalControlPlane, LocalControlPlane } from '../../../local/server';
import { request } from '../../support/http-client';
import { ecsTaskEvent } from '../../support/ecs-events';
import { EnvoyPoller, httpTransport } from '../../support/envoy-poller';
import { threeServices } from '../../support/three-services';
import { runMeshctl } from '../../support/meshctl';

describe('meshctl config', () => {
  let cp: LocalControlPlane;
  let envoy: EnvoyPoller;
  beforeAll(async () => {
    cp = await startLocalControlPlane({ port: 0, config: { snapshotCacheTtlMs: 0, nodeStatusMinWriteGapMs: 0 } });
    for (const spec of [threeServices.payments, threeServices.ledger, threeServices.orders]) {
      expect((await request(cp.url, 'PUT', `/services/${spec.name}`, spec)).status).toBe(201);
    }
    expect((await request(cp.url, 'POST', '/events', [ecsTaskEvent({ ecsService: 'payments', ip: '10.0.1.5', zone: 'us-east-1a' })])).status).toBe(200);
    envoy = new EnvoyPoller({ nodeId: 'orders-1', service: 'orders', zone: 'us-east-1a', transport: httpTransport(cp.url) });
    for (let i = 0; i < 3; i++) await envoy.pollOnce();
  });
  afterAll(async () => cp.close());

  it('serves, as JSON, the very resources an Envoy of the service is served, and what the node applied', async () => {
    const run = await runMeshctl(['config', 'orders', '--node', 'orders-1', '--endpoint', cp.url, '-o', 'json']);
    expect(run.code).toBe(0);
    const view = run.json<{ versions: Record<string, string>; resources: Record<string, unknown[]>; node: { subscriptions: { key: string; applied: string; upToDate: boolean }[] } }>();
    expect(view.resources.clusters).toEqual(envoy.resources('clusters'));
    expect(view.resources.listeners).toEqual(envoy.resources('listeners'));
    expect(view.resources.endpoints).toEqual([...envoy.resources('endpoints', ['ledger']), ...envoy.resources('endpoints', ['payments'])]);
    expect(view.resources.secrets).toEqual([{ name: 'mesh_trust_bundle' }, { name: 'service_certificate_orders' }]);
    expect(view.versions.clusters).toBe(envoy.version('clusters'));
    expect(view.node.subscriptions.map((s) => [s.key, s.applied, s.upToDate])).toEqual(
      Object.entries(envoy.versions())
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([key, version]) => [key, version, true]),
    );
  });

  it('summarizes listeners, clusters with their endpoints, and one type only with --type', async () => {
    const run = await runMeshctl(['config', 'orders', '--endpoint', cp.url]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^outbound_payments\s+127\.0\.0\.1:9001$/m);
    expect(run.stdout).toMatch(/^payments\s+EDS\s+1\/1$/m);
    const clusters = await runMeshctl(['config', 'orders', '--type', 'clusters', '--endpoint', cp.url, '-o', 'json']);
    expect(Object.keys(clusters.json<{ resources: object }>().resources)).toEqual(['clusters']);
  });

  it('refuses an unknown type, service or node with a clear message', async () => {
    expect(await runMeshctl(['config', 'orders', '--type', 'pods', '--endpoint', cp.url])).toMatchObject({
      code: 2,
      stderr: 'meshctl: --type must be one of listeners, routes, clusters, endpoints, secrets, got "pods"\n',
    });
    expect(await runMeshctl(['config', 'nope', '--endpoint', cp.url])).toMatchObject({
      code: 1,
      stderr: 'meshctl: GET /config/nope failed with 404: service "nope" has no rendered configuration: it is not declared\n',
    });
    expect(await runMeshctl(['config', 'orders', '--node', 'ghost', '--endpoint', cp.url])).toMatchObject({
      code: 1,
      stderr: 'meshctl: Envoy "ghost" has not polled as a node of "orders" (or its status expired)\n',
    });
  });
});
