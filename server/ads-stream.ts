import { XdsTypeName, typeUrls, xdsTypeNames } from '../shared/envoy/resources';
import { DiscoveryDeps, PollSummary, discover, identifyNode } from '../shared/xds/discovery';
import { Principal } from '../shared/xds/authorization';
import { RefusalKind } from '../shared/xds/refusal';
import { DiscoveryNode, DiscoveryRequest } from '../shared/xds/request';

/** typeOfUrl maps a type URL to the xDS type it names, or undefined for one we do not serve. */
const typeOfUrl = new Map<string, XdsTypeName>(xdsTypeNames.map((t) => [typeUrls[t], t]));

/**
 * pushOrder is make before break on one stream: clusters, then their endpoints, then the
 * listeners and routes that use them, then secrets. (Removals in reverse, and holding a
 * cluster's removal until no listener refers to it, are not done yet.)
 */
const pushOrder: readonly XdsTypeName[] = ['clusters', 'endpoints', 'listeners', 'routes', 'secrets'];

/** What the stream says back, in the core's terms: the server encodes it. */
export interface StreamResponse {
  readonly version_info: string;
  readonly resources: readonly Record<string, unknown>[];
  readonly type_url: string;
  readonly nonce: string;
}

/** StreamIo is the transport under one ADS stream: send a response, or end the stream with a refusal. */
export interface StreamIo {
  send(response: StreamResponse): void;
  end(kind: RefusalKind, message: string): void;
  /** Each answer of the core, for logs and metrics. */
  observe?(poll: PollSummary): void;
}

interface TypeState {
  names: readonly string[];
  /** The version_info the client last reported (what it has applied; '' before its first). */
  applied: string;
  /** What we last sent, and the names it answered: the same version is never sent twice. */
  sentVersion?: string;
  sentNames?: string;
  /** The nonce of a response not yet ACKed or NACKed: nothing more of this type is sent until it is. */
  pendingNonce?: string;
  /** The client's error_detail of its last NACK, passed to the core once. */
  errorDetail?: { code?: number; message?: string };
}

/**
 * AdsStream is the state of the world protocol of one `StreamAggregatedResources` stream:
 * the node of its first message, and per type what it subscribes, what it applied and what is
 * in flight. Every answer comes from the same xDS core as the REST tier (`discover`), asked
 * with the version the client has applied, so versions, hold-backs and NACK records are the
 * REST tier's. Work on one stream runs in order (one queue), so a push and a request never race.
 *
 * Rules of the protocol kept here: a request whose nonce is not that of the last response of
 * its type is stale and ignored; while a response is un-ACKed no newer one of its type is
 * sent (it is sent after the ACK or NACK); a NACKed version is not sent again; a version
 * already sent for the same names is not resent.
 */
export class AdsStream {
  private node: DiscoveryNode | undefined;
  private readonly types = new Map<XdsTypeName, TypeState>();
  private queue: Promise<void> = Promise.resolve();
  private ended = false;
  private nonceCounter = 0;

  constructor(
    private readonly deps: DiscoveryDeps,
    private readonly io: StreamIo,
    private readonly principal?: Principal,
  ) {}

  /** The node's mesh service, once its first message named it. */
  get service(): string | undefined {
    return this.node?.cluster || undefined;
  }

  get nodeId(): string | undefined {
    return this.node?.id;
  }

  /** subscribed lists what the stream asks for, per type (the change watcher reads it). */
  subscribed(): ReadonlyMap<XdsTypeName, readonly string[]> {
    return new Map([...this.types].map(([t, s]) => [t, s.names]));
  }

  /** onRequest handles one DiscoveryRequest; the returned promise settles when it is answered. */
  onRequest(request: DiscoveryRequest): Promise<void> {
    return this.enqueue(() => this.handle(request));
  }

  /** onChange re-evaluates every type: a change to the node's state was seen. */
  onChange(): Promise<void> {
    return this.enqueue(() => this.evaluateAll());
  }

  close(): void {
    this.ended = true;
  }

  private enqueue(work: () => Promise<void>): Promise<void> {
    this.queue = this.queue.then(() => (this.ended ? undefined : work())).catch((err: unknown) => {
      this.fail('unavailable', `the control plane failed: ${(err as Error).message}`);
    });
    return this.queue;
  }

  private async handle(request: DiscoveryRequest): Promise<void> {
    if (request.node) this.node = request.node;
    if (!this.node) return this.fail('bad-request', 'the first DiscoveryRequest of a stream must carry the node');
    try {
      identifyNode(this.node);
    } catch (err) {
      return this.fail('bad-request', (err as Error).message);
    }
    const type = typeOfUrl.get(request.type_url ?? '');
    if (!type) return; // a type we do not serve: nothing to answer, as an empty subscription
    const state = this.types.get(type) ?? { names: [], applied: '' };
    this.types.set(type, state);
    const nonce = request.response_nonce ?? '';
    if (state.pendingNonce !== undefined) {
      if (nonce !== state.pendingNonce) return; // stale: it answers an older response
      state.pendingNonce = undefined;
      if (request.error_detail) state.errorDetail = request.error_detail;
    }
    state.applied = request.version_info ?? '';
    state.names = [...new Set(request.resource_names ?? [])].sort();
    // An ACK may release another type (listeners wait for their clusters): look at all of them.
    await this.evaluateAll();
  }

  private async evaluateAll(): Promise<void> {
    for (const type of pushOrder) {
      if (this.ended) return;
      if (this.types.has(type)) await this.evaluate(type);
    }
  }

  private async evaluate(type: XdsTypeName): Promise<void> {
    const state = this.types.get(type)!;
    if (state.pendingNonce !== undefined) return; // sent again after its ACK or NACK
    const errorDetail = state.errorDetail;
    state.errorDetail = undefined;
    const answer = await discover(
      this.deps,
      { type, node: this.node, resourceNames: state.names, versionInfo: state.applied, ...(errorDetail ? { errorDetail } : {}) },
      this.principal,
    );
    if (answer.kind === 'refusal') {
      const { kind, message } = answer.refusal;
      // Refused, not found or unavailable now may change (a service declared, a dependency
      // added, the table back): the stream stays, and the next change re-evaluates it.
      if (kind === 'bad-request' || kind === 'unauthenticated') this.fail(kind, message);
      return;
    }
    this.io.observe?.(answer.poll);
    if (answer.kind === 'not-modified') return;
    const namesKey = state.names.join('\n');
    if (answer.versionInfo === state.sentVersion && namesKey === state.sentNames) return;
    const nonce = `${++this.nonceCounter}.${answer.nonce}`;
    state.pendingNonce = nonce;
    state.sentVersion = answer.versionInfo;
    state.sentNames = namesKey;
    this.io.send({ version_info: answer.versionInfo, resources: answer.resources, type_url: answer.typeUrl, nonce });
  }

  private fail(kind: RefusalKind, message: string): void {
    if (this.ended) return;
    this.ended = true;
    this.io.end(kind, message);
  }
}
