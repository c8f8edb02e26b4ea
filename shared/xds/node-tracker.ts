import { NodeStatusRepository } from '../store/repositories';
import { Nack, NodeStatus, ServedForms, SubscriptionStatus, subscriptionKey } from '../model/node-status';
import { XdsTypeName } from '../envoy/resources';
import { defaults } from '../config';

/** One poll, as the tracker sees it: what the node reported and what we answered. */
export interface PollObservation {
  readonly nodeId: string;
  readonly service: string;
  readonly zone?: string;
  readonly type: XdsTypeName;
  readonly resourceNames: readonly string[];
  /** The request's `version_info`: what the node has applied ('' before its first update). */
  readonly reportedVersion: string;
  /** A client that sends `error_detail` (Envoy's REST client never does) says why it rejected. */
  readonly errorMessage?: string;
  /** The current version of what it asked for, and when the change behind it happened. */
  readonly currentVersion: string;
  readonly currentChangedAt?: string;
  /** Which forms it is served, whose versions `currentVersion` is of (default: REST). */
  readonly forms?: ServedForms;
  /**
   * Asked on a stream (ADS): a type has one subscription there, whose names change as the
   * client's needs do, so its newest names replace the type's others. REST polls keep one
   * subscription per set of names (Envoy polls each EDS cluster on its own).
   */
  readonly streamed?: boolean;
}

export interface NodeTrackerOptions {
  /** A node's status is written at most once per this gap, however often it changes. */
  readonly minWriteGapMs?: number;
  /** A node whose status has not changed is still rewritten this often, so it stays listed as live. */
  readonly livenessIntervalMs?: number;
  /** How many nodes one container remembers. */
  readonly maxNodes?: number;
  /**
   * Write status behind the poll instead of before its answer: for a long-lived server (the
   * push tier), where a write must not delay a push; a Lambda awaits its writes (it may be
   * frozen once it answered). One write per node is in flight at a time; what changes during
   * it is written by a later poll.
   * @default false
   */
  readonly writeBehind?: boolean;
  readonly now?: () => number;
}

interface TrackedNode {
  status: NodeStatus;
  writtenAt: number;
  dirty: boolean;
  /** Whether the table was read for this node since the container started. */
  loaded: boolean;
  /** A write behind the poll in flight (writeBehind). */
  writing?: boolean;
}

/**
 * NodeTracker follows each polling Envoy: what every subscription has applied, when it first
 * applied a version (the end of that change's convergence), and which updates it rejected.
 *
 * Envoy's REST client never sends `error_detail` (see ENVOY-REST.md): a NACK shows as a poll
 * that still reports the version it had at its previous poll although we then answered it
 * with a newer one. The tracker detects exactly that, from its own memory or the node's item.
 *
 * Writes are what the fleet pays for, so status is written when something changed but at most
 * once per node per `minWriteGapMs`, and otherwise once per `livenessIntervalMs`.
 */
export class NodeTracker {
  private readonly nodes = new Map<string, TrackedNode>();
  private readonly minWriteGapMs: number;
  private readonly livenessIntervalMs: number;
  private readonly maxNodes: number;
  private readonly writeBehind: boolean;
  private readonly now: () => number;
  readonly stats = { writes: 0, reads: 0, nacks: 0 };

  constructor(
    private readonly store: Pick<NodeStatusRepository, 'getNodeStatus' | 'putNodeStatus'>,
    options: NodeTrackerOptions = {},
  ) {
    this.minWriteGapMs = options.minWriteGapMs ?? defaults.nodeStatusMinWriteGapMs;
    this.livenessIntervalMs = options.livenessIntervalMs ?? defaults.nodeStatusLivenessMs;
    this.maxNodes = options.maxNodes ?? 50_000;
    this.writeBehind = options.writeBehind ?? false;
    this.now = options.now ?? Date.now;
  }

