import { declareService } from '../../shared/state/catalog';
import { defaultRenderSettings } from '../../shared/render/settings';
import { SnapshotCache } from '../../shared/xds/snapshot-cache';
import { NodeTracker } from '../../shared/xds/node-tracker';
import { typeUrls } from '../../shared/envoy/resources';
import { startAdsServer } from '../../server/ads-server';
import { useDynalite } from '../support/dynamo';
import { AdsTestClient } from '../support/ads-client';
import { orders, payments } from './fixtures';

const dynalite = useDynalite();

/**
 * A REST node's next poll writes what the write gap held back; a node on a stream sends no
 * next poll once it has ACKed. The server flushes node status on a timer instead, and keeps
 * nodes with open streams listed (liveness) while nothing changes. The tracker's clock is the
 * test's; the server's flush timer is real, so each wait below is for a stored state, bounded.
 */
describe('node status of nodes on streams', () => {
  it('is written after the write gap without another request, and kept live while the stream is open', async () => {
    const store = await dynalite.newStore();
    for (const spec of [payments, orders]) await declareService(store, spec, defaultRenderSettings);
    let now = Date.parse('2026-11-29T12:00:00Z');
    const tracker = new NodeTracker(store, { minWriteGapMs: 5_000, livenessIntervalMs: 60_000, now: () => now });
    const server = await startAdsServer({ cache: new SnapshotCache(store, { ttlMs: 60_000 }), tracker }, '127.0.0.1', 0, { statusFlushMs: 20 });
    const client = new AdsTestClient(server.port);
    const stored = () => store.getNodeStatus('orders', 'orders-1');
    const until = async (what: string, ok: () => Promise<boolean>) => {
      for (let i = 0; i < 400; i++) {
        if (await ok()) return;
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error(`not within the bound: ${what}`);
    };
    try {
      client.send({ node: { id: 'orders-1', cluster: 'orders', user_agent_name: 'envoy' }, type_url: typeUrls.clusters, resource_names: [] });
      const first = await client.next();
      await until('the first request written', async () => (await stored()) !== undefined);
      client.send({ version_info: first.version_info, type_url: typeUrls.clusters, resource_names: [], response_nonce: first.nonce });
      await until('the ACK seen by the tracker', async () => tracker.status('orders-1')?.subscriptions.clusters?.appliedVersion === first.version_info);
      // Within the gap the ACK stays unwritten.
      expect((await stored())?.subscriptions.clusters?.appliedVersion).toBe('');

      now += 5_000;
      await until('the ACK written once the gap passed', async () => (await stored())?.subscriptions.clusters?.appliedVersion === first.version_info);

      const seen = (await stored())!.lastPollAt;
      now += 60_000;
      await until('the open stream kept live', async () => (await stored())!.lastPollAt > seen);
      expect((await stored())!.lastPollAt).toBe(new Date(now).toISOString());
    } finally {
      client.close();
      await server.close();
    }
  });
});
