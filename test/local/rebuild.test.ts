import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalControlPlane } from '../../local/server';
import { defaultRenderSettings } from '../../shared/render/settings';
import type { RebuildReport } from '../../shared/api/rebuild';
import { request } from '../support/http-client';
import { threeServices } from '../support/three-services';
import { runMeshctl } from '../support/meshctl';

const inline = { render: { ...defaultRenderSettings, routeDelivery: 'inline' as const } };
const listenersOf = async (url: string) => JSON.stringify((await request(url, 'GET', '/config/orders?type=listeners')).body);
const rebuildOf = async (url: string) => (await request(url, 'GET', '/rebuild')).body as RebuildReport;

describe('the fleet rebuild of the local runner', () => {
  it('renders the stored snapshots again at start when the render settings changed, and not when they did not', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'cp-rebuild-'));
    const first = await startLocalControlPlane({ port: 0, dataDir, config: { snapshotCacheTtlMs: 0 } });
    try {
      for (const spec of [threeServices.payments, threeServices.ledger, threeServices.orders]) {
        expect((await request(first.url, 'PUT', `/services/${spec.name}`, spec)).status).toBe(201);
      }
      expect(await listenersOf(first.url)).toContain('"rds"');
      expect(await rebuildOf(first.url)).toMatchObject({ upToDate: true, last: { reason: 'first', services: 0 } });
    } finally {
      await first.close();
    }

    const second = await startLocalControlPlane({ port: 0, dataDir, config: { snapshotCacheTtlMs: 0, ...inline } });
    let last: RebuildReport['last'];
    try {
      // Routes inline in the listeners from the first request on: rebuilt before the server listened.
      expect(await listenersOf(second.url)).not.toContain('"rds"');
      const report = await rebuildOf(second.url);
      expect(report).toMatchObject({ upToDate: true, last: { reason: 'render-changed', status: 'done', services: 3, snapshots: 3 } });
      last = report.last;
    } finally {
      await second.close();
    }

    const third = await startLocalControlPlane({ port: 0, dataDir, config: { snapshotCacheTtlMs: 0, ...inline } });
    try {
      expect((await rebuildOf(third.url)).last).toEqual(last);
    } finally {
      await third.close();
    }
  });

  it('starts one when asked (POST /rebuild, meshctl rebuild start) and shows it done', async () => {
    const cp = await startLocalControlPlane({ port: 0 });
    try {
      for (const spec of [threeServices.payments, threeServices.ledger, threeServices.orders]) {
        expect((await request(cp.url, 'PUT', `/services/${spec.name}`, spec)).status).toBe(201);
      }
      const started = await runMeshctl(['rebuild', 'start', '--endpoint', cp.url, '--output', 'json']);
      expect(started.code).toBe(0);
      expect(started.json()).toMatchObject({ requestedAt: expect.any(String) });
      // It runs at once, in the background: wait for it, boundedly.
      let report = await rebuildOf(cp.url);
      for (let i = 0; i < 200 && !(report.upToDate && report.last?.reason === 'requested'); i++) {
        await cp.rebuild.run();
        report = await rebuildOf(cp.url);
      }
      expect(report).toMatchObject({ upToDate: true, last: { reason: 'requested', status: 'done', services: 3 } });
      const status = await runMeshctl(['rebuild', '--endpoint', cp.url]);
      expect(status.code).toBe(0);
      expect(status.stdout).toMatch(/^up to date: every snapshot rendered with \S+\nlast: done, requested, started \d+s ago, finished \d+s ago; 3 services, 3 snapshots, 3 assignments in 1 slice\(s\)\n$/);
      expect((await request(cp.url, 'PUT', '/rebuild', {})).status).toBe(405);
    } finally {
      await cp.close();
    }
  });
});
