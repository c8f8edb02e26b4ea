import { Metadata, Server, ServerCredentials, ServerDuplexStream, ServiceDefinition, status } from '@grpc/grpc-js';
import { DiscoveryDeps, PollSummary } from '../shared/xds/discovery';
import { Principal } from '../shared/xds/authorization';
import { RefusalKind } from '../shared/xds/refusal';
import { DiscoveryRequest, parseDiscoveryRequest } from '../shared/xds/request';
import { XdsRefusal } from '../shared/xds/refusal';
import { AdsStream, StreamResponse } from './ads-stream';
import { EnvoyCodec, envoyCodec } from './envoy-codec';

export const adsServiceName = 'envoy.service.discovery.v3.AggregatedDiscoveryService';

/** refusalCode is the gRPC status of each kind of refusal that ends a stream. */
export const refusalCode: Readonly<Record<RefusalKind, status>> = {
  'bad-request': status.INVALID_ARGUMENT,
  unauthenticated: status.UNAUTHENTICATED,
  refused: status.PERMISSION_DENIED,
  'not-found': status.NOT_FOUND,
  unavailable: status.UNAVAILABLE,
};

/**
 * adsServiceDefinition describes the ADS service to grpc-js with our codec as its
 * (de)serialisers, so handlers see proto3 JSON and no generated code is needed.
 */
export function adsServiceDefinition(codec: EnvoyCodec): ServiceDefinition {
  return {
    StreamAggregatedResources: {
      path: `/${adsServiceName}/StreamAggregatedResources`,
      requestStream: true,
      responseStream: true,
      requestSerialize: (json: Record<string, unknown>) => Buffer.from(codec.encodeRequest(json)),
      requestDeserialize: (bytes: Buffer) => codec.decodeRequest(bytes),
      responseSerialize: (json: Record<string, unknown>) => Buffer.from(codec.encodeResponse(json)),
      responseDeserialize: (bytes: Buffer) => codec.decodeResponse(bytes),
    },
  };
}

export interface AdsServerOptions {
  /** At most this many streams at once; more are refused with RESOURCE_EXHAUSTED (clients go to another server). */
  readonly maxStreams?: number;
  /** Who the caller is, from the stream's metadata (the local runner's bearer tokens). */
  readonly principalOf?: (metadata: Metadata) => Principal | undefined;
  readonly onPoll?: (poll: PollSummary) => void;
  readonly onError?: (message: string) => void;
  readonly codec?: EnvoyCodec;
}

/** AdsServer is the push tier's gRPC server: its streams, for the change watcher, and its lifecycle. */
export interface AdsServer {
  readonly port: number;
  readonly streams: ReadonlySet<AdsStream>;
  /** Counts, for tests, benchmarks and metrics: responses written, streams refused for the limit. */
  readonly stats: { responses: number; refusedStreams: number };
  /**
   * close stops taking streams (GOAWAY), ends every open stream with OK so its client
   * reconnects, to another server behind the same address, with the config it has, and
   * stops listening. Streams a client has not closed after `graceMs` are cancelled.
   */
  close(graceMs?: number): Promise<void>;
}

/**
 * startAdsServer serves `StreamAggregatedResources` (state of the world) on host:port. Each
 * stream is an AdsStream over the same xDS core as the REST tier.
 */
export async function startAdsServer(deps: DiscoveryDeps, host: string, port: number, options: AdsServerOptions = {}): Promise<AdsServer> {
  const codec = options.codec ?? envoyCodec();
  const maxStreams = options.maxStreams ?? 10_000;
  const streams = new Set<AdsStream>();
  const calls = new Set<ServerDuplexStream<Record<string, unknown>, StreamResponse>>();
  const stats = { responses: 0, refusedStreams: 0 };
  const server = new Server({
    // Keepalive: find dead peers (a vanished Envoy) within a minute; let clients ping every 10 s.
    'grpc.keepalive_time_ms': 30_000,
    'grpc.keepalive_timeout_ms': 10_000,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.http2.min_ping_interval_without_data_ms': 10_000,
  });

  function stream(call: ServerDuplexStream<Record<string, unknown>, StreamResponse>): void {
    if (streams.size >= maxStreams) {
      stats.refusedStreams++;
      call.emit('error', { code: status.RESOURCE_EXHAUSTED, details: `this server holds ${maxStreams} streams; connect to another` });
      return;
    }
    let done = false;
    calls.add(call);
    const finish = () => {
      if (done) return;
      done = true;
      ads.close();
      streams.delete(ads);
      calls.delete(call);
    };
    const ads: AdsStream = new AdsStream(
      deps,
      {
        send: (response) => {
          if (done) return;
          try {
            call.write(response);
            stats.responses++;
          } catch (err) {
            options.onError?.(`cannot encode ${response.type_url} ${response.version_info}: ${(err as Error).message}`);
          }
        },
        end: (kind, message) => {
          if (done) return;
          finish();
          call.emit('error', { code: refusalCode[kind], details: message });
        },
        ...(options.onPoll ? { observe: options.onPoll } : {}),
      },
      options.principalOf?.(call.metadata),
    );
    streams.add(ads);
    call.on('data', (json: Record<string, unknown>) => {
      let request: DiscoveryRequest;
      try {
        request = parseDiscoveryRequest(json);
      } catch (err) {
        const message = err instanceof XdsRefusal ? err.message : String(err);
        finish();
        call.emit('error', { code: status.INVALID_ARGUMENT, details: message });
        return;
      }
      void ads.onRequest(request);
    });
    call.on('end', () => {
      finish();
      call.end();
    });
    call.on('error', finish);
    call.on('close', finish);
    call.on('cancelled', finish);
  }

  server.addService(adsServiceDefinition(codec), { StreamAggregatedResources: stream });
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${port}`, ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    port: bound,
    streams,
    stats,
    close: (graceMs = 0) =>
      new Promise<void>((resolve) => {
        for (const s of streams) s.close();
        streams.clear();
        let settled = false;
        const settle = () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve();
        };
        // xDS streams never end by themselves: what is still open after the grace is cancelled.
        const timer = setTimeout(() => {
          server.forceShutdown();
          settle();
        }, graceMs);
        server.tryShutdown(() => settle());
        for (const call of calls) call.end();
        calls.clear();
      }),
  };
}
