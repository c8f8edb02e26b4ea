import { XdsTypeName, typeUrls, xdsTypeNames } from '../shared/envoy/resources';
import { DiscoveryDeps, PollSummary, XdsAnswer, discover, identifyNode } from '../shared/xds/discovery';
import { Principal } from '../shared/xds/authorization';
import { RefusalKind } from '../shared/xds/refusal';
import { DiscoveryNode } from '../shared/xds/request';

/** typeOfUrl maps a type URL to the xDS type it names, or undefined for one we do not serve. */
export const typeOfUrl = new Map<string, XdsTypeName>(xdsTypeNames.map((t) => [typeUrls[t], t]));

/**
 * pushOrder is make before break on one stream: clusters, then their endpoints, then the
 * listeners and routes that use them, then secrets. (Removals in reverse, and holding a
 * cluster's removal until no listener refers to it, are not done yet.)
 */
export const pushOrder: readonly XdsTypeName[] = ['clusters', 'endpoints', 'listeners', 'routes', 'secrets'];

/** StreamIo is the transport under one stream: send a response, or end the stream with a refusal. */
export interface StreamIo<Response> {
  send(response: Response): void;
  end(kind: RefusalKind, message: string): void;
  /** Each answer of the core, for logs and metrics. */
  observe?(poll: PollSummary): void;
}

/** The parts of a request every xDS stream reads first. */
export interface StreamRequestHead {
  readonly node?: DiscoveryNode | undefined;
  readonly type_url?: string | undefined;
}

/**
 * XdsStream is what the state-of-the-world and the delta streams share: the node of the first
 * message, one queue so a push and a request never race, the core asked in the stream's
 * terms, and how refusals end a stream or wait for the next change. Every answer comes from
 * the same xDS core as the REST tier (`discover`).
 */
export abstract class XdsStream<Request extends StreamRequestHead, Response> {
  private node: DiscoveryNode | undefined;
  private queue: Promise<void> = Promise.resolve();
  private ended = false;
  private nonceCounter = 0;

  constructor(
    private readonly deps: DiscoveryDeps,
    protected readonly io: StreamIo<Response>,
    private readonly principal?: Principal,
  ) {}

  /** The node's mesh service, once its first message named it. */
  get service(): string | undefined {
    return this.node?.cluster || undefined;
  }

  /** subscribed lists what the stream asks for, per type (the change watcher reads it). */
  abstract subscribed(): ReadonlyMap<XdsTypeName, readonly string[]>;

  /** onRequest handles one request; the returned promise settles when it is answered. */
  onRequest(request: Request): Promise<void> {
    return this.enqueue(async () => {
      const type = this.accept(request);
      if (type) await this.handle(type, request);
    });
  }

  /** onChange re-evaluates every type: a change to the node's state was seen. */
  onChange(): Promise<void> {
    return this.enqueue(() => this.evaluateAll());
  }

  close(): void {
    this.ended = true;
  }

  protected abstract handle(type: XdsTypeName, request: Request): Promise<void>;
  protected abstract evaluate(type: XdsTypeName): Promise<void>;
  protected abstract has(type: XdsTypeName): boolean;

  /** evaluateAll looks at every subscribed type, in make-before-break order. */
  protected async evaluateAll(): Promise<void> {
    for (const type of pushOrder) {
      if (this.ended) return;
      if (this.has(type)) await this.evaluate(type);
    }
  }

  /**
   * ask puts a question to the core as this node. Refused, not found or unavailable now may
   * change (a service declared, a dependency added, the table back): the stream stays, and the
   * next change asks again; a bad request or a missing identity ends the stream.
   */
  protected async ask(
    type: XdsTypeName,
    resourceNames: readonly string[],
    versionInfo: string,
    errorDetail?: { code?: number; message?: string },
  ): Promise<Exclude<XdsAnswer, { kind: 'refusal' }> | undefined> {
    const answer = await discover(
      this.deps,
      { type, node: this.node, resourceNames, versionInfo, ...(errorDetail ? { errorDetail } : {}) },
      this.principal,
    );
    if (answer.kind === 'refusal') {
      const { kind, message } = answer.refusal;
      // A stream whose credential names another service than its node is wrong for good: ended.
      const misbound = kind === 'refused' && this.principal?.kind !== 'iam' && this.principal?.service !== this.service;
      if (kind === 'bad-request' || kind === 'unauthenticated' || (this.principal && misbound)) this.fail(kind, message);
      return undefined;
    }
    this.io.observe?.(answer.poll);
    return answer;
  }

  /** nextNonce makes a nonce unique on this stream. */
  protected nextNonce(salt: string): string {
    return `${++this.nonceCounter}.${salt}`;
  }

  protected fail(kind: RefusalKind, message: string): void {
    if (this.ended) return;
    this.ended = true;
    this.io.end(kind, message);
  }

  private accept(request: Request): XdsTypeName | undefined {
    if (request.node) this.node = request.node;
    if (!this.node) {
      this.fail('bad-request', 'the first request of a stream must carry the node');
      return undefined;
    }
    try {
      identifyNode(this.node);
    } catch (err) {
      this.fail('bad-request', (err as Error).message);
      return undefined;
    }
    return typeOfUrl.get(request.type_url ?? ''); // a type we do not serve: nothing to answer
  }

  private enqueue(work: () => Promise<void>): Promise<void> {
    this.queue = this.queue.then(() => (this.ended ? undefined : work())).catch((err: unknown) => {
      this.fail('unavailable', `the control plane failed: ${(err as Error).message}`);
    });
    return this.queue;
  }
}
