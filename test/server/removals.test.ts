import { Metadata } from '@grpc/grpc-js';
import { declareService } from '../../shared/state/catalog';
import { applyEndpointChanges } from '../../shared/state/endpoints';
import { defaultRenderSettings } from '../../shared/render/settings';
import { checkSnapshotConsistency, routeNamesOf } from '../../shared/render/snapshot';
import { XdsTypeName, typeUrls } from '../../shared/envoy/resources';
import { MeshStore } from '../../shared/store/mesh-store';
import { SnapshotItem } from '../../shared/store/records';
import { AdsServer } from '../../server/ads-server';
import { ChangeWatcher } from '../../server/change-watcher';
import { DeltaResponse } from '../../server/delta-stream';
import { typeOfUrl } from '../../server/xds-stream';
import { adsPlane } from './fixtures';
import { useDynalite } from '../support/dynamo';
import { AdsResponse, AdsTestClient } from '../support/ads-client';
import { assertConformant } from '../support/envoy-schema';
import { endpoint as fixtureEndpoint } from '../shared/render/fixtures';
import { ledger, orders } from '../support/removal-specs';

const dynalite = useDynalite();
const node = { id: 'orders-1', cluster: 'orders', user_agent_name: 'envoy' };

type Resource = Record<string, unknown>;

/**
 * EnvoyLikeClient plays an Envoy on one ADS stream, by hand: it ACKs every response at once,
 * subscribes EDS for the clusters it holds and RDS for the routes its listeners name (as
 * Envoy does), and drops a route configuration no listener names. Each step is logged, and
 * after each response it checks that no listener or route it holds sends to a cluster it lacks.
 */
abstract class EnvoyLikeClient<Response> {
  readonly held = new Map<XdsTypeName, Map<string, Resource>>();
  readonly log: string[] = [];
  readonly broken: string[] = [];
  /** The core's version of what each type last brought. */
  protected readonly versions = new Map<XdsTypeName, string>();
  protected readonly subscribed = new Map<XdsTypeName, string[]>();

  constructor(protected readonly client: AdsTestClient<Response>) {}

  abstract start(): void;
  protected abstract apply(response: Response): { type: XdsTypeName; removed: string[] };
  protected abstract subscribe(type: XdsTypeName, names: string[]): void;

  /** step takes the next response, applies and ACKs it, and follows what it implies. */
  async step(): Promise<void> {
    const { type, removed } = this.apply(await this.client.next());
    this.log.push(`${type}${removed.length > 0 ? ` -${removed.join(',')}` : ''}`);
    if (type === 'clusters') this.follow('endpoints', [...this.heldOf('clusters').values()].filter((c) => c.type === 'EDS').map((c) => String(c.name)));
    if (type === 'listeners') this.follow('routes', routeNamesOf([...this.heldOf('listeners').values()]));
    const problems = checkSnapshotConsistency(this.holding()).filter((p) => p.includes('not in CDS'));
    this.broken.push(...problems.map((p) => `after ${this.log.length}: ${p}`));
  }

  /** runUntil steps until `done`, at most `maxSteps` responses (a bound, hit only by a failing test). */
  async runUntil(done: () => boolean, maxSteps = 40): Promise<void> {
    for (let i = 0; i < maxSteps && !done(); i++) await this.step();
    if (!done()) throw new Error(`not converged after ${maxSteps} responses: ${this.log.join(' ')}`);
  }

  /** holding is what the node uses: its listeners, the routes they name, its clusters. */
  holding(): { listeners: Resource[]; routes: Resource[]; clusters: Resource[] } {
    const listeners = [...this.heldOf('listeners').values()];
    const named = new Set(routeNamesOf(listeners));
    return { listeners, routes: [...this.heldOf('routes').values()].filter((r) => named.has(String(r.name))), clusters: [...this.heldOf('clusters').values()] };
  }

  /** has tells whether the node holds exactly the snapshot's clusters and listeners (by the versions it was sent). */
  has(snapshot: SnapshotItem): boolean {
    const { clusters } = this.holding();
    return (
      sameNames(clusters, snapshot.resources.clusters!) &&
      this.versions.get('clusters') === snapshot.versions.clusters &&
      this.versions.get('listeners') === snapshot.versions.listeners
    );
  }

  protected heldOf(type: XdsTypeName): Map<string, Resource> {
    let m = this.held.get(type);
    if (!m) this.held.set(type, (m = new Map()));
    return m;
  }

  private follow(type: XdsTypeName, names: string[]): void {
    const wanted = [...new Set(names)].sort();
    if (wanted.join('\n') === (this.subscribed.get(type) ?? []).join('\n')) return;
    for (const name of [...this.heldOf(type).keys()]) if (!wanted.includes(name)) this.heldOf(type).delete(name);
    this.subscribe(type, wanted);
    this.subscribed.set(type, wanted);
  }
}

/** SotwClient: StreamAggregatedResources, each response the whole of its type (for the names asked). */
class SotwClient extends EnvoyLikeClient<AdsResponse> {
  private readonly last = new Map<XdsTypeName, { version: string; nonce: string }>();

