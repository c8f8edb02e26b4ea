import { LocalControlPlane, startLocalControlPlane } from '../../local/server';
import { snapshotVersions } from '../../shared/render/snapshot';
import { EnvoyResource } from '../../shared/envoy/resources';
import { request } from '../support/http-client';
import { assertConformant } from '../support/envoy-schema';
import { CallBatch, XdsClientProcess } from '../support/xds-client';
import { proxylessMesh } from '../support/proxyless-mesh';

/**
 * End to end, on loopback, with a real @grpc/grpc-js-xds client in its own process: a split
 * between two revisions, a retry policy against a server that fails every first attempt, and a
 * resource the client rejects. Servers are registered by ECS task events, whose task
 * definition revision becomes the endpoint's `revision` label. Every loop is bounded; everything
 * is closed; nothing here measures time.
 */
describe('a proxyless gRPC client: splits, retries and NACKs', () => {
  let cp: LocalControlPlane;
  const mesh = proxylessMesh(() => cp);
  const { server, client, task, clients } = mesh;

  beforeAll(async () => {
    // Node status is written at every change, so GET /nodes shows a NACK at once.
    cp = await startLocalControlPlane({ port: 0, grpcPort: 0, config: { nodeStatusMinWriteGapMs: 0 } });
  });
  afterAll(async () => {
    await mesh.close();
    await cp.close();
  });

  const declare = async (spec: Record<string, unknown>) => {
    expect([200, 201]).toContain((await mesh.declare(spec)).status);
  };
  const ready = async (c: XdsClientProcess) => {
    expect(await mesh.ready(c)).toMatchObject({ failed: 0 });
  };

  const split = { subsets: [{ labels: { revision: '1' }, weight: 80 }, { labels: { revision: '2' }, weight: 20 }] };
  const canaryDep = { service: 'canary', localPort: 9001, split };

  it('splits calls 80/20 between two revisions, within a binomial tolerance', async () => {
    const v1 = await server('canary-v1');
    const v2 = await server('canary-v2');
    await declare({ name: 'canary' });
    await declare({ name: 'orders', dependencies: [canaryDep] });
    expect((await request(cp.url, 'POST', '/events', [task('canary', v1, 1), task('canary', v2, 2)])).status).toBe(200);

    const c = client('orders-split-1', 'canary');
    await ready(c);
    // gRPC picks a weighted cluster at random for each call (A28), so the calls that reach
    // revision 1 are X ~ Binomial(n = 400, p = 0.8): mean 320, standard deviation 8. The test
    // accepts 280..360 (80 % ± 10 points, 5 standard deviations); the exact binomial tail
    // outside it is 7.6e-7, so a correct split fails about once in 1.3 million runs. A 50/50
    // split lands inside with probability 4e-16 and a reversed one never.
    const batch = await c.calls(400, 120_000);
    expect(batch.failed).toBe(0);
    expect(Object.keys(batch.counts).sort()).toEqual(['canary-v1', 'canary-v2']);
    const toV1 = batch.counts['canary-v1']!;
    console.log(`proxyless split: ${toV1} of 400 calls to revision 1 (${(toV1 / 4).toFixed(1)} %), ${batch.counts['canary-v2']} to revision 2`);
    expect(toV1).toBeGreaterThanOrEqual(280);
    expect(toV1).toBeLessThanOrEqual(360);
  }, 120_000);

  it('sends calls with a matching header to their subset, and the rest by the split', async () => {
    const c = clients[0]!; // orders-split-1, dialing canary
    const headerRoutes = [{ header: 'x-canary', exact: 'yes', subset: { revision: '2' } }];
    await declare({ name: 'orders', dependencies: [{ ...canaryDep, headerRoutes }] });
    // Under the split alone, 20 calls all reach revision 2 with probability 0.2^20 (1e-14): once
    // they do, the header route is in force. Batches are bounded.
    const canary = { name: 'x-canary', value: 'yes' };
    let matched: CallBatch | undefined;
    for (let i = 0; i < 100 && !(matched && matched.failed === 0 && matched.counts['canary-v2'] === 20); i++) matched = await c.calls(20, 30_000, canary);
    expect(matched).toEqual({ counts: { 'canary-v2': 20 }, failed: 0 });
    // Another value, or no header: the split.
    const other = await c.calls(100, 60_000, { name: 'x-canary', value: 'no' });
    expect(other.failed).toBe(0);
    expect(Object.keys(other.counts).sort()).toEqual(['canary-v1', 'canary-v2']);
  }, 120_000);

  it('honours the declared retry policy against a server that fails every first attempt, and stops retrying when the policy says so', async () => {
    const flaky = await server('flaky-a', { failFirstAttempt: true });
    await declare({ name: 'flaky' });
    const retrying = { service: 'flaky', localPort: 9002, retries: { retryOn: ['unavailable'], numRetries: 2 } };
    await declare({ name: 'orders', dependencies: [canaryDep, retrying] });
    expect((await request(cp.url, 'POST', '/events', task('flaky', flaky))).status).toBe(200);

    const c = client('orders-retry-1', 'flaky');
    await ready(c);
    const before = { ...flaky.stats };
    const batch = await c.calls(20);
    expect(batch).toMatchObject({ failed: 0, counts: { 'flaky-a': 20 } });
    // Every call was tried twice: the first attempt failed with UNAVAILABLE, the retry answered.
    expect({ attempts: flaky.stats.attempts - before.attempts, failed: flaky.stats.failed - before.failed, retried: flaky.stats.retried - before.retried }).toEqual({
      attempts: 40,
      failed: 20,
      retried: 20,
    });

    // The same server, the policy switched off: the first attempt's failure reaches the caller.
    await declare({ name: 'orders', dependencies: [canaryDep, { ...retrying, retries: { numRetries: 0 } }] });
    let failing: CallBatch | undefined;
    for (let i = 0; i < 100 && !(failing && failing.failed > 0); i++) failing = await c.calls(5);
    expect(failing?.lastError).toMatch(/^14 /); // UNAVAILABLE, not retried
    const after = await c.calls(10);
    expect(after).toMatchObject({ failed: 10 });
  }, 120_000);

  it('records a resource the client rejects as a NACK in GET /nodes, and the client keeps its config: calls keep succeeding', async () => {
    const c = clients[0]!; // orders-split-1, dialing canary
    const store = cp.runtime.store;
    const stored = (await store.getSnapshot('orders'))!;
    const proxyless = stored.proxyless!;
    // Another writer's bug: the subset cluster of revision 1 gets the Envoy form's EDS config
    // source (REST polling). Envoy accepts it (it conforms to Envoy's protos), but gRPC only
    // takes its endpoints over ADS and rejects the cluster ("eds_config.ads and eds_config.self
    // both unset", GRPC-XDS.md).
    const restSource = (stored.resources.clusters!.find((r) => r.name === 'canary')!.eds_cluster_config as { eds_config: unknown }).eds_config;
    const clusters: EnvoyResource[] = proxyless.resources.clusters!.map((r) =>
      r.name === 'canary|revision=1' ? { ...r, eds_cluster_config: { eds_config: restSource, service_name: r.name } } : r,
    );
    const bad = clusters.find((r) => r.name === 'canary|revision=1')!;
    expect(() => assertConformant(bad)).not.toThrow();
    const resources = { ...proxyless.resources, clusters };
    const versions = snapshotVersions(resources);
    expect(versions.clusters).not.toBe(proxyless.versions.clusters);
    expect(await store.putSnapshot('orders', { ...stored, proxyless: { resources, versions } })).toBe(true);
    await cp.grpc!.watcher.poke();

    type NodeView = { nodeId: string; lastNack?: { type: string; rejectedVersion: string; keptVersion: string; message: string } };
    let node: NodeView | undefined;
    for (let i = 0; i < 100 && node?.lastNack === undefined; i++) {
      if (i > 0) await new Promise((resolve) => setTimeout(resolve, 100));
      const res = await request(cp.url, 'GET', '/nodes?service=orders');
      const services = res.body as { services: { service: string; nodes: NodeView[] }[] } | { service: string; nodes: NodeView[] }[];
      const list = Array.isArray(services) ? services : services.services;
      node = list.flatMap((s) => s.nodes).find((n) => n.nodeId === 'orders-split-1');
    }
    // gRPC validates each resource on its own: it applies the valid ones of the response, so it
    // reports the response's version with an error_detail (grpc-js-xds build/src/xds-client.js:
    // the type's version is updated when the response had valid resources), and keeps the last
    // valid form of the one it rejected.
    expect(node?.lastNack).toMatchObject({ type: 'clusters', rejectedVersion: versions.clusters, keptVersion: versions.clusters });
    expect(node?.lastNack?.message).toMatch(/eds_config/);

    const batch = await c.calls(50);
    expect(batch.failed).toBe(0);
    expect(Object.keys(batch.counts).sort()).toEqual(['canary-v1', 'canary-v2']);
  }, 120_000);

  it('keeps calls with the same session header on one server (ring hash, gRFC A42), and spreads other sessions', async () => {
    const sticky = [await server('sticky-a'), await server('sticky-b'), await server('sticky-c')];
    await declare({ name: 'sticky' });
    await declare({ name: 'orders', dependencies: [canaryDep, { service: 'sticky', localPort: 9003, affinity: { header: 'x-session' } }] });
    expect((await request(cp.url, 'POST', '/events', sticky.map((s) => task('sticky', s)))).status).toBe(200);

    const c = client('orders-sticky-1', 'sticky');
    await ready(c);
    // Each session's calls land on one server. Round robin would spread every batch of 4 over
    // the 3 servers; 20 sessions all hashing to one server has probability 3 * 3^-20 (3e-9).
    const servedBy = new Map<string, string[]>();
    for (let k = 0; k < 20; k++) {
      const batch = await c.calls(4, 30_000, { name: 'x-session', value: `session-${k}` });
      expect(batch.failed).toBe(0);
      servedBy.set(`session-${k}`, Object.keys(batch.counts));
    }
    for (const [session, servers] of servedBy) expect({ session, servers: servers.length }).toEqual({ session, servers: 1 });
    expect(new Set([...servedBy.values()].map((s) => s[0])).size).toBeGreaterThan(1);
    // The same session again, later: the same server.
    const again = await c.calls(4, 30_000, { name: 'x-session', value: 'session-0' });
    expect(Object.keys(again.counts)).toEqual(servedBy.get('session-0'));
  }, 120_000);
});
