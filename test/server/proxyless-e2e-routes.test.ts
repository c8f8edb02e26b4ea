import { LocalControlPlane, startLocalControlPlane } from '../../local/server';
import { request } from '../support/http-client';
import { CallBatch, XdsClientProcess } from '../support/xds-client';
import { proxylessMesh } from '../support/proxyless-mesh';

/**
 * End to end, on loopback, with a real @grpc/grpc-js-xds client in its own process: `routes[]`
 * (an RE2 path regex and a header) send matching calls to the declared subset, and `faults`
 * abort every call with the declared gRPC status or delay it. Servers are registered by ECS
 * task events, whose task definition revision becomes the endpoint's `revision` label. Every
 * loop is bounded; nothing here measures time.
 */
describe('a proxyless gRPC client: route matching and fault injection', () => {
  let cp: LocalControlPlane;
  const mesh = proxylessMesh(() => cp);
  const { server, client, task } = mesh;

  beforeAll(async () => {
    cp = await startLocalControlPlane({ port: 0, grpcPort: 0 });
  });
  afterAll(async () => {
    await mesh.close();
    await cp.close();
  });

  const declare = async (spec: Record<string, unknown>) => {
    const res = await mesh.declare(spec);
    expect({ status: res.status, body: res.status < 300 ? 'accepted' : res.body }).toEqual({ status: expect.any(Number), body: 'accepted' });
  };
  const ready = async (c: XdsClientProcess) => {
    expect(await mesh.ready(c)).toMatchObject({ failed: 0 });
  };

  it('sends calls whose path matches the regex and whose header matches to the declared subset, and the rest to every endpoint', async () => {
    const v1 = await server('catalog-v1');
    const v2 = await server('catalog-v2');
    await declare({ name: 'catalog' });
    const gold = { name: 'x-tier', exact: 'gold' };
    const routes = [
      // The path regex does not match /test.Who/Who: this route never takes a call.
      { match: { regex: '/test\\.Who/Nobody', headers: [gold] }, subset: { revision: '1' } },
      { match: { regex: '/test\\.Who/W.o', headers: [gold] }, subset: { revision: '2' } },
    ];
    await declare({ name: 'orders', dependencies: [{ service: 'catalog', localPort: 9001, routes }] });
    expect((await request(cp.url, 'POST', '/events', [task('catalog', v1, 1), task('catalog', v2, 2)])).status).toBe(200);

    const c = client('orders-routes-1', 'catalog');
    await ready(c);
    const matching = await c.calls(20, 60_000, { name: 'x-tier', value: 'gold' });
    expect(matching).toEqual({ counts: { 'catalog-v2': 20 }, failed: 0 });
    // Another value, or no header: the whole cluster, round robin, so both endpoints answer.
    for (const batch of [await c.calls(20, 60_000, { name: 'x-tier', value: 'silver' }), await c.calls(20)]) {
      expect(batch.failed).toBe(0);
      expect(Object.keys(batch.counts).sort()).toEqual(['catalog-v1', 'catalog-v2']);
    }
  }, 120_000);

  it('delays every call and lets it complete, then aborts every call with the declared gRPC status', async () => {
    const s = await server('flaky-a');
    await declare({ name: 'flaky' });
    const delayed = { service: 'flaky', localPort: 9002, faults: { delay: { percent: 100, fixedDelayMs: 20 } } };
    await declare({ name: 'orders', dependencies: [delayed] });
    expect((await request(cp.url, 'POST', '/events', task('flaky', s))).status).toBe(200);

    const c = client('orders-faults-1', 'flaky');
    await ready(c);
    expect(await c.calls(5)).toEqual({ counts: { 'flaky-a': 5 }, failed: 0 });

    await declare({ name: 'orders', dependencies: [{ ...delayed, faults: { abort: { percent: 100, grpcStatus: 7 } } }] });
    let aborted: CallBatch | undefined;
    for (let i = 0; i < 100 && !(aborted && aborted.failed === 5); i++) aborted = await c.calls(5);
    expect(aborted?.lastError).toMatch(/^7 /); // PERMISSION_DENIED, as declared
    const before = s.stats.attempts;
    expect(await c.calls(10)).toMatchObject({ counts: {}, failed: 10 });
    // The client aborted them itself: none reached the server.
    expect(s.stats.attempts).toBe(before);
  }, 120_000);
});
