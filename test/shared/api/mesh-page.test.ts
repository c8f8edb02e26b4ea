import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, Browser, Page } from 'playwright-core';
import { startLocalControlPlane, LocalControlPlane } from '../../../local/server';
import { request } from '../../support/http-client';
import { ecsTaskEvent } from '../../support/ecs-events';
import { EnvoyPoller, httpTransport } from '../../support/envoy-poller';
import { threeServices } from '../../support/three-services';

const root = join(__dirname, '..', '..', '..');
/** Debian's chromium: .ci/run installs it when missing; playwright-core never downloads a browser. */
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const outputDir = process.env.TEST_OUTPUT_DIR ?? join(root, 'test-output');

const audit = { name: 'audit', inboundPort: 15003, appPort: 8083, protocol: 'tcp', mtls: { enabled: false }, inbound: { allowedCallers: ['*'] } };
const orders = { ...threeServices.orders, inbound: { allowedCallers: ['*'] }, dependencies: [...threeServices.orders.dependencies, { service: 'audit', localPort: 9003 }] };

interface Api {
  services: { services: { spec: { name: string; dependencies?: { service: string }[]; mtls?: { enabled: boolean } } }[] };
  nodes: { services: { service: string; liveNodes: number; onLatest: number; behind: { nodeId: string; lastNack?: unknown }[]; nodes: { nodeId: string }[] }[] };
  endpoints: { services: { service: string; zones: { zone: string; counts: { healthy: number; unhealthy: number; draining: number } }[] }[] };
}

/**
 * The mesh page in a real browser (headless Chromium) against a real local control plane: the
 * graph and the tables must say what the JSON API says, and the page must pick up a change by
 * itself. Waits are for conditions on the page (its redraw counter, an element), never for time.
 */
