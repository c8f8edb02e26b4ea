import { ClientDuplexStream, credentials, makeGenericClientConstructor } from '@grpc/grpc-js';
import { declareService } from '../../shared/state/catalog';
import { applyEndpointChanges } from '../../shared/state/endpoints';
import { defaultRenderSettings } from '../../shared/render/settings';
import { SnapshotCache } from '../../shared/xds/snapshot-cache';
import { NodeTracker } from '../../shared/xds/node-tracker';
import { SelectionMemo } from '../../shared/xds/selection-memo';
import { PollSummary } from '../../shared/xds/discovery';
import { typeUrls } from '../../shared/envoy/resources';
import { MeshStore } from '../../shared/store/mesh-store';
import { AdsServer, adsServiceDefinition, startAdsServer } from '../../server/ads-server';
import { AdsStream, StreamResponse } from '../../server/ads-stream';
import { ChangeWatcher } from '../../server/change-watcher';
import { envoyCodec } from '../../server/envoy-codec';
import { useDynalite } from '../support/dynamo';
import { AdsResponse, AdsTestClient } from '../support/ads-client';
import { endpoint, orders, payments } from './fixtures';

const dynalite = useDynalite();

const envoyNode = (id: string) => ({ id, cluster: 'orders', user_agent_name: 'envoy' });
const edsRequest = (id: string) => ({ node: envoyNode(id), type_url: typeUrls.endpoints, resource_names: ['payments'] });
const ack = (r: AdsResponse) => ({ version_info: r.version_info, type_url: r.type_url, resource_names: ['payments'], response_nonce: r.nonce });

/**
 * A client that reads nothing until told: its stream is paused, so it neither sees nor ACKs
 * what the server sends (a stuck or slow Envoy).
 */
class StalledClient {
  private readonly client: InstanceType<ReturnType<typeof makeGenericClientConstructor>>;
  readonly call: ClientDuplexStream<Record<string, unknown>, AdsResponse>;
  private readonly received: AdsResponse[] = [];

  constructor(port: number) {
    const Client = makeGenericClientConstructor(adsServiceDefinition(envoyCodec()), 'AggregatedDiscoveryService');
    this.client = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
    this.call = (this.client as unknown as { StreamAggregatedResources(): ClientDuplexStream<Record<string, unknown>, AdsResponse> }).StreamAggregatedResources();
    this.call.on('error', () => undefined);
    this.call.pause();
  }

