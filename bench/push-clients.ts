import { ClientDuplexStream, credentials, makeGenericClientConstructor, ServiceDefinition } from '@grpc/grpc-js';
import { fromBinary } from '@bufbuild/protobuf';
import { startEmbeddedDynamoDb } from '../local/embedded-dynamodb';
import { adsServiceDefinition } from '../server/ads-server';
import { envoyCodec, envoyRegistry } from '../server/envoy-codec';
import { typeUrls } from '../shared/envoy/resources';

/**
 * The world around the push tier's server in the push benchmark, in a process of its own so the
 * server's figures are its own: the table (dynalite) and the Envoy-like clients. Driven over
 * IPC by bench/suites/push.ts:
 *
 *   ← { op: 'table', endpoint }                       once dynalite listens and the table exists
 *   → { op: 'open', port, count, perChannel }  ← { op: 'opened' }   every stream got its first response
 *   → { op: 'arm' }                            ← { op: 'armed' }    the next response of every stream is timed
 *                                              ← { op: 'received', times, version }  when all have it
 *   → { op: 'close' }                                  closes everything and exits
 *
 * Each client ACKs every response, as Envoy does. Clients read only the envelope of a
 * response (resources stay encoded Anys), as the server's cost is what is measured.
 */

type Message =
  | { op: 'open'; port: number; count: number; perChannel: number }
  | { op: 'arm' }
  | { op: 'close' };

interface Envelope {
  versionInfo: string;
  nonce: string;
  typeUrl: string;
}

const now = () => performance.timeOrigin + performance.now();

/** Streams opened at once. */
const openBatchSize = 250;

async function main(): Promise<void> {
  const tableName = process.argv[2] ?? 'push-bench';
  const db = await startEmbeddedDynamoDb({ tableName });
  const send = (m: Record<string, unknown>) => process.send!(m);
  const registry = envoyRegistry();
  const responseDesc = registry.getMessage('envoy.service.discovery.v3.DiscoveryResponse')!;
  const codec = envoyCodec(registry);
  const full = adsServiceDefinition(codec);
  const definition: ServiceDefinition = {
    StreamAggregatedResources: {
      ...full.StreamAggregatedResources!,
      responseDeserialize: (bytes: Buffer) => fromBinary(responseDesc, bytes) as unknown as Envelope,
    },
  };
  const Client = makeGenericClientConstructor(definition, 'AggregatedDiscoveryService');
  const clients: InstanceType<typeof Client>[] = [];
  const calls: ClientDuplexStream<Record<string, unknown>, Envelope>[] = [];
  let armed = false;
  let times: number[] = [];
  let version = '';
  let expected = 0;

  process.on('message', (m: Message) => {
    if (m.op === 'open') {
      expected = m.count;
      let opened = 0;
      // Streams open in batches, each once the one before has its first responses: a fleet
      // ramps up; 5,000 nodes at once would each wait for their node-status read.
      const openBatch = (from: number) => {
        for (let i = from; i < Math.min(from + openBatchSize, m.count); i++) openStream(i);
      };
      const openStream = (i: number) => {
        if (i % m.perChannel === 0) {
          // A channel (one HTTP/2 connection) per group of streams: its own subchannel, not the shared pool's.
          clients.push(new Client(`127.0.0.1:${m.port}`, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }));
        }
        const client = clients[clients.length - 1]! as unknown as { StreamAggregatedResources(): ClientDuplexStream<Record<string, unknown>, Envelope> };
        const call = client.StreamAggregatedResources();
        calls.push(call);
        let first = true;
        call.on('data', (r: Envelope) => {
          const at = now();
          call.write({ version_info: r.versionInfo, type_url: r.typeUrl, resource_names: ['payments'], response_nonce: r.nonce });
          if (first) {
            first = false;
            if (++opened === m.count) send({ op: 'opened' });
            else if (opened % openBatchSize === 0) openBatch(opened);
            return;
          }
          if (!armed) return;
          times.push(at);
          version = r.versionInfo;
          if (times.length === expected) {
            armed = false;
            send({ op: 'received', times, version });
          }
        });
        call.on('error', () => undefined);
        call.write({ node: { id: `orders-${i}`, cluster: 'orders', user_agent_name: 'envoy' }, type_url: typeUrls.endpoints, resource_names: ['payments'] });
      };
      openBatch(0);
    } else if (m.op === 'arm') {
      times = [];
      armed = true;
      send({ op: 'armed' });
    } else {
      for (const c of calls) c.cancel();
      for (const c of clients) c.close();
      void db.close().then(() => process.exit(0));
    }
  });
  send({ op: 'table', endpoint: db.endpoint });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
