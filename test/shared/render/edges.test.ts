import { EnvoyResource, SnapshotResources } from '../../../shared/envoy/resources';
import { checkSnapshotConsistency, renderSnapshot, secretNamesOf } from '../../../shared/render/snapshot';
import { renderProxylessSnapshot } from '../../../shared/render/proxyless';
import { restConfigSource } from '../../../shared/render/settings';
import { assertConformant } from '../../support/envoy-schema';
import { settings, spec, world } from './fixtures';

const named = (list: readonly EnvoyResource[] | undefined, name: string) => (list ?? []).find((r) => r.name === name)!;
const everyResource = (r: SnapshotResources) => [...(r.listeners ?? []), ...(r.routes ?? []), ...(r.clusters ?? [])];

describe('external services', () => {
  const github = spec({ name: 'github', kind: 'external', hosts: ['api.github.com'], port: 443, tls: true, protocol: 'http' });
  const mirrors = spec({ name: 'mirrors', kind: 'external', hosts: ['a.mirror.example.org', 'b.mirror.example.org'], port: 5432, tls: false, protocol: 'tcp' });
  const orders = spec({
    name: 'orders',
    dependencies: [
      { service: 'github', localPort: 7001, timeoutMs: 5_000 },
      { service: 'mirrors', localPort: 7002, connectTimeoutMs: 2_000 },
    ],
  });
  const rendered = renderSnapshot(world(orders, [github, mirrors]), settings);

  it('reaches one host by LOGICAL_DNS with TLS origination: SNI, the host’s name checked against the system CAs', () => {
    expect(named(rendered.clusters, 'github')).toEqual({
      '@type': 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
      name: 'github',
      type: 'LOGICAL_DNS',
      dns_lookup_family: 'V4_PREFERRED',
      connect_timeout: '5s',
      lb_policy: 'ROUND_ROBIN',
      load_assignment: {
        cluster_name: 'github',
        endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 'api.github.com', port_value: 443 } } } }] }],
      },
      circuit_breakers: expect.any(Object),
      outlier_detection: expect.any(Object),
      transport_socket: {
        name: 'envoy.transport_sockets.tls',
        typed_config: {
          '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
          sni: 'api.github.com',
          common_tls_context: {
            validation_context: {
              trusted_ca: { filename: '/etc/ssl/certs/ca-certificates.crt' },
              match_typed_subject_alt_names: [{ san_type: 'DNS', matcher: { exact: 'api.github.com' } }],
            },
          },
        },
      },
    });
  });

  it('reaches several hosts by STRICT_DNS, plaintext when tls is false, with the dependency’s connect timeout', () => {
    const cluster = named(rendered.clusters, 'mirrors');
    expect(cluster).toMatchObject({ type: 'STRICT_DNS', connect_timeout: '2s' });
    expect(cluster).not.toHaveProperty('transport_socket');
    expect((cluster.load_assignment as { endpoints: { lb_endpoints: unknown[] }[] }).endpoints[0]!.lb_endpoints).toHaveLength(2);
  });

  it('takes the CA bundle path from the render settings', () => {
    const custom = renderSnapshot(world(orders, [github, mirrors]), { ...settings, systemCaBundlePath: '/etc/pki/tls/certs/ca-bundle.crt' });
    expect(JSON.stringify(named(custom.clusters, 'github'))).toContain('"filename":"/etc/pki/tls/certs/ca-bundle.crt"');
  });

  it('serves an HTTP external service through the local port, rewriting Host to the provider’s name', () => {
    const listener = named(rendered.listeners, 'outbound_github');
    expect(listener.address).toEqual({ socket_address: { address: '127.0.0.1', port_value: 7001 } });
    const route = named(rendered.routes, 'outbound_github') as { virtual_hosts: { routes: { route: Record<string, unknown> }[] }[] };
    expect(route.virtual_hosts[0]!.routes[0]!.route).toMatchObject({ cluster: 'github', auto_host_rewrite: true, timeout: '5s' });
  });

  it('serves a TCP external service through a TCP proxy, and references no mesh secret', () => {
    expect(JSON.stringify(named(rendered.listeners, 'outbound_mirrors'))).toContain('"cluster":"mirrors"');
    expect(secretNamesOf({ clusters: [named(rendered.clusters, 'github'), named(rendered.clusters, 'mirrors')] })).toEqual([]);
    expect(checkSnapshotConsistency(rendered, 'orders')).toEqual([]);
  });

  it('has no Envoy of its own, and gRPC clients are not given it', () => {
    expect(renderSnapshot(world(github, []), settings)).toEqual({ listeners: [], routes: [], clusters: [] });
    expect(renderProxylessSnapshot(world(orders, [github, mirrors]), settings).listeners).toEqual([]);
  });

  it.each(['http', 'http2', 'grpc', 'tcp'] as const)('conforms to Envoy v3 for a %s external service', (protocol) => {
    const external = spec({ name: 'ext', kind: 'external', hosts: ['api.example.com', 'api2.example.com'], port: 443, tls: true, protocol });
    const caller = spec({ name: 'caller', dependencies: [{ service: 'ext', localPort: 7001 }] });
    for (const r of everyResource(renderSnapshot(world(caller, [external]), settings))) expect(() => assertConformant(r)).not.toThrow();
  });
});