  /**
   * observe records one poll and returns the NACK it reveals, if any (each rejection is
   * reported once). A failure to read or write status never fails the poll: the caller
   * logs it and serves anyway.
   */
  async observe(o: PollObservation): Promise<Nack | undefined> {
    const now = this.now();
    const at = new Date(now).toISOString();
    const tracked = await this.load(o, at);
    const key = subscriptionKey(o.type, o.resourceNames);
    const previous = tracked.status.subscriptions[key];

    let nack: Nack | undefined;
    const rejected =
      o.errorMessage !== undefined
        ? (previous?.servedVersion ?? o.currentVersion)
        : previous && previous.appliedVersion === o.reportedVersion && previous.servedVersion !== o.reportedVersion
          ? previous.servedVersion
          : undefined;
    if (rejected !== undefined && rejected !== '') {
      const last = tracked.status.lastNack;
      if (!(last && last.subscription === key && last.rejectedVersion === rejected)) {
        nack = {
          subscription: key,
          type: o.type,
          rejectedVersion: rejected,
          keptVersion: o.reportedVersion,
          message: o.errorMessage ?? `kept version "${o.reportedVersion}" after being served "${rejected}"`,
          at,
        };
        this.stats.nacks++;
      }
    }

    const appliedChanged = !previous || previous.appliedVersion !== o.reportedVersion;
    const appliesCurrent = o.reportedVersion !== '' && o.reportedVersion === o.currentVersion;
    const subscription: SubscriptionStatus = {
      type: o.type,
      resourceNames: [...o.resourceNames],
      appliedVersion: o.reportedVersion,
      appliedAt: appliedChanged ? at : previous.appliedAt,
      ...(appliedChanged
        ? appliesCurrent && o.currentChangedAt
          ? {
              appliedChangedAt: o.currentChangedAt,
              convergenceMs: Math.max(0, now - Date.parse(o.currentChangedAt)),
            }
          : {}
        : pick(previous, ['appliedChangedAt', 'convergenceMs'])),
      servedVersion: o.currentVersion,
      lastPollAt: at,
    };
    const servedChanged = previous?.servedVersion !== o.currentVersion;
    // On a stream, the type's subscriptions under other names are gone: the client replaced them.
    const current = o.streamed
      ? Object.fromEntries(Object.entries(tracked.status.subscriptions).filter(([k, sub]) => k === key || sub.type !== o.type))
      : tracked.status.subscriptions;
    const replaced = Object.keys(current).length !== Object.keys(tracked.status.subscriptions).length;
    const forms = o.forms && o.forms !== 'rest' ? o.forms : undefined;
    const formsChanged = tracked.status.forms !== forms;
    const { forms: _forms, ...status } = tracked.status;
    tracked.status = {
      ...status,
      ...(forms ? { forms } : {}),
      ...(o.zone ? { zone: o.zone } : {}),
      lastPollAt: at,
      subscriptions: { ...current, [key]: subscription },
      ...(nack ? { lastNack: nack } : {}),
    };
    tracked.dirty ||= appliedChanged || servedChanged || formsChanged || replaced || nack !== undefined;
    if (this.writeBehind) void this.maybeWrite(tracked, now);
    else await this.maybeWrite(tracked, now);
    return nack;
  }

  /** status returns what this container knows of a node (for tests and the local runner). */
  status(nodeId: string): NodeStatus | undefined {
    return this.nodes.get(nodeId)?.status;
  }

  private async load(o: PollObservation, at: string): Promise<TrackedNode> {
    let tracked = this.nodes.get(o.nodeId);
    if (tracked && tracked.status.service !== o.service) tracked = undefined; // the node was re-purposed
    if (!tracked) {
      let stored: NodeStatus | undefined;
      try {
        this.stats.reads++;
        stored = await this.store.getNodeStatus(o.service, o.nodeId);
      } catch {
        stored = undefined; // status is best effort: the poll must not fail for it
      }
      tracked = {
        status: stored ?? { nodeId: o.nodeId, service: o.service, firstSeenAt: at, lastPollAt: at, subscriptions: {} },
        writtenAt: stored ? Date.parse(stored.lastPollAt) : 0,
        dirty: !stored,
        loaded: true,
      };
    }
    // Most recently used last, so the oldest is evicted first.
    this.nodes.delete(o.nodeId);
    this.nodes.set(o.nodeId, tracked);
    if (this.nodes.size > this.maxNodes) this.nodes.delete(this.nodes.keys().next().value!);
    return tracked;
  }

  /**
   * flush writes what polls would have carried but a stream does not: a status that changed
   * within the write gap (on a stream, no next poll comes to write it), and, for the nodes whose
   * streams are open (`liveNodeIds`), the liveness rewrite that keeps them listed while nothing
   * changes. The push tier calls it on a timer; REST polls need none.
   */
  async flush(liveNodeIds: Iterable<string> = []): Promise<void> {
    const now = this.now();
    const live = new Set(liveNodeIds);
    const due: Promise<void>[] = [];
    for (const [nodeId, tracked] of this.nodes) {
      const isLive = live.has(nodeId);
      if (!tracked.dirty && !(isLive && now - tracked.writtenAt >= this.livenessIntervalMs)) continue;
      // An open stream is a node polling continuously: it is seen now.
      if (isLive) tracked.status = { ...tracked.status, lastPollAt: new Date(now).toISOString() };
      due.push(this.maybeWrite(tracked, now));
    }
    await Promise.all(due);
  }

  private async maybeWrite(tracked: TrackedNode, now: number): Promise<void> {
    const since = now - tracked.writtenAt;
    if (!(tracked.dirty ? since >= this.minWriteGapMs : since >= this.livenessIntervalMs)) return;
    if (this.writeBehind && tracked.writing) return;
    const written = tracked.status;
    try {
      tracked.writing = true;
      this.stats.writes++;
      await this.store.putNodeStatus(written);
      tracked.writtenAt = now;
      // Changed while it was written (only behind the poll): still dirty.
      if (tracked.status === written) tracked.dirty = false;
    } catch {
      // Keep it dirty: the next poll of this node tries again.
    } finally {
      tracked.writing = false;
    }
  }
}

function pick<T extends object, K extends keyof T>(value: T, keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (value[k] !== undefined) out[k] = value[k];
  return out;
}
