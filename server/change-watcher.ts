import { canonicalJson } from '../shared/envoy/version';
import { SnapshotCache } from '../shared/xds/snapshot-cache';
import { StreamRequestHead, XdsStream } from './xds-stream';

type AnyStream = XdsStream<StreamRequestHead, unknown>;

export interface ChangeWatcherOptions {
  /** How often the table is read for changes. */
  readonly intervalMs: number;
  readonly onError?: (message: string) => void;
}

/**
 * ChangeWatcher tells streams that their node's state changed. It re-reads, once per
 * interval, the rendered items the streams use (one batched read per service with streams,
 * through the server's SnapshotCache, which it keeps fresh: the streams' own reads then hit
 * it), fingerprints them by their versions, and wakes only the streams of services whose
 * fingerprint changed. `poke` runs a check at once: the local runner calls it after each write.
 *
 * Limit (documented, not yet solved): idle reads per second are (services with streams) /
 * interval, so they grow with the number of services, though not with the number of streams.
 * A change log that writers append to and servers query by sequence would make them flat.
 */
export class ChangeWatcher {
  private readonly fingerprints = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  readonly stats = { checks: 0, wakes: 0 };

  constructor(
    private readonly cache: SnapshotCache,
    private readonly streams: () => Iterable<AnyStream>,
    private readonly options: ChangeWatcherOptions,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.poke(), this.options.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** poke checks for changes now; a poke during a check runs one more check after it. */
  poke(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.check().catch((err: unknown) => this.options.onError?.(`change check failed: ${(err as Error).message}`));
      } while (this.again);
    })().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async check(): Promise<void> {
    this.stats.checks++;
    const byService = new Map<string, { streams: AnyStream[]; endpoints: Set<string>; secrets: boolean }>();
    for (const stream of this.streams()) {
      const service = stream.service;
      if (!service) continue;
      const entry = byService.get(service) ?? { streams: [], endpoints: new Set<string>(), secrets: false };
      byService.set(service, entry);
      entry.streams.push(stream);
      const subscribed = stream.subscribed();
      for (const name of subscribed.get('endpoints') ?? []) entry.endpoints.add(name);
      entry.secrets ||= subscribed.has('secrets');
    }
    await Promise.all(
      [...byService].map(async ([service, entry]) => {
        const endpoints = [...entry.endpoints].sort();
        const read = await this.cache.rendered(service, endpoints, entry.secrets, { fresh: true });
        const fingerprint = canonicalJson({
          snapshot: read.snapshot?.versions ?? null,
          proxyless: read.snapshot?.proxyless?.versions ?? null,
          endpoints: endpoints.map((n) => read.assignments.get(n)?.version ?? null),
          secrets: read.secrets?.serial ?? null,
        });
        const before = this.fingerprints.get(service);
        this.fingerprints.set(service, fingerprint);
        if (before === fingerprint) return;
        this.stats.wakes += entry.streams.length;
        await Promise.all(entry.streams.map((s) => s.onChange()));
      }),
    );
  }
}
