import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Metadata } from '@grpc/grpc-js';
import { LocalControlPlane, startLocalControlPlane } from '../../local/server';
import { typeUrls } from '../../shared/envoy/resources';
import { NodeStatus } from '../../shared/model/node-status';
import { DeltaResponse } from '../../server/delta-stream';
import { request } from '../support/http-client';
import { ecsTaskEvent } from '../support/ecs-events';
import { AdsTestClient } from '../support/ads-client';
import { CallBatch, startWhoServer, WhoServer, XdsClientProcess } from '../support/xds-client';

/**
 * The control plane stops and starts again on the same data (the local runner's --data-dir):
 * a real gRPC client resyncs, and is served exactly the versions it had (versions are content
 * hashes, the same in any process); a delta client that says what it has is resent nothing.
 * Observed server-side, in the node tracker of each process. Every loop is bounded.
 */
describe('a proxyless gRPC client across a control plane restart', () => {
  let dataDir: string;
  let cp: LocalControlPlane | undefined;
  const servers: WhoServer[] = [];
  let client: XdsClientProcess | undefined;
  const deltas: AdsTestClient<DeltaResponse>[] = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'cp-restart-'));
  });
  afterAll(async () => {
    for (const d of deltas) d.close();
    await client?.close();
    for (const s of servers) s.close();
    await cp?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const start = (grpcPort: number) => startLocalControlPlane({ port: 0, grpcPort, dataDir, config: { nodeStatusMinWriteGapMs: 0 } });
  const nodeId = 'orders-restart-1';
  const deltaNode = { id: 'orders-delta-1', cluster: 'orders', locality: {}, user_agent_name: 'gRPC hand-driven delta test client' };
  const subsets = ['ledger|revision=1', 'ledger|revision=2'];

  /**
   * current is, per type, the node's subscription polled last: gRPC widens a subscription as it
   * learns names (clusters `ledger|revision=1`, then both), and the tracker keeps one entry per
   * name set it saw.
   */
  const current = (s: NodeStatus) => {
    const byType = new Map<string, NodeStatus['subscriptions'][string]>();
    for (const sub of Object.values(s.subscriptions)) {
      const seen = byType.get(sub.type);
      if (!seen || sub.lastPollAt > seen.lastPollAt) byType.set(sub.type, sub);
    }
    return byType;
  };
  /**
   * synced waits until the node's current listeners, clusters and endpoints subscriptions each
   * apply what they were served, each polled later than in `since` (the tracker's own
   * timestamps, compared with each other: a status loaded from the table after a restart is
   * never newer than `since`).
   */
  const synced = async (plane: LocalControlPlane, id: string, since?: NodeStatus) => {
    const earlier = since ? current(since) : new Map<string, NodeStatus['subscriptions'][string]>();
    let status: NodeStatus | undefined;
    const done = (s: NodeStatus | undefined) => {
      if (!s) return false;
      const subs = current(s);
      return ['listeners', 'clusters', 'endpoints'].every((t) => {
        const sub = subs.get(t);
        return sub !== undefined && sub.appliedVersion !== '' && sub.appliedVersion === sub.servedVersion && sub.lastPollAt > (earlier.get(t)?.lastPollAt ?? '');
      });
    };
    for (let i = 0; i < 300 && !done(status); i++) {
      if (i > 0) await new Promise((resolve) => setTimeout(resolve, 100));
      status = plane.xds.tracker.status(id);
    }
    expect(done(status)).toBe(true);
    return status!;
  };
  const versionsOf = (s: NodeStatus) =>
    Object.fromEntries([...current(s)].map(([type, sub]) => [type, { names: sub.resourceNames, applied: sub.appliedVersion, served: sub.servedVersion }]));

  it('resyncs after a restart on the same data with the same versions, and resends a delta client nothing it has', async () => {
    cp = await start(0);
    const grpcPort = cp.grpc!.port;
    for (const s of [await startWhoServer('ledger-v1'), await startWhoServer('ledger-v2')]) servers.push(s);
    const declare = async (spec: Record<string, unknown>) =>
      expect((await request(cp!.url, 'PUT', `/services/${String(spec.name)}`, { inboundPort: 15000, appPort: 8080, protocol: 'grpc', ...spec })).status).toBe(201);
    await declare({ name: 'ledger' });
    const split = { subsets: [{ labels: { revision: '1' }, weight: 50 }, { labels: { revision: '2' }, weight: 50 }] };
    await declare({ name: 'orders', dependencies: [{ service: 'ledger', localPort: 9001, split }] });
    const tasks = servers.map((s, i) =>
      ecsTaskEvent({ ecsService: 'ledger', revision: i + 1, bridge: { containerInstanceId: 'local', bindings: [{ containerPort: 15000, hostPort: s.port, bindIP: '127.0.0.1' }] } }),
    );
    expect((await request(cp.url, 'POST', '/events', tasks)).status).toBe(200);

    client = new XdsClientProcess(grpcPort, { id: nodeId, cluster: 'orders' }, 'ledger');
    let batch: CallBatch | undefined;
    for (let i = 0; i < 10 && !(batch && batch.failed === 0); i++) batch = await client.calls(1);
    expect(batch).toMatchObject({ failed: 0 });
    const before = await synced(cp, nodeId);

    // A delta client of the same service takes the clusters and the subsets' endpoints, and ACKs them.
    const delta = new AdsTestClient<DeltaResponse>(grpcPort, new Metadata(), 'DeltaAggregatedResources');
    deltas.push(delta);
    delta.send({ node: deltaNode, type_url: typeUrls.clusters });
    const clusters = await delta.next();
    delta.send({ type_url: typeUrls.clusters, response_nonce: clusters.nonce });
    delta.send({ type_url: typeUrls.endpoints, resource_names_subscribe: subsets });
    const endpoints = await delta.next();
    delta.send({ type_url: typeUrls.endpoints, response_nonce: endpoints.nonce });
    expect(endpoints.resources.map((r) => r.name).sort()).toEqual(subsets);
    const had = (r: DeltaResponse) => Object.fromEntries(r.resources.map((x) => [x.name, x.version]));
    delta.close();

    // Stop; start again on the same data and the same port; the client reconnects on its own.
    await cp.close();
    cp = undefined;
    cp = await start(grpcPort);
    const after = await synced(cp, nodeId, before);
    // The state-of-the-world versions it is served after the restart are the ones it had.
    expect(versionsOf(after)).toEqual(versionsOf(before));
    // It re-subscribed with the versions it had (version_info), which are the current ones: the
    // new process sent it no state-of-the-world response at all.
    expect(cp.grpc!.server.stats.responses).toBe(0);
    const calls = await client.calls(20);
    expect(calls.failed).toBe(0);
    expect(Object.keys(calls.counts).sort()).toEqual(['ledger-v1', 'ledger-v2']);

    // Delta: the reconnecting client says what it has; nothing it has is sent again. A stream
    // answers in order, so once a later subscription (listeners) is answered, the others were handled.
    const again = new AdsTestClient<DeltaResponse>(grpcPort, new Metadata(), 'DeltaAggregatedResources');
    deltas.push(again);
    again.send({ node: deltaNode, type_url: typeUrls.clusters, initial_resource_versions: had(clusters) });
    again.send({ type_url: typeUrls.endpoints, resource_names_subscribe: subsets, initial_resource_versions: had(endpoints) });
    again.send({ type_url: typeUrls.listeners });
    const next = await again.next();
    expect(next.type_url).toBe(typeUrls.listeners);
    // orders speaks gRPC, so its proxyless forms hold its own server Listener too (proxyless-server.ts).
    expect(next.resources.map((r) => r.name)).toEqual(['grpc/server?xds.resource.listening_address=0.0.0.0:15000', 'ledger']);
    expect(again.pending).toBe(0);
  }, 120_000);
});
