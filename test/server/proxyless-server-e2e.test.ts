import { LocalControlPlane, startLocalControlPlane } from '../../local/server';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { typeUrls } from '../../shared/envoy/resources';
import { names } from '../../shared/render/names';
import { defaultRenderSettings } from '../../shared/render/settings';
import { AdsTestClient } from '../support/ads-client';
import { ecsTaskEvent } from '../support/ecs-events';
import { request } from '../support/http-client';
import { CallBatch, XdsClientProcess } from '../support/xds-client';
import { runMeshctl } from '../support/meshctl';
import { XdsServerProcess, freePort } from '../support/xds-server';

/**
 * End to end, on loopback, with proxyless mTLS on: a real @grpc/grpc-js-xds XdsServer of
 * `payments` and a real xDS client of `orders`, each in its own process with the gRPC bootstrap
 * `meshctl proxyless --certs` writes, whose file_watcher certificate provider reads PEMs issued by
 * the control plane's CA (fetched from its SDS as the service's Envoys are). The server terminates mTLS and enforces the
 * allow-list as gRPC's RBAC filter, per route; an allow-list change reaches it over RDS while the
 * Listener it was sent keeps its version and bytes (no drain). Every wait is bounded.
 */
describe('a proxyless gRPC server with mTLS and the allow-list per route', () => {
  let cp: LocalControlPlane;
  const closers: (() => Promise<void> | void)[] = [];

  beforeAll(async () => {
    cp = await startLocalControlPlane({ port: 0, grpcPort: 0, config: { render: { ...defaultRenderSettings, proxylessMtls: true } } });
  });
  afterAll(async () => {
    for (const close of closers.reverse()) await close();
    await cp.close();
  });

  /**
   * bootstrapOf is a node's gRPC bootstrap as `meshctl proxyless --certs` writes it: the push
   * tier's address, the server Listener template, and a file_watcher provider over the service's
   * certificate, key and trust bundle, fetched from SDS as its Envoys are served them.
   */
  const bootstrapOf = async (service: string, nodeId: string): Promise<Record<string, unknown>> => {
    const dir = mkdtempSync(join(tmpdir(), 'proxyless-node-'));
    closers.push(() => rmSync(dir, { recursive: true, force: true }));
    const argv = ['proxyless', service, '--node', nodeId, '--xds', `127.0.0.1:${cp.grpc!.port}`, '--dir', dir, '--certs', '--endpoint', cp.url];
    // Certificates are issued as services are declared: a few tries bound the wait.
    let run = await runMeshctl(argv);
    for (let i = 0; i < 50 && run.code !== 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      run = await runMeshctl(argv);
    }
    expect(run).toMatchObject({ code: 0, stderr: expect.stringContaining('and its certificate files') });
    return JSON.parse(readFileSync(join(dir, 'bootstrap.json'), 'utf8')) as Record<string, unknown>;
  };

  /** served is what the push tier serves a proxyless node of payments for one type and name: version and bytes. */
  const served = async (type: 'listeners' | 'routes', name: string) => {
    const probe = new AdsTestClient(cp.grpc!.port);
    try {
      probe.send({ node: { id: 'payments-probe', cluster: 'payments', user_agent_name: 'gRPC Node Pure JS' }, type_url: typeUrls[type], resource_names: [name] });
      const r = await probe.next();
      return { version: r.version_info, bytes: JSON.stringify((r.resources ?? []).filter((x) => (x as { name?: unknown }).name === name)) };
    } finally {
      probe.close();
    }
  };

  /** until makes batches of one call until `done` holds (at most 30, inside the test's bound: each waits up to its 5 s deadline only while nothing answers). */
  const until = async (client: XdsClientProcess, done: (b: CallBatch) => boolean): Promise<CallBatch> => {
    let batch = await client.calls(1);
    for (let i = 0; i < 30 && !done(batch); i++) batch = await client.calls(1);
    return batch;
  };
  const permissionDenied = (b: CallBatch) => b.failed === 1 && /^7 /.test(b.lastError ?? ''); // 7: PERMISSION_DENIED

  it('serves an allowed caller, denies it once removed from allowedCallers without a new Listener, and serves it again once added back', async () => {
    const port = await freePort();
    const payments = (allowedCallers: string[]) => ({ name: 'payments', inboundPort: port, appPort: 8080, protocol: 'grpc', inbound: { allowedCallers } });
    expect((await request(cp.url, 'PUT', '/services/payments', payments(['orders']))).status).toBe(201);
    const orders = { name: 'orders', inboundPort: 15000, appPort: 8080, protocol: 'grpc', dependencies: [{ service: 'payments', localPort: 9001 }] };
    expect((await request(cp.url, 'PUT', '/services/orders', orders)).status).toBe(201);
    const task = ecsTaskEvent({ ecsService: 'payments', bridge: { containerInstanceId: 'local', bindings: [{ containerPort: port, hostPort: port, bindIP: '127.0.0.1' }] } });
    expect((await request(cp.url, 'POST', '/events', task)).status).toBe(200);

    const server = new XdsServerProcess('payments-1', port, await bootstrapOf('payments', 'payments-1'), { rbacPerRouteShim: true });
    closers.push(() => server.close());
    expect(await server.servingWithin()).toBe(port);
    const client = new XdsClientProcess(cp.grpc!.port, { id: 'orders-1', cluster: 'orders' }, 'payments', 5000, await bootstrapOf('orders', 'orders-1'));
    closers.push(() => client.close());

    // (a) Allowed: the call goes over mTLS (the cluster's TLS context) and passes the per-route allow-list.
    expect(await until(client, (b) => b.failed === 0)).toEqual({ counts: { 'payments-1': 1 }, failed: 0 });
    expect(await client.calls(5)).toEqual({ counts: { 'payments-1': 5 }, failed: 0 });
    const listenerName = names.proxylessServerListener(port);
    const listener = await served('listeners', listenerName);
    const route = await served('routes', names.inboundRoute);
    expect(listener.bytes).toContain('"instance_name":"mesh_certificates"');
    expect(route.bytes).toContain('spiffe://mesh.local/service/orders');

    // (b) Removed: calls fail with PERMISSION_DENIED; only the route configuration changed.
    expect((await request(cp.url, 'PUT', '/services/payments', payments(['billing']))).status).toBe(200);
    expect(permissionDenied(await until(client, permissionDenied))).toBe(true);
    const denied = await client.calls(5);
    expect(denied.failed).toBe(5);
    expect(denied.lastError).toMatch(/^7 Unauthorized RPC rejected/);
    expect(await served('listeners', listenerName)).toEqual(listener);
    const routeWithout = await served('routes', names.inboundRoute);
    expect(routeWithout.version).not.toBe(route.version);
    expect(routeWithout.bytes).not.toContain('spiffe://mesh.local/service/orders');

    // (c) Added back: calls succeed again, and the Listener is still the one first sent.
    expect((await request(cp.url, 'PUT', '/services/payments', payments(['orders']))).status).toBe(200);
    expect(await until(client, (b) => b.failed === 0)).toEqual({ counts: { 'payments-1': 1 }, failed: 0 });
    expect(await client.calls(5)).toEqual({ counts: { 'payments-1': 5 }, failed: 0 });
    expect(await served('listeners', listenerName)).toEqual(listener);
  }, 180_000);

  // What a Node proxyless server does without the shim: the override is dropped, the listener's
  // deny-everything rules apply, and even an allowed caller is refused. It fails closed, never open.
  it('stock @grpc/grpc-js-xds 1.14.1 drops the per-route allow-list, so its server denies even an allowed caller', async () => {
    const port = await freePort();
    expect((await request(cp.url, 'PUT', '/services/ledger', { name: 'ledger', inboundPort: port, appPort: 8080, protocol: 'grpc', inbound: { allowedCallers: ['orders'] } })).status).toBe(201);
    const dependencies = [
      { service: 'payments', localPort: 9001 },
      { service: 'ledger', localPort: 9002 },
    ];
    expect((await request(cp.url, 'PUT', '/services/orders', { name: 'orders', inboundPort: 15000, appPort: 8080, protocol: 'grpc', dependencies })).status).toBe(200);
    const task = ecsTaskEvent({ ecsService: 'ledger', bridge: { containerInstanceId: 'local', bindings: [{ containerPort: port, hostPort: port, bindIP: '127.0.0.1' }] } });
    expect((await request(cp.url, 'POST', '/events', task)).status).toBe(200);
    const server = new XdsServerProcess('ledger-1', port, await bootstrapOf('ledger', 'ledger-1'));
    closers.push(() => server.close());
    expect(await server.servingWithin()).toBe(port);
    const client = new XdsClientProcess(cp.grpc!.port, { id: 'orders-2', cluster: 'orders' }, 'ledger', 5000, await bootstrapOf('orders', 'orders-2'));
    closers.push(() => client.close());
    expect(await until(client, (b) => b.failed === 0 || permissionDenied(b))).toEqual({ counts: {}, failed: 1, lastError: '7 Unauthorized RPC rejected' });
  }, 120_000);
});