  start(): void {
    this.client.send({ node, type_url: typeUrls.clusters });
    this.client.send({ type_url: typeUrls.listeners });
  }

  protected apply(response: AdsResponse): { type: XdsTypeName; removed: string[] } {
    const type = typeOfUrl.get(response.type_url)!;
    assertConformant(response);
    const resources = response.resources ?? [];
    const held = this.heldOf(type);
    const before = [...held.keys()];
    held.clear();
    for (const r of resources) held.set(String(r.name ?? r.cluster_name), r);
    this.last.set(type, { version: response.version_info, nonce: response.nonce });
    this.versions.set(type, response.version_info);
    this.client.send({ version_info: response.version_info, type_url: response.type_url, response_nonce: response.nonce, resource_names: this.subscribed.get(type) ?? [] });
    return { type, removed: before.filter((n) => !held.has(n)) };
  }

  protected subscribe(type: XdsTypeName, names: string[]): void {
    const last = this.last.get(type);
    this.client.send({ type_url: typeUrls[type], resource_names: names, ...(last ? { version_info: last.version, response_nonce: last.nonce } : {}) });
  }
}

/** DeltaClient: DeltaAggregatedResources, changed resources and removed_resources. */
class DeltaClient extends EnvoyLikeClient<DeltaResponse> {
  start(): void {
    this.client.send({ node, type_url: typeUrls.clusters });
    this.client.send({ type_url: typeUrls.listeners });
  }

  protected apply(response: DeltaResponse): { type: XdsTypeName; removed: string[] } {
    const type = typeOfUrl.get(response.type_url)!;
    const held = this.heldOf(type);
    for (const r of response.resources ?? []) held.set(r.name, r.resource);
    const removed = [...(response.removed_resources ?? [])];
    for (const name of removed) held.delete(name);
    this.versions.set(type, response.system_version_info);
    this.client.send({ type_url: response.type_url, response_nonce: response.nonce });
    return { type, removed };
  }

  protected subscribe(type: XdsTypeName, names: string[]): void {
    const had = this.subscribed.get(type) ?? [];
    this.client.send({
      type_url: typeUrls[type],
      resource_names_subscribe: names.filter((n) => !had.includes(n)),
      resource_names_unsubscribe: had.filter((n) => !names.includes(n)),
    });
  }
}
const byName = (rs: readonly Resource[]) => [...rs].sort((a, b) => (String(a.name) < String(b.name) ? -1 : 1));
const sameNames = (a: readonly Resource[], b: readonly Resource[]) => byName(a).map((r) => r.name).join() === byName(b).map((r) => r.name).join();

describe.each([
  ['state of the world', 'StreamAggregatedResources' as const, (c: AdsTestClient<unknown>) => new SotwClient(c as AdsTestClient<AdsResponse>)],
  ['delta', 'DeltaAggregatedResources' as const, (c: AdsTestClient<unknown>) => new DeltaClient(c as AdsTestClient<DeltaResponse>)],
])('make before break for removals on the push tier (%s)', (_kind, method, envoyOn) => {
  let store: MeshStore;
  let server: AdsServer;
  let watcher: ChangeWatcher;
  const clients: AdsTestClient<unknown>[] = [];

  beforeEach(async () => {
    ({ store, server, watcher } = await adsPlane(await dynalite.newStore()));
    await declareService(store, ledger, defaultRenderSettings);
    await applyEndpointChanges(store, [{ kind: 'upsert', endpoint: fixtureEndpoint('ledger', 'l1', { address: '10.0.1.1' }) }]);
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await server.close();
  });

  it.each([
    ['a dependency removed', ['payments', 'ledger'], ['ledger']],
    ['one dependency added and another removed in one change', ['payments'], ['ledger']],
  ])('across %s, sends the cluster\'s removal only after the listeners and routes that stop using it were ACKed', async (_what, before, after) => {
    await declareService(store, orders(...before), defaultRenderSettings);
    await watcher.poke();
    const client = new AdsTestClient<unknown>(server.port, new Metadata(), method);
    clients.push(client);
    const envoy = envoyOn(client);
    envoy.start();
    const first = (await store.getSnapshot('orders'))!;
    await envoy.runUntil(() => envoy.has(first));

    await declareService(store, orders(...after), defaultRenderSettings);
    const current = (await store.getSnapshot('orders'))!;
    const mark = envoy.log.length;
    await watcher.poke();
    await envoy.runUntil(() => envoy.has(current));

    expect(envoy.broken).toEqual([]);
    const steps = envoy.log.slice(mark);
    const removal = steps.findIndex((s) => s.startsWith('clusters') && /[-,]payments\b/.test(s));
    expect(removal).toBeGreaterThan(-1);
    // Both the listeners and the routes came, and were ACKed, before the cluster went.
    expect(steps.slice(0, removal)).toEqual(expect.arrayContaining([expect.stringMatching(/^listeners/), expect.stringMatching(/^routes/)]));
    expect(envoy.holding().routes.map((r) => r.name)).not.toContain('outbound_payments');
  });
});
