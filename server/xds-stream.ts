import { XdsTypeName, typeUrls, xdsTypeNames } from '../shared/envoy/resources';
import { DiscoveryDeps, PollSummary, XdsAnswer, discover, identifyNode } from '../shared/xds/discovery';
import { Principal } from '../shared/xds/authorization';
import { RefusalKind } from '../shared/xds/refusal';
import { DiscoveryNode } from '../shared/xds/request';
import { EvaluationGate } from './evaluation-gate';

/** typeOfUrl maps a type URL to the xDS type it names, or undefined for one we do not serve. */
export const typeOfUrl = new Map<string, XdsTypeName>(xdsTypeNames.map((t) => [typeUrls[t], t]));

/**
 * pushOrder is make before break on one stream: clusters, then their endpoints, then the
 * listeners and routes that use them, then secrets. Removals come in reverse without a second
 * order: the core keeps serving a dropped cluster (retiring, shared/xds/retiring.ts) until the
 * node has ACKed listeners and routes that no longer use it, so its removal (a smaller CDS, or
 * `removed_resources` in delta) follows those ACKs.
 */
export const pushOrder: readonly XdsTypeName[] = ['clusters', 'endpoints', 'listeners', 'routes', 'secrets'];

/**
 * streamRetry is how a stream answered `unavailable` (a read that failed or ran out of its
 * budget) asks again: from 500 ms, doubling to 10 s, jittered so a server's streams that
 * failed together do not retry together.
 */
export const streamRetry = { initialMs: 500, maxMs: 10_000 };

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
  /** An `unavailable` answer (the table slow or down) is asked again after this back-off, doubling to a cap. */
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelayMs = 0;
  /** The evaluation queued for a change and not started yet, which later changes join. */
  private changeQueued: Promise<void> | undefined;

  constructor(
    private readonly deps: DiscoveryDeps,
    protected readonly io: StreamIo<Response>,
    private readonly principal?: Principal,
    /** Shared by the server's streams: how many work at once (unbounded without it). */
    private readonly gate?: EvaluationGate,
  ) {}

  /** The node's id, once its first message named it. */
  get nodeId(): string | undefined {
    return this.node?.id || undefined;
  }

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

  /**
   * onChange re-evaluates every type: a change to the node's state was seen. Changes coalesce:
   * while one evaluation waits in the queue, later changes join it instead of queueing their
   * own, as it reads the state as it is when it runs. A stream that is slow to be answered (a
   * slow read) so holds at most one pending evaluation, however many changes arrive.
   */
  onChange(): Promise<void> {
    if (this.changeQueued) return this.changeQueued;
    const queued = this.enqueue(() => {
      this.changeQueued = undefined;
      return this.evaluateAll();
    });
    this.changeQueued = queued;
    return queued;
  }

  close(): void {
    this.ended = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  protected abstract handle(type: XdsTypeName, request: Request): Promise<void>;
  protected abstract evaluate(type: XdsTypeName): Promise<void>;
  protected abstract has(type: XdsTypeName): boolean;

  /**
   * evaluateAll looks at every subscribed type, in make-before-break order. After an ACK of
   * listeners or routes (`acked`), clusters are looked at once more, last: the core now knows
   * what the node applied, and a cluster those no longer use may go (removals in reverse).
   */
  protected async evaluateAll(acked?: XdsTypeName): Promise<void> {
    const removalsLast: readonly XdsTypeName[] = acked === 'listeners' || acked === 'routes' ? ['clusters'] : [];
    for (const type of [...pushOrder, ...removalsLast]) {
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
      {
        type,
        node: this.node,
        resourceNames,
        versionInfo,
        streamTypes: new Set(pushOrder.filter((t) => this.has(t))),
        ...(errorDetail ? { errorDetail } : {}),
      },
      this.principal,
    );
    // Closed while the core answered (shutdown): nothing more goes out on this stream.
    if (this.ended) return undefined;
    if (answer.kind === 'refusal') {
      const { kind, message } = answer.refusal;
      // A stream whose credential names another service than its node is wrong for good: ended.
      const misbound = kind === 'refused' && this.principal?.kind !== 'iam' && this.principal?.service !== this.service;
      if (kind === 'bad-request' || kind === 'unauthenticated' || (this.principal && misbound)) this.fail(kind, message);
      // Nothing may change in the table to wake this stream (the read failed, not the state):
      // ask again after a back-off, as Envoy would re-poll.
      if (kind === 'unavailable') this.retryAfterUnavailable();
      return undefined;
    }
    this.retryDelayMs = 0;
    this.io.observe?.(answer.poll);
    return answer;
  }

  /**
   * retryAfterUnavailable re-evaluates the stream after a jittered back-off (from
   * `streamRetry.initialMs`, doubling to `streamRetry.maxMs`), once however many types were
   * unavailable; an answer resets it.
   */
  private retryAfterUnavailable(): void {
    if (this.ended || this.retryTimer) return;
    this.retryDelayMs = Math.min(streamRetry.maxMs, this.retryDelayMs === 0 ? streamRetry.initialMs : this.retryDelayMs * 2);
    const delay = this.retryDelayMs * (0.5 + Math.random() / 2);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.onChange();
    }, delay);
    this.retryTimer.unref();
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
    const gated = this.gate ? () => this.gate!.run(work) : work;
    this.queue = this.queue.then(() => (this.ended ? undefined : gated())).catch((err: unknown) => {
      this.fail('unavailable', `the control plane failed: ${(err as Error).message}`);
    });
    return this.queue;
  }
}
