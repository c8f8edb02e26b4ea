import { Metadata, Server, ServerCredentials, ServerDuplexStream, ServiceDefinition, status } from '@grpc/grpc-js';
import { DiscoveryDeps, PollSummary } from '../shared/xds/discovery';
import { SelectionMemo } from '../shared/xds/selection-memo';
import { Principal } from '../shared/xds/authorization';
import { RefusalKind } from '../shared/xds/refusal';
import { parseDiscoveryRequest } from '../shared/xds/request';
import { XdsRefusal } from '../shared/xds/refusal';
import { AdsStream, StreamResponse } from './ads-stream';
import { DeltaAdsStream, DeltaResponse, parseDeltaRequest } from './delta-stream';
import { StreamIo, StreamRequestHead, XdsStream } from './xds-stream';
import { EnvoyCodec, envoyCodec } from './envoy-codec';
import { EvaluationGate } from './evaluation-gate';

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
      responseSerialize: (json: Record<string, unknown>) => asBuffer(codec.encodeResponse(json)),
      responseDeserialize: (bytes: Buffer) => codec.decodeResponse(bytes),
    },
    DeltaAggregatedResources: {
      path: `/${adsServiceName}/DeltaAggregatedResources`,
      requestStream: true,
      responseStream: true,
      requestSerialize: (json: Record<string, unknown>) => Buffer.from(codec.delta.encodeRequest(json)),
      requestDeserialize: (bytes: Buffer) => codec.delta.decodeRequest(bytes),
      responseSerialize: (json: Record<string, unknown>) => asBuffer(codec.delta.encodeResponse(json)),
      responseDeserialize: (bytes: Buffer) => codec.delta.decodeResponse(bytes),
    },
  };
}

/** asBuffer views encoded bytes as a Buffer for grpc-js, without copying them. */
const asBuffer = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

export interface AdsServerOptions {
  /** At most this many streams at once; more are refused with RESOURCE_EXHAUSTED (clients go to another server). */
  readonly maxStreams?: number;
  /** Who the caller is: from the stream's metadata (the local runner's tokens) or its TLS peer (server/identity.ts). */
  readonly principalOf?: (metadata: Metadata, auth: ReturnType<ServerDuplexStream<unknown, unknown>['getAuthContext']>) => Principal | undefined;
  /** How the server listens: TLS with client certificates in AWS (server/identity.ts). @default insecure */
  readonly credentials?: ServerCredentials;
  readonly onPoll?: (poll: PollSummary) => void;
  readonly onError?: (message: string) => void;
  readonly codec?: EnvoyCodec;
  /** How often node status left unwritten by streams' answers, and open streams' liveness, are written. @default 1000 */
  readonly statusFlushMs?: number;
  /** At most this many streams ask the core and send at once; the others wait their turn (see EvaluationGate). @default 64 */
  readonly concurrentEvaluations?: number;
}

/**
 * AdsServerStats counts, for tests, benchmarks and metrics: responses written, streams refused
 * for the limit, and writes left buffered above the stream's high-water mark (`call.write`
 * returned false: a large response, or a client that does not read). Nothing waits for such a
 * write, and a stream holds at most one response per type, as no newer one is sent before the
 * last is ACKed (AdsStream, DeltaAdsStream).
 */
export interface AdsServerStats {
  responses: number;
  refusedStreams: number;
  writesBuffered: number;
}

/** AdsServer is the push tier's gRPC server: its streams, for the change watcher, and its lifecycle. */
export interface AdsServer {
  readonly port: number;
  readonly streams: ReadonlySet<XdsStream<StreamRequestHead, unknown>>;
  readonly stats: AdsServerStats;
  /**
   * close stops taking streams (GOAWAY), ends every open stream with OK so its client
   * reconnects, to another server behind the same address, with the config it has, and
   * stops listening. Streams a client has not closed after `graceMs` are cancelled.
   */
  close(graceMs?: number): Promise<void>;
}

/**
 * startAdsServer serves `StreamAggregatedResources` (state of the world) and
 * `DeltaAggregatedResources` (incremental) on host:port. Each stream is an AdsStream or a
 * DeltaAdsStream over the same xDS core as the REST tier.
 */