describe('egress policy (the default of transparent services)', () => {
  const payments = spec({ name: 'payments' });
  const transparent = (unknownDestinations?: 'passthrough' | 'deny') =>
    spec({ name: 'orders', interception: { mode: 'transparent', ...(unknownDestinations ? { unknownDestinations } : {}) }, dependencies: [{ service: 'payments', localPort: 7001 }] });
  const clusterNames = (s: ReturnType<typeof spec>, egress?: 'allow-all' | 'allow-declared') =>
    renderSnapshot(world(s, [payments]), { ...settings, ...(egress ? { egress } : {}) }).clusters!.map((c) => c.name);

  it('passes undeclared traffic on under allow-all and closes it under allow-declared, for services that do not say', () => {
    expect(clusterNames(transparent(), 'allow-all')).toContain('transparent_passthrough');
    expect(clusterNames(transparent(), 'allow-declared')).not.toContain('transparent_passthrough');
    expect(clusterNames(transparent(), 'allow-declared')).toContain('transparent_blackhole');
  });

  it("leaves a service's own unknownDestinations as it says", () => {
    expect(clusterNames(transparent('passthrough'), 'allow-declared')).toContain('transparent_passthrough');
    expect(clusterNames(transparent('deny'), 'allow-all')).not.toContain('transparent_passthrough');
  });

  it('changes nothing in a localhost-mode snapshot', () => {
    const orders = spec({ name: 'orders', dependencies: [{ service: 'payments', localPort: 7001 }] });
    expect(renderSnapshot(world(orders, [payments]), { ...settings, egress: 'allow-all' })).toEqual(renderSnapshot(world(orders, [payments]), settings));
    expect(renderSnapshot(world(orders, [payments]), { ...settings, egress: 'allow-declared' })).toEqual(renderSnapshot(world(orders, [payments]), settings));
  });
});