  /** resume starts reading; next returns what it has read, in order (bounded wait). */
  async next(boundMs = 10_000): Promise<AdsResponse> {
    if (this.call.isPaused()) {
      this.call.on('data', (r: AdsResponse) => this.received.push(r));
      this.call.resume();
    }
    for (const deadline = Date.now() + boundMs; this.received.length === 0; ) {
      if (Date.now() > deadline) throw new Error(`no response within ${boundMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return this.received.shift()!;
  }

  close(): void {
    this.call.cancel();
    this.client.close();
  }
}

describe('the push tier shares the work of a change and bounds what it buffers', () => {
  let store: MeshStore;
  let cache: SnapshotCache;
  let selections: SelectionMemo;
  let server: AdsServer;
  let watcher: ChangeWatcher;
  const polls: PollSummary[] = [];
  const closers: (() => void)[] = [];

  beforeEach(async () => {
    store = await dynalite.newStore();
    await declareService(store, payments, defaultRenderSettings);
    await declareService(store, orders, defaultRenderSettings);
    await applyEndpointChanges(store, [{ kind: 'upsert', endpoint: endpoint('t1', '10.0.0.1') }]);
    cache = new SnapshotCache(store, { ttlMs: 60_000 });
    selections = new SelectionMemo();
    polls.length = 0;
    server = await startAdsServer({ cache, tracker: new NodeTracker(store, { minWriteGapMs: 0 }), selections }, '127.0.0.1', 0, { onPoll: (p) => polls.push(p) });
    watcher = new ChangeWatcher(cache, () => server.streams, { intervalMs: 60_000, log: store.changes, sweepIntervalMs: 0 });
  });
  afterEach(async () => {
    for (const close of closers.splice(0)) close();
    await server.close();
  });

  const connect = () => {
    const c = new AdsTestClient(server.port);
    closers.push(() => c.close());
    return c;
  };
  const change = async (i: number) => {
    await applyEndpointChanges(store, [{ kind: 'upsert', endpoint: endpoint(`t${i}`, `10.0.0.${i}`) }]);
    await watcher.poke();
  };

  it('selects once per change for every stream it wakes, and each stream receives it', async () => {
    const clients = [connect(), connect(), connect()];
    clients.forEach((c, i) => c.send(edsRequest(`orders-${i}`)));
    for (const c of clients) c.send(ack(await c.next()));
    await watcher.poke();
    const before = selections.stats.misses;

    await change(2);
    const pushed = await Promise.all(clients.map((c) => c.next()));
    expect(new Set(pushed.map((r) => r.version_info)).size).toBe(1);
    expect(pushed[0]!.resources).toEqual(pushed[2]!.resources);
    for (const [i, c] of clients.entries()) c.send(ack(pushed[i]!));
    await watcher.poke();
    // One selection for the change; the other streams' pushes and every ACK got the same one.
    expect(selections.stats.misses - before).toBe(1);
    expect(selections.stats.hits).toBeGreaterThanOrEqual(clients.length - 1);
  });

  it('sends a client that does not read one response per type, keeps pushing to the others, and sends it only the newest state once it ACKs', async () => {
    const stalled = new StalledClient(server.port);
    closers.push(() => stalled.close());
    stalled.call.write(edsRequest('orders-stalled'));
    const reader = connect();
    reader.send(edsRequest('orders-reader'));
    reader.send(ack(await reader.next()));
    await watcher.poke();
    expect(server.stats.responses).toBe(2);

    let last: AdsResponse | undefined;
    for (let i = 2; i <= 6; i++) {
      await change(i);
      last = await reader.next();
      reader.send(ack(last));
    }
    await watcher.poke();
    // The reader got all five changes; the stalled stream none beyond its first response.
    expect(server.stats.responses).toBe(2 + 5);

    const first = await stalled.next();
    expect(first.version_info).not.toBe(last!.version_info);
    stalled.call.write(ack(first));
    // Coalesced: after its ACK it is sent the newest state, not the four it missed on the way.
    const caughtUp = await stalled.next();
    expect(caughtUp.version_info).toBe(last!.version_info);
    expect(caughtUp.resources).toEqual(last!.resources);
    stalled.call.write(ack(caughtUp));
    await watcher.poke();
    expect(server.stats.responses).toBe(2 + 5 + 1);
  });

  it('joins the changes that arrive while a stream has one waiting: the core is asked once for all of them', async () => {
    const sent: StreamResponse[] = [];
    const asked: PollSummary[] = [];
    const stream = new AdsStream({ cache, selections }, { send: (r) => sent.push(r), end: (kind, message) => { throw new Error(`${kind}: ${message}`); }, observe: (p) => asked.push(p) });
    await stream.onRequest(edsRequest('orders-direct'));
    await stream.onRequest({ version_info: sent[0]!.version_info, type_url: typeUrls.endpoints, resource_names: ['payments'], response_nonce: sent[0]!.nonce });
    const before = asked.length;

    // Ten wakes at once, nothing new: one look at the state, not ten.
    await Promise.all(Array.from({ length: 10 }, () => stream.onChange()));
    expect(asked.length - before).toBe(1);
    expect(sent).toHaveLength(1);

    await applyEndpointChanges(store, [{ kind: 'upsert', endpoint: endpoint('t2', '10.0.0.2') }]);
    await cache.rendered('payments', ['payments'], false, { fresh: true });
    await Promise.all(Array.from({ length: 10 }, () => stream.onChange()));
    expect(asked.length - before).toBe(2);
    expect(sent).toHaveLength(2);
    expect(sent[1]!.version_info).not.toBe(sent[0]!.version_info);
  });
});
