import { typeUrls, XdsTypeName } from '../../shared/envoy/resources';

/**
 * EnvoyPoller behaves as Envoy's REST-JSON subscriptions do (ENVOY-REST.md, from
 * http_subscription_impl.cc): one LDS and one CDS wildcard subscription, one RDS subscription
 * per route name its listeners use, one EDS subscription per EDS cluster. Each poll sends the
 * last *accepted* version (never a nonce or error_detail), keeps its config on 304 and on any
 * error, and rejects an update whose resources are not of the subscription's type (or that a
 * test's `reject` hook refuses), which leaves its version where it was: a NACK.
 */

export type Transport = (path: string, body: unknown) => Promise<{ status: number; body?: unknown }>;

export interface EnvoyPollerOptions {
  readonly nodeId: string;
  readonly service: string;
  readonly zone?: string;
  readonly transport: Transport;
  /** Return a reason to reject an update (simulates Envoy refusing a config). */
  readonly reject?: (type: XdsTypeName, resources: readonly Record<string, unknown>[]) => string | undefined;
  /** Called after every poll, answered or not: a test checks what the node holds at each step. */
  readonly afterPoll?: (poller: EnvoyPoller, key: string) => void;
}

interface SubscriptionState {
  readonly type: XdsTypeName;
  readonly names: readonly string[];
  version: string;
  resources: Record<string, unknown>[];
}

type Resource = Record<string, unknown>;

export class EnvoyPoller {
  private readonly subscriptions = new Map<string, SubscriptionState>();
  readonly log: { key: string; status: number; accepted?: boolean; reason?: string }[] = [];

  constructor(private readonly options: EnvoyPollerOptions) {
    this.ensure('listeners', []);
    this.ensure('clusters', []);
  }

  get nodeId(): string {
    return this.options.nodeId;
  }

  /** pollOnce polls every subscription once, in Envoy's start-up order (CDS, EDS, LDS, RDS). */
  async pollOnce(): Promise<void> {
    for (const type of ['clusters', 'endpoints', 'listeners', 'routes'] as const) await this.pollType(type);
  }

  /** pollType polls every subscription of one type once: REST polls of different types come in any order. */
  async pollType(type: XdsTypeName): Promise<void> {
    for (const sub of [...this.subscriptions.values()].filter((s) => s.type === type)) {
      await this.poll(sub);
      this.options.afterPoll?.(this, key(sub.type, sub.names));
    }
  }

  /** held lists what the node holds now, per type: the accepted resources of its live subscriptions. */
  held(type: XdsTypeName): Resource[] {
    return [...this.subscriptions.values()].filter((s) => s.type === type).flatMap((s) => s.resources);
  }

  /** version is what the node has accepted for a subscription ('' before its first update). */
  version(type: XdsTypeName, names: readonly string[] = []): string {
    return this.subscriptions.get(key(type, names))?.version ?? '';
  }

  resources(type: XdsTypeName, names: readonly string[] = []): Resource[] {
    return this.subscriptions.get(key(type, names))?.resources ?? [];
  }

  /** Every subscription's accepted version, by subscription key. */
  versions(): Record<string, string> {
    return Object.fromEntries([...this.subscriptions].map(([k, s]) => [k, s.version]));
  }

  private ensure(type: XdsTypeName, names: readonly string[]): void {
    const k = key(type, names);
    if (!this.subscriptions.has(k)) this.subscriptions.set(k, { type, names, version: '', resources: [] });
  }

  private async poll(sub: SubscriptionState): Promise<void> {
    const body = {
      ...(sub.version ? { version_info: sub.version } : {}),
      node: {
        id: this.options.nodeId,
        cluster: this.options.service,
        ...(this.options.zone ? { locality: { zone: this.options.zone } } : {}),
        user_agent_name: 'envoy',
      },
      ...(sub.names.length > 0 ? { resource_names: sub.names } : {}),
      type_url: typeUrls[sub.type],
    };
    let answer: { status: number; body?: unknown };
    try {
      answer = await this.options.transport(`/v3/discovery:${sub.type}`, body);
    } catch {
      this.log.push({ key: key(sub.type, sub.names), status: 0 });
      return; // a connection failure: keep the config, poll again later
    }
    const k = key(sub.type, sub.names);
    if (answer.status !== 200) {
      this.log.push({ key: k, status: answer.status });
      return;
    }
    const response = answer.body as { version_info?: string; resources?: Resource[] };
    const resources = response.resources ?? [];
    const reason = this.check(sub, resources);
    this.log.push({ key: k, status: 200, accepted: !reason, ...(reason ? { reason } : {}) });
    if (reason) return;
    if (sub.type === 'endpoints' && resources.length === 0) return; // "empty": hosts unchanged
    sub.version = response.version_info ?? '';
    sub.resources = resources;
    if (sub.type === 'listeners') this.followRoutes(resources);
    if (sub.type === 'clusters') this.followEndpoints(resources);
  }

  private check(sub: SubscriptionState, resources: readonly Resource[]): string | undefined {
    const wrong = resources.find((r) => r['@type'] !== typeUrls[sub.type]);
    if (wrong) return `resource of type ${String(wrong['@type'])} in a ${sub.type} update`;
    if (sub.type === 'endpoints') {
      if (resources.length > 1) return `${resources.length} ClusterLoadAssignments for one EDS cluster`;
      if (resources.length === 1 && resources[0]!.cluster_name !== sub.names[0]) return 'ClusterLoadAssignment for another cluster';
    }
    if (sub.type === 'routes' && resources.length !== 1) return `${resources.length} route configurations for one RDS subscription`;
    return this.options.reject?.(sub.type, resources);
  }

  /** Listeners name their route configurations: one RDS subscription each; unused ones end. */
  private followRoutes(listeners: readonly Resource[]): void {
    const wanted = new Set<string>();
    walk(listeners, (k, v) => {
      if (k === 'route_config_name' && typeof v === 'string') wanted.add(v);
    });
    this.resubscribe('routes', wanted);
  }

  /** EDS clusters get one EDS subscription each; removed clusters' subscriptions end. */
  private followEndpoints(clusters: readonly Resource[]): void {
    const wanted = new Set<string>();
    for (const c of clusters) {
      if (c.type !== 'EDS') continue;
      const eds = c.eds_cluster_config as { service_name?: string } | undefined;
      wanted.add(eds?.service_name || String(c.name));
    }
    this.resubscribe('endpoints', wanted);
  }

  private resubscribe(type: XdsTypeName, wanted: ReadonlySet<string>): void {
    for (const [k, s] of this.subscriptions) if (s.type === type && !wanted.has(s.names[0]!)) this.subscriptions.delete(k);
    for (const name of wanted) this.ensure(type, [name]);
  }
}

const key = (type: XdsTypeName, names: readonly string[]) => (names.length === 0 ? type : `${type}:${names.join(',')}`);

function walk(value: unknown, visit: (key: string, v: unknown) => void): void {
  if (Array.isArray(value)) value.forEach((v) => walk(v, visit));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      visit(k, v);
      walk(v, visit);
    }
  }
}

/** httpTransport polls a control plane over HTTP, as Envoy does. */
export function httpTransport(baseUrl: string): Transport {
  return async (path, body) => {
    const res = await fetch(baseUrl + path, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined };
  };
}