describe('ingress gateways', () => {
  const web = spec({ name: 'web' });
  const orders = spec({ name: 'orders', protocol: 'grpc' });
  const edge = spec({
    name: 'edge',
    kind: 'gateway',
    listeners: [
      { port: 8443, protocol: 'http', tls: { certificateSecretArn: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:edge-tls-AbCdEf' } },
      { port: 8080, protocol: 'http' },
    ],
    routes: [
      { pathPrefix: '/api/orders/', service: 'orders', rewritePrefix: '/', hostnames: ['api.example.com'] },
      { exactPath: '/healthz', service: 'web' },
      { pathPrefix: '/', service: 'web' },
    ],
  });
  const rendered = renderSnapshot(world(edge, [web, orders]), settings);

  it('listens on each declared port, at the edge: X-Forwarded-For from the client, hosts matched without port', () => {
    expect((rendered.listeners ?? []).map((l) => [l.name, (l.address as { socket_address: { port_value: number } }).socket_address.port_value])).toEqual([
      ['gateway_8080', 8080],
      ['gateway_8443', 8443],
      ['gateway_health', 15021],
    ]);
    expect(named(rendered.listeners, 'gateway_8080').filter_chains).toMatchObject([
      { filters: [{ typed_config: { stat_prefix: 'gateway_8080', use_remote_address: true, strip_any_host_port: true, rds: { route_config_name: 'gateway' } } }] },
    ]);
  });

  it('terminates TLS with the operator’s certificate over SDS, asking no client certificate', () => {
    const [chain] = named(rendered.listeners, 'gateway_8443').filter_chains as { transport_socket: { typed_config: Record<string, unknown> } }[];
    expect(chain!.transport_socket.typed_config).toEqual({
      '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
      common_tls_context: {
        alpn_protocols: ['h2', 'http/1.1'],
        tls_certificate_sds_secret_configs: [{ name: 'gateway_certificate_edge_8443', sds_config: restConfigSource(settings) }],
      },
    });
    expect(JSON.stringify(named(rendered.listeners, 'gateway_8443'))).not.toContain('PRIVATE KEY');
    expect(named(rendered.listeners, 'gateway_8080').filter_chains).not.toMatchObject([{ transport_socket: expect.anything() }]);
  });

  it('groups routes into virtual hosts by host name, in declared order, any host last', () => {
    expect(named(rendered.routes, 'gateway').virtual_hosts).toEqual([
      {
        name: 'api.example.com',
        domains: ['api.example.com'],
        routes: [{ match: { prefix: '/api/orders/' }, route: { cluster: 'orders', timeout: '15s', prefix_rewrite: '/' } }],
      },
      {
        name: 'any',
        domains: ['*'],
        routes: [
          { match: { path: '/healthz' }, route: { cluster: 'web', timeout: '15s' } },
          { match: { prefix: '/' }, route: { cluster: 'web', timeout: '15s' } },
        ],
      },
    ]);
  });

  it('reaches each routed service over mTLS with its own mesh certificate, like any caller', () => {
    expect((rendered.clusters ?? []).map((c) => c.name)).toEqual(['orders', 'web']);
    const tls = (named(rendered.clusters, 'orders').transport_socket as { typed_config: { common_tls_context: Record<string, unknown> } }).typed_config.common_tls_context;
    expect(tls.tls_certificate_sds_secret_configs).toEqual([{ name: 'service_certificate_edge', sds_config: restConfigSource(settings) }]);
    expect(tls.alpn_protocols).toEqual(['h2']);
  });

  it('is consistent: its own certificates only, every route’s cluster in CDS', () => {
    expect(secretNamesOf(rendered)).toEqual(['gateway_certificate_edge_8443', 'mesh_trust_bundle', 'service_certificate_edge']);
    expect(checkSnapshotConsistency(rendered, 'edge')).toEqual([]);
    expect(checkSnapshotConsistency(rendered, 'other')).toEqual(
      expect.arrayContaining(['secret "gateway_certificate_edge_8443" is referenced, but the nodes of "other" are not served it']),
    );
  });

  it('is admitted by the services it routes to: it counts as their caller', () => {
    const inbound = renderSnapshot(world(web, [], ['edge']), settings);
    expect(JSON.stringify(inbound.routes)).toContain('"exact":"spiffe://mesh.local/service/edge"');
  });

  it.each(['http', 'http2', 'grpc'] as const)('conforms to Envoy v3 with a %s listener', (protocol) => {
    const g = spec({
      name: 'edge',
      kind: 'gateway',
      listeners: [{ port: 443, protocol, tls: { certificateSecretArn: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:edge-tls-AbCdEf' } }, { port: 80, protocol }],
      routes: [{ pathPrefix: '/a/', rewritePrefix: '/', hostnames: ['*.example.com', 'example.com'], service: 'orders' }, { exactPath: '/b', service: 'web' }],
    });
    const resources = renderSnapshot(world(g, [web, orders]), settings);
    for (const r of everyResource(resources)) expect(() => assertConformant(r)).not.toThrow();
  });
});