export async function startAdsServer(deps: DiscoveryDeps, host: string, port: number, options: AdsServerOptions = {}): Promise<AdsServer> {
  const codec = options.codec ?? envoyCodec();
  const maxStreams = options.maxStreams ?? 10_000;
  const streams = new Set<XdsStream<StreamRequestHead, unknown>>();
  const calls = new Set<ServerDuplexStream<Record<string, unknown>, unknown>>();
  const stats: AdsServerStats = { responses: 0, refusedStreams: 0, writesBuffered: 0 };
  // Streams woken by one change ask the core the same questions: each selection is made once.
  const core: DiscoveryDeps = deps.selections ? deps : { ...deps, selections: new SelectionMemo() };
  const gate = new EvaluationGate(options.concurrentEvaluations ?? 64);
  // Node status a stream's answers left unwritten (within the write gap), and the liveness of
  // nodes whose streams are open: a stream brings no next poll to write them (NodeTracker.flush).
  const flushTimer = deps.tracker
    ? setInterval(() => {
        const live: string[] = [];
        for (const s of streams) if (s.nodeId) live.push(s.nodeId);
        void deps.tracker!.flush(live).catch((err: unknown) => options.onError?.(`node status flush failed: ${(err as Error).message}`));
      }, options.statusFlushMs ?? 1000)
    : undefined;
  flushTimer?.unref();
  const server = new Server({
    // Keepalive: find dead peers (a vanished Envoy) within a minute; let clients ping every 10 s.
    'grpc.keepalive_time_ms': 30_000,
    'grpc.keepalive_timeout_ms': 10_000,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.http2.min_ping_interval_without_data_ms': 10_000,
  });

  /** serve runs one stream of either kind: `open` makes its protocol state, `parse` checks each request. */
  function serve<Request extends StreamRequestHead, Response>(
    call: ServerDuplexStream<Record<string, unknown>, Response>,
    open: (io: StreamIo<Response>) => XdsStream<Request, Response>,
    parse: (json: Record<string, unknown>) => Request,
  ): void {
    if (streams.size >= maxStreams) {
      stats.refusedStreams++;
      call.emit('error', { code: status.RESOURCE_EXHAUSTED, details: `this server holds ${maxStreams} streams; connect to another` });
      return;
    }
    let done = false;
    calls.add(call as ServerDuplexStream<Record<string, unknown>, unknown>);
    const finish = () => {
      if (done) return;
      done = true;
      ads.close();
      streams.delete(ads as XdsStream<StreamRequestHead, unknown>);
      calls.delete(call as ServerDuplexStream<Record<string, unknown>, unknown>);
    };
    const ads = open({
      send: (response) => {
        if (done) return;
        try {
          if (!call.write(response)) stats.writesBuffered++;
          stats.responses++;
        } catch (err) {
          options.onError?.(`cannot encode a response on ${call.getPath()}: ${(err as Error).message}`);
        }
      },
      end: (kind, message) => {
        if (done) return;
        finish();
        call.emit('error', { code: refusalCode[kind], details: message });
      },
      ...(options.onPoll ? { observe: options.onPoll } : {}),
    });
    streams.add(ads as XdsStream<StreamRequestHead, unknown>);
    call.on('data', (json: Record<string, unknown>) => {
      let request: Request;
      try {
        request = parse(json);
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

  server.addService(adsServiceDefinition(codec), {
    StreamAggregatedResources: (call: ServerDuplexStream<Record<string, unknown>, StreamResponse>) =>
      serve(call, (io) => new AdsStream(core, io, options.principalOf?.(call.metadata, call.getAuthContext()), gate), parseDiscoveryRequest),
    DeltaAggregatedResources: (call: ServerDuplexStream<Record<string, unknown>, DeltaResponse>) =>
      serve(call, (io) => new DeltaAdsStream(core, io, options.principalOf?.(call.metadata, call.getAuthContext()), gate), parseDeltaRequest),
  });
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${port}`, options.credentials ?? ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    port: bound,
    streams,
    stats,
    close: (graceMs = 0) =>
      new Promise<void>((resolve) => {
        if (flushTimer) clearInterval(flushTimer);
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
