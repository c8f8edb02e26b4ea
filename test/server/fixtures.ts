import { declareService } from '../../shared/state/catalog';
import { applyEndpointChanges } from '../../shared/state/endpoints';
import { defaultRenderSettings } from '../../shared/render/settings';
import { SnapshotCache } from '../../shared/xds/snapshot-cache';
import { NodeTracker } from '../../shared/xds/node-tracker';
import { DiscoveryDeps } from '../../shared/xds/discovery';
import { Endpoint } from '../../shared/model/endpoint';
import { MeshStore } from '../../shared/store/mesh-store';
import { AdsServer, startAdsServer } from '../../server/ads-server';
import { ChangeWatcher } from '../../server/change-watcher';
import { endpoint as fixtureEndpoint } from '../shared/render/fixtures';

/** Fixtures of the push tier's tests, in one place: orders calls payments, which has one endpoint. */
export const payments = { name: 'payments', inboundPort: 15000, appPort: 8080, protocol: 'http' };
export const orders = { name: 'orders', inboundPort: 15000, appPort: 8080, protocol: 'http', dependencies: [{ service: 'payments', localPort: 9001 }] };

/** endpoint makes an instance of payments in us-east-1a. */
export const endpoint = (id: string, address: string): Endpoint => fixtureEndpoint('payments', id, { zone: 'us-east-1a', address });

export interface AdsPlane {
  readonly store: MeshStore;
  readonly cache: SnapshotCache;
  readonly tracker: NodeTracker;
  readonly server: AdsServer;
  /** Never started: tests poke it, so a change is seen exactly when a test says. */
  readonly watcher: ChangeWatcher;
}

/** adsPlane declares the fixtures in a fresh table and serves them over ADS on loopback (`deps` adds e.g. a sealer, for SDS). */
export async function adsPlane(store: MeshStore, deps: Pick<DiscoveryDeps, 'sealer'> = {}): Promise<AdsPlane> {
  await declareService(store, payments, defaultRenderSettings);
  await declareService(store, orders, defaultRenderSettings);
  await applyEndpointChanges(store, [{ kind: 'upsert', endpoint: endpoint('t1', '10.0.0.1') }]);
  const cache = new SnapshotCache(store, { ttlMs: 60_000 });
  const tracker = new NodeTracker(store, { minWriteGapMs: 0 });
  const server = await startAdsServer({ cache, tracker, ...deps }, '127.0.0.1', 0);
  const watcher = new ChangeWatcher(cache, () => server.streams, { intervalMs: 60_000, log: store.changes });
  return { store, cache, tracker, server, watcher };
}
