import { ClientDuplexStream, credentials, makeGenericClientConstructor } from '@grpc/grpc-js';
import { BenchContext, BenchRow, BenchSuite, OperationCounter, percentile, round } from '../harness';
import { startLocalControlPlane } from '../../local/server';
import { declareService } from '../../shared/state/catalog';
import { applyEndpointChanges } from '../../shared/state/endpoints';
import { defaultRenderSettings } from '../../shared/render/settings';
import { typeUrls } from '../../shared/envoy/resources';
import { adsServiceDefinition } from '../../server/ads-server';
import { envoyCodec } from '../../server/envoy-codec';

type Response = { version_info: string; nonce: string; type_url: string };

/**
 * The push tier: N state-of-the-world streams (Envoy nodes of `orders` subscribed to the EDS of
 * `payments`, clients in the same process) on one server. Measures push latency from an
 * endpoint change (written, then the change watcher poked, as the local runner does after a
 * write) to each stream's receipt, p50/p99 over rounds; heap per stream (server and client
 * together, so an upper bound); DynamoDB reads per change check, idle.
 */
export const suite: BenchSuite = {
  name: 'push',
  async run(ctx: BenchContext): Promise<BenchRow[]> {
    const sizes = ctx.scale === 'smoke' ? [20] : [100, 1000];
    const rounds = ctx.scale === 'smoke' ? 3 : 10;
    const rows: BenchRow[] = [];
    for (const streams of sizes) rows.push(...(await measure(ctx, streams, rounds)));
    return rows;
  },
};

async function measure(ctx: BenchContext, count: number, rounds: number): Promise<BenchRow[]> {
  const cp = await startLocalControlPlane({ port: 0, grpcPort: 0, changeCheckIntervalMs: 3_600_000 });
  const store = cp.runtime.store;
  const Client = makeGenericClientConstructor(adsServiceDefinition(envoyCodec()), 'AggregatedDiscoveryService');
  const clients: InstanceType<typeof Client>[] = [];
  const calls: ClientDuplexStream<Record<string, unknown>, Response>[] = [];
  try {
    await declareService(store, { name: 'payments', inboundPort: 15000, appPort: 8080, protocol: 'http' }, defaultRenderSettings);
    await declareService(store, { name: 'orders', inboundPort: 15000, appPort: 8080, protocol: 'http', dependencies: [{ service: 'payments', localPort: 9001 }] }, defaultRenderSettings);
    const endpoint = (i: number) => ({
      service: 'payments',
      id: `t${i}`,
      address: `10.0.${Math.floor(i / 250)}.${i % 250}`,
      port: 15000,
      zone: 'us-east-1a',
      health: 'healthy' as const,
      labels: {},
      source: { kind: 'ecs-task' as const, eventId: `e${i}`, eventTime: '2026-01-01T00:00:00Z', orderingKey: 1 },
    });
    await applyEndpointChanges(store, [{ kind: 'upsert', endpoint: endpoint(0) }]);
    global.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    let onResponse: (i: number) => void = () => undefined;
    const firsts: Promise<void>[] = [];
    for (let i = 0; i < count; i++) {
      // A channel per stream, as each Envoy has its own connection.
      const client = new Client(`127.0.0.1:${cp.grpc!.port}`, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
      clients.push(client);
      const call = (client as unknown as { StreamAggregatedResources(): ClientDuplexStream<Record<string, unknown>, Response> }).StreamAggregatedResources();
      calls.push(call);
      let first = true;
      firsts.push(
        new Promise<void>((resolve) => {
          call.on('data', (r: Response) => {
            call.write({ version_info: r.version_info, type_url: r.type_url, resource_names: ['payments'], response_nonce: r.nonce });
            if (first) {
              first = false;
              resolve();
            } else onResponse(i);
          });
        }),
      );
      call.on('error', () => undefined);
      call.write({ node: { id: `orders-${i}`, cluster: 'orders' }, type_url: typeUrls.endpoints, resource_names: ['payments'] });
    }
    await Promise.all(firsts);
    await cp.grpc!.watcher.poke();
    global.gc?.();
    const heapPerStream = (process.memoryUsage().heapUsed - heapBefore) / count;
    ctx.log(`${count} streams open`);

    const latencies: number[] = [];
    for (let r = 1; r <= rounds; r++) {
      await applyEndpointChanges(store, [{ kind: 'upsert', endpoint: endpoint(r) }]);
      const start = process.hrtime.bigint();
      let left = count;
      const done = new Promise<void>((resolve) => {
        onResponse = () => {
          latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
          if (--left === 0) resolve();
        };
      });
      await cp.grpc!.watcher.poke();
      await done;
    }
    latencies.sort((a, b) => a - b);

    const counter = new OperationCounter(cp.runtime.doc);
    const idleChecks = 20;
    for (let i = 0; i < idleChecks; i++) await cp.grpc!.watcher.poke();
    const idleReads = counter.totals().reads / idleChecks;
    return [
      {
        name: 'push latency, endpoint change to every subscribed stream (in-process clients)',
        params: { streams: count, rounds },
        metrics: { p50_ms: round(percentile(latencies, 50)), p99_ms: round(percentile(latencies, 99)), max_ms: round(latencies[latencies.length - 1]!) },
      },
      // Only with --expose-gc (`node --expose-gc --import tsx bench/run.ts`): without it the heap figure is noise.
      ...(global.gc ? [{ name: 'heap per stream (server and client together)', params: { streams: count }, metrics: { kib: round(heapPerStream / 1024, 1) } }] : []),
      { name: 'DynamoDB reads per change check, idle (one service with streams)', params: { streams: count }, metrics: { reads_per_check: round(idleReads) } },
    ];
  } finally {
    for (const c of calls) c.cancel();
    for (const c of clients) c.close();
    await cp.close();
  }
}
