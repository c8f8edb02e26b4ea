import { ChannelCredentials, ClientDuplexStream, credentials, makeGenericClientConstructor, Metadata, ServiceError, StatusObject } from '@grpc/grpc-js';
import { adsServiceDefinition } from '../../server/ads-server';
import { envoyCodec } from '../../server/envoy-codec';

/** AdsResponse is a DiscoveryResponse as the test client reads it (proto3 JSON). */
export interface AdsResponse {
  version_info: string;
  resources?: Record<string, unknown>[];
  type_url: string;
  nonce: string;
}

/**
 * AdsTestClient is a hand-driven ADS client over real gRPC on loopback, with the server's own
 * codec: it sends exactly the requests a test writes and hands over responses in order.
 * Waits are event-driven; their timeout only bounds a failing test.
 */
export class AdsTestClient<Response = AdsResponse> {
  private readonly client: InstanceType<ReturnType<typeof makeGenericClientConstructor>>;
  private readonly call: ClientDuplexStream<Record<string, unknown>, Response>;
  private readonly received: Response[] = [];
  private waiter: (() => void) | undefined;
  error: ServiceError | undefined;
  /** The stream's final status, once it ended (OK included). */
  status: StatusObject | undefined;

  constructor(
    port: number,
    metadata = new Metadata(),
    method: 'StreamAggregatedResources' | 'DeltaAggregatedResources' = 'StreamAggregatedResources',
    channelCredentials: ChannelCredentials = credentials.createInsecure(),
  ) {
    const Client = makeGenericClientConstructor(adsServiceDefinition(envoyCodec()), 'AggregatedDiscoveryService');
    this.client = new Client(`127.0.0.1:${port}`, channelCredentials);
    const open = (this.client as unknown as Record<string, (m: Metadata) => ClientDuplexStream<Record<string, unknown>, Response>>)[method]!;
    this.call = open.call(this.client, metadata);
    this.call.on('data', (r: Response) => {
      this.received.push(r);
      this.waiter?.();
    });
    this.call.on('error', (err: ServiceError) => {
      this.error = err;
      this.waiter?.();
    });
    this.call.on('status', (s: StatusObject) => {
      this.status = s;
      this.waiter?.();
    });
  }

  send(request: Record<string, unknown>): void {
    this.call.write(request);
  }

  /** next returns the next response, or throws when the stream ends or nothing comes within the bound. */
  async next(boundMs = 10_000): Promise<Response> {
    const deadline = Date.now() + boundMs;
    while (this.received.length === 0) {
      const ended = this.status ?? this.error;
      if (ended) throw new Error(`stream ended: ${ended.code} ${ended.details}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no response within ${boundMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    return this.received.shift()!;
  }

  /** ended waits for the stream's final status (an error, or OK when the server ended it). */
  async ended(boundMs = 10_000): Promise<StatusObject> {
    const deadline = Date.now() + boundMs;
    while (!this.status && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, deadline - Date.now());
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    if (!this.status) throw new Error(`stream still open after ${boundMs} ms`);
    return this.status;
  }

  get pending(): number {
    return this.received.length;
  }

  close(): void {
    this.call.cancel();
    this.client.close();
  }
}