describe('the mesh page', () => {
  let cp: LocalControlPlane;
  let browser: Browser;
  let page: Page;
  let pollers: EnvoyPoller[];
  const api = async (): Promise<Api> => ({
    services: (await request(cp.url, 'GET', '/services')).body as Api['services'],
    nodes: (await request(cp.url, 'GET', '/nodes')).body as Api['nodes'],
    endpoints: (await request(cp.url, 'GET', '/endpoints')).body as Api['endpoints'],
  });
  /** nextRedraw waits until the page has redrawn after this moment, so it shows the API's current answers. */
  const nextRedraw = async () => {
    const seen = Number(await page.getAttribute('body', 'data-refreshes'));
    await page.waitForFunction(`Number(document.body.dataset.refreshes) > ${seen + 1}`);
  };

  beforeAll(async () => {
    if (!existsSync(chromiumPath)) throw new Error(`no Chromium at ${chromiumPath}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
    cp = await startLocalControlPlane({ port: 0, config: { snapshotCacheTtlMs: 0, nodeStatusMinWriteGapMs: 0 } });
    for (const spec of [threeServices.payments, threeServices.ledger, audit, orders]) {
      expect((await request(cp.url, 'PUT', `/services/${spec.name}`, spec)).status).toBe(201);
    }
    const events = [
      ecsTaskEvent({ ecsService: 'payments', ip: '10.0.1.11', zone: 'us-east-1a' }),
      ecsTaskEvent({ ecsService: 'payments', ip: '10.0.1.12', zone: 'us-east-1a' }),
      ecsTaskEvent({ ecsService: 'payments', ip: '10.0.2.11', zone: 'us-east-1b', healthStatus: 'UNHEALTHY' }),
      ecsTaskEvent({ ecsService: 'ledger', ip: '10.0.2.21', zone: 'us-east-1b' }),
      ecsTaskEvent({ ecsService: 'audit', ip: '10.0.3.31', zone: 'us-east-1c' }),
    ];
    expect((await request(cp.url, 'POST', '/events', events)).status).toBe(200);
    const transport = httpTransport(cp.url);
    pollers = [
      new EnvoyPoller({ nodeId: 'orders-1', service: 'orders', zone: 'us-east-1a', transport }),
      new EnvoyPoller({ nodeId: 'orders-2', service: 'orders', zone: 'us-east-1b', transport }),
      new EnvoyPoller({ nodeId: 'payments-1', service: 'payments', zone: 'us-east-1a', transport }),
      new EnvoyPoller({ nodeId: 'ledger-1', service: 'ledger', zone: 'us-east-1b', transport }),
    ];
    for (let i = 0; i < 3; i++) await Promise.all(pollers.map((p) => p.pollOnce()));
    // A late Envoy that refuses the audit cluster: it NACKs the clusters and stays behind.
    const rejecting = new EnvoyPoller({
      nodeId: 'orders-3',
      service: 'orders',
      zone: 'us-east-1b',
      transport,
      reject: (type, resources) => (type === 'clusters' && resources.some((r) => r.name === 'audit') ? 'cluster audit: unknown transport socket' : undefined),
    });
    pollers.push(rejecting);
    for (let i = 0; i < 2; i++) await rejecting.pollOnce();

    // The browser is a tool, not code under test: under the calendar guard (libfaketime in
    // LD_PRELOAD) Chromium's own processes hang at -400 days, so it runs on the real clock.
    const { LD_PRELOAD: _preload, FAKETIME: _faketime, ...browserEnv } = process.env;
    browser = await chromium.launch({
      executablePath: chromiumPath,
      env: browserEnv,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 1100 } });
    await page.goto(`${cp.url}/mesh?refresh=250`);
    await page.waitForFunction('Number(document.body.dataset.refreshes) >= 1');
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await cp?.close();
  });

  it('draws every declared service with its mTLS mode and its Envoys, and an arrow for every dependency', async () => {
    const { services, nodes } = await api();
    const drawn = await page.$$eval('#graph g.node', (gs) =>
      gs.map((g) => ({ service: g.getAttribute('data-service'), mtls: g.getAttribute('data-mtls'), live: Number(g.getAttribute('data-live')), latest: Number(g.getAttribute('data-latest')) })),
    );
    expect(drawn).toEqual(
      services.services.map((r) => {
        const conv = nodes.services.find((s) => s.service === r.spec.name)!;
        return { service: r.spec.name, mtls: r.spec.mtls?.enabled === false ? 'off' : 'on', live: conv.liveNodes, latest: conv.onLatest };
      }),
    );
    expect(drawn.find((d) => d.service === 'audit')!.mtls).toBe('off');
    const arrows = await page.$$eval('#graph path.edge', (ps) => ps.map((p) => `${p.getAttribute('data-from')}→${p.getAttribute('data-to')}`).sort());
    expect(arrows).toEqual(services.services.flatMap((r) => (r.spec.dependencies ?? []).map((d) => `${r.spec.name}→${d.service}`)).sort());
    expect(await page.$$eval('#graph path.edge.denied', (ps) => ps.length)).toBe(0);
  }, 60_000);

  it('lists allowed callers, endpoints by zone and health, and each Envoy as latest, behind or NACKing', async () => {
    const { endpoints, nodes } = await api();
    const callers = await page.$$eval('#services-table tbody tr', (rows) =>
      Object.fromEntries(rows.map((r) => [r.getAttribute('data-service'), r.querySelector('[data-col="callers"]')!.textContent])),
    );
    expect(callers).toEqual({ audit: '*', ledger: 'orders (dependents)', orders: '*', payments: 'ledger, orders (dependents)' });

    const zones = await page.$$eval('#endpoints-table tbody tr', (rows) =>
      rows.map((r) => ({
        service: r.getAttribute('data-service'),
        zone: r.getAttribute('data-zone'),
        healthy: Number(r.querySelector('[data-col="healthy"]')!.textContent),
        unhealthy: Number(r.querySelector('[data-col="unhealthy"]')!.textContent),
      })),
    );
    expect(zones).toEqual(
      endpoints.services.flatMap((s) => s.zones.map((z) => ({ service: s.service, zone: z.zone, healthy: z.counts.healthy, unhealthy: z.counts.unhealthy }))),
    );
    expect(zones.find((z) => z.service === 'payments' && z.zone === 'us-east-1b')).toEqual({ service: 'payments', zone: 'us-east-1b', healthy: 0, unhealthy: 1 });

    const states = await page.$$eval('#envoys-table tbody tr', (rows) => Object.fromEntries(rows.map((r) => [r.getAttribute('data-node'), r.getAttribute('data-state')])));
    const expected = Object.fromEntries(
      nodes.services.flatMap((s) =>
        s.nodes.map((n) => {
          const behind = s.behind.find((b) => b.nodeId === n.nodeId);
          return [n.nodeId, !behind ? 'latest' : behind.lastNack ? 'nacking' : 'behind'];
        }),
      ),
    );
    expect(states).toEqual(expected);
    expect(states['orders-3']).toBe('nacking');
    expect(await page.textContent('#envoys-table tr[data-node="orders-3"]')).toContain('clusters: kept version');
    expect(await page.textContent('#count-nacking')).toBe('1');
  }, 60_000);

  it('refreshes by itself: a new service and its callers show up, one refused by its allow-list in red, and the screenshot is saved', async () => {
    const search = { name: 'search', inboundPort: 15004, appPort: 8084, protocol: 'http', inbound: { allowedCallers: ['orders'] } };
    expect((await request(cp.url, 'PUT', '/services/search', search)).status).toBe(201);
    expect((await request(cp.url, 'PUT', '/services/orders', { ...orders, dependencies: [...orders.dependencies, { service: 'search', localPort: 9004 }] })).status).toBe(200);
    await page.waitForSelector('#graph g.node[data-service="search"]');
    await page.waitForSelector('#graph path.edge[data-from="orders"][data-to="search"]:not(.denied)');
    // ledger now calls search too, which admits only orders: the API takes it, the page draws it red.
    const ledger = { ...threeServices.ledger, dependencies: [...threeServices.ledger.dependencies, { service: 'search', localPort: 9002 }] };
    expect((await request(cp.url, 'PUT', '/services/ledger', ledger)).status).toBe(200);
    await page.waitForSelector('#graph path.edge.denied[data-from="ledger"][data-to="search"]');
    for (let i = 0; i < 3; i++) await Promise.all(pollers.map((p) => p.pollOnce()));
    await nextRedraw();
    expect(await page.textContent('#services-table tr[data-service="search"] [data-col="callers"]')).toBe('orders');
    expect(await page.textContent('#changes-table tbody tr:first-child')).toMatch(/^(orders|search)/);

    mkdirSync(outputDir, { recursive: true });
    const shot = join(outputDir, 'mesh-page.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect(existsSync(shot)).toBe(true);
    // `UPDATE_DOCS_SCREENSHOT=1 npx jest test/shared/api/mesh-page.test.ts` refreshes the README's copy.
    if (process.env.UPDATE_DOCS_SCREENSHOT === '1') copyFileSync(shot, join(root, 'docs', 'mesh-page.png'));
  }, 60_000);
});
