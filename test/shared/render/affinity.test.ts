import { parseServiceSpec } from '../../../shared/model/parse-spec';
import { analyzeSpec } from '../../../shared/state/catalog';
import { renderSnapshot } from '../../../shared/render/snapshot';
import { renderProxylessSnapshot } from '../../../shared/render/proxyless';
import { localClusterName } from '../../../shared/render/cluster';
import { EnvoyResource } from '../../../shared/envoy/resources';
import { assertConformant } from '../../support/envoy-schema';
import { settings, spec, world } from './fixtures';
import { problemsOf } from '../../support/spec-problems';

/**
 * Session affinity (`dependencies[].affinity`): validated with path-located problems, rendered
 * as a hash ring on the dependency's cluster and a hash policy where the caller routes, for
 * Envoys and for proxyless gRPC clients.
 */

const withAffinity = (affinity: unknown, extra: Record<string, unknown> = {}) => ({
  name: 'web',
  inboundPort: 15000,
  appPort: 8080,
  protocol: 'http',
  dependencies: [{ service: 'orders', localPort: 7000, affinity, ...extra }],
});

describe('affinity in the spec', () => {
  it.each([
    [{ header: 'x-session' }],
    [{ cookie: { name: 'SESSION', ttlSeconds: 3600, path: '/app' } }],
    [{ cookie: { name: 'sid', ttlSeconds: 0 } }],
    [{ sourceIp: true }],
  ])('accepts %j', (affinity) => {
    expect(problemsOf(withAffinity(affinity))).toEqual([]);
  });

  it.each<[string, unknown, Record<string, unknown>, { path: string; message: string }[]]>([
    ['nothing to hash on', {}, {}, [{ path: 'dependencies.0.affinity', message: 'must set one of header, cookie or sourceIp' }]],
    [
      'two things to hash on',
      { header: 'x-session', sourceIp: true },
      {},
      [{ path: 'dependencies.0.affinity.sourceIp', message: 'cannot be combined with header: affinity hashes on one thing' }],
    ],
    ['an uppercase header', { header: 'X-Session' }, {}, [{ path: 'dependencies.0.affinity.header', message: 'must be a lowercase HTTP header name' }]],
    [
      'a cookie name with a space and a negative lifetime',
      { cookie: { name: 'my session', ttlSeconds: -1 } },
      {},
      [
        { path: 'dependencies.0.affinity.cookie.name', message: 'must be a cookie name (an RFC 6265 token)' },
        { path: 'dependencies.0.affinity.cookie.ttlSeconds', message: 'must be 0 (a session cookie) or more seconds' },
      ],
    ],
    ['a cookie path with ";"', { cookie: { name: 'sid', ttlSeconds: 60, path: '/a;b' } }, {}, [{ path: 'dependencies.0.affinity.cookie.path', message: 'must be an absolute path without ";"' }]],
    ['sourceIp false', { sourceIp: false }, {}, [{ path: 'dependencies.0.affinity.sourceIp', message: 'must be true (leave it out for no source-IP affinity)' }]],
    [
      'affinity with zone-aware routing asked for',
      { header: 'x-session' },
      { zoneAware: { enabled: true } },
      [
        {
          path: 'dependencies.0.zoneAware.enabled',
          message: 'zone-aware routing does not combine with dependencies.0.affinity (consistent hashing chooses by key, not by zone); leave one out',
        },
      ],
    ],
  ])('refuses %s, naming the field', (_what, affinity, extra, expected) => {
    expect(problemsOf(withAffinity(affinity, extra))).toEqual(expected);
  });

  it('refuses header and cookie affinity on a TCP dependency, which can hash only the source address', () => {
    const ledger = parseServiceSpec({ name: 'ledger', inboundPort: 15000, appPort: 8080, protocol: 'tcp' });
    const caller = (affinity: unknown) =>
      parseServiceSpec({ name: 'web', inboundPort: 15000, appPort: 8080, protocol: 'http', dependencies: [{ service: 'ledger', localPort: 7000, affinity }] });
    const catalog = new Map([['ledger', ledger]]);
    expect(analyzeSpec(caller({ header: 'x-session' }), catalog)).toEqual([
      { path: 'dependencies.0.affinity.header', message: 'header affinity needs HTTP (a TCP proxy can hash only on sourceIp); "ledger" speaks tcp' },
    ]);
    expect(analyzeSpec(caller({ cookie: { name: 'sid', ttlSeconds: 0 } }), catalog)).toEqual([
      { path: 'dependencies.0.affinity.cookie', message: 'cookie affinity needs HTTP (a TCP proxy can hash only on sourceIp); "ledger" speaks tcp' },
    ]);
    expect(analyzeSpec(caller({ sourceIp: true }), catalog)).toEqual([]);
  });
});

const orders = spec({ name: 'orders', protocol: 'http', inboundPort: 15001 });
const ledger = spec({ name: 'ledger', protocol: 'tcp', inboundPort: 15002 });
const payments = spec({ name: 'payments', protocol: 'grpc', inboundPort: 15003 });
const split = { subsets: [{ labels: { revision: '1' }, weight: 90 }, { labels: { revision: '2' }, weight: 10 }] };
const web = (affinity: Record<string, unknown>, tcpAffinity: Record<string, unknown> | null = { sourceIp: true }) =>
  spec({
    name: 'web',
    dependencies: [
      { service: 'orders', localPort: 7001, affinity, split },
      { service: 'ledger', localPort: 7002, ...(tcpAffinity ? { affinity: tcpAffinity } : {}) },
      { service: 'payments', localPort: 7003, affinity },
    ],
  });
const byName = (list: readonly EnvoyResource[] | undefined, name: string) => list!.find((r) => r.name === name)!;
const routeActions = (route: EnvoyResource) =>
  (route.virtual_hosts as { routes: { route: Record<string, unknown> }[] }[]).flatMap((vh) => vh.routes.map((r) => r.route));

describe('affinity rendered for Envoy', () => {
  it.each<[string, Record<string, unknown>, unknown]>([
    ['a header', { header: 'x-session' }, [{ header: { header_name: 'x-session' } }]],
    ['a cookie Envoy sets when absent', { cookie: { name: 'sid', ttlSeconds: 3600, path: '/' } }, [{ cookie: { name: 'sid', ttl: '3600s', path: '/' } }]],
    ['a session cookie', { cookie: { name: 'sid', ttlSeconds: 0 } }, [{ cookie: { name: 'sid', ttl: '0s' } }]],
    ['the caller instance', { sourceIp: true }, [{ connection_properties: { source_ip: true } }]],
  ])('hashes on %s in every route to the dependency, over a ring instead of zone-aware round robin', (_what, affinity, hashPolicy) => {
    const resources = renderSnapshot(world(web(affinity), [orders, ledger, payments]), settings);
    for (const route of ['outbound_orders', 'outbound_payments']) {
      const actions = routeActions(byName(resources.routes, route));
      expect(actions.length).toBeGreaterThan(0);
      for (const action of actions) expect(action.hash_policy).toEqual(hashPolicy);
    }
    const cluster = byName(resources.clusters, 'orders');
    expect(cluster).toMatchObject({ lb_policy: 'RING_HASH', ring_hash_lb_config: { hash_function: 'XX_HASH' } });
    expect(cluster.common_lb_config).toBeUndefined();
    // Subsets still select by the split's labels; the ring runs within the chosen subset.
    expect(cluster.lb_subset_config).toBeDefined();
    for (const resource of [...resources.listeners!, ...resources.routes!, ...resources.clusters!]) expect(() => assertConformant(resource)).not.toThrow();
  });

  it('hashes a TCP dependency on the source address in its TCP proxy, and leaves dependencies without affinity as they were', () => {
    const sticky = renderSnapshot(world(web({ header: 'x-session' }), [orders, ledger, payments]), settings);
    const plain = renderSnapshot(world(web({ header: 'x-session' }, null), [orders, ledger, payments]), settings);
    const proxy = (r: typeof sticky) =>
      (byName(r.listeners, 'outbound_ledger').filter_chains as { filters: { typed_config: Record<string, unknown> }[] }[])[0]!.filters.at(-1)!.typed_config;
    expect(proxy(sticky).hash_policy).toEqual([{ source_ip: {} }]);
    expect(byName(sticky.clusters, 'ledger').lb_policy).toBe('RING_HASH');
    expect(proxy(plain).hash_policy).toBeUndefined();
    expect(byName(plain.clusters, 'ledger').lb_policy).toBe('ROUND_ROBIN');
  });

  it('needs no local cluster for zone awareness when every zone-aware dependency is sticky', () => {
    // Validation refuses zone awareness with affinity; rendering stays total for a spec stored before that rule.
    const zoneAware = { enabled: true };
    const parsed = spec({ name: 'web', dependencies: [{ service: 'orders', localPort: 7001, affinity: { sourceIp: true } }] });
    const sticky = { ...parsed, dependencies: parsed.dependencies.map((d) => ({ ...d, zoneAware })) };
    const mixed = spec({ name: 'web', dependencies: [{ service: 'orders', localPort: 7001, affinity: { sourceIp: true } }, { service: 'ledger', localPort: 7002, zoneAware }] });
    expect(localClusterName(sticky)).toBeUndefined();
    expect(localClusterName(mixed)).toBeDefined();
  });
});

describe('affinity rendered for proxyless gRPC clients', () => {
  const proxyless = (affinity: Record<string, unknown>) => renderProxylessSnapshot(world(web(affinity), [orders, ledger, payments]), settings);
  const actionsOf = (resources: ReturnType<typeof proxyless>) =>
    resources.listeners!.flatMap((l) => {
      const hcm = (l.api_listener as { api_listener: { route_config?: EnvoyResource } }).api_listener;
      return hcm.route_config ? routeActions(hcm.route_config) : [];
    });

  it.each<[string, Record<string, unknown>, unknown]>([
    ['a header (gRPC metadata)', { header: 'x-session' }, [{ header: { header_name: 'x-session' } }]],
    ['the caller instance, as its channel', { sourceIp: true }, [{ filter_state: { key: 'io.grpc.channel_id' } }]],
  ])('hashes on %s over a ring (gRFC A42)', (_what, affinity, hashPolicy) => {
    const resources = proxyless(affinity);
    const actions = actionsOf(resources);
    expect(actions.length).toBeGreaterThan(0);
    for (const action of actions) expect(action.hash_policy).toEqual(hashPolicy);
    for (const cluster of resources.clusters!) expect(cluster.lb_policy).toBe('RING_HASH');
    for (const resource of [...resources.listeners!, ...resources.clusters!]) expect(() => assertConformant(resource)).not.toThrow();
  });

  it('stays round robin for cookie affinity, which means nothing to a gRPC client', () => {
    const resources = proxyless({ cookie: { name: 'sid', ttlSeconds: 0 } });
    for (const action of actionsOf(resources)) expect(action.hash_policy).toBeUndefined();
    for (const cluster of resources.clusters!) expect(cluster.lb_policy).toBe('ROUND_ROBIN');
  });
});
