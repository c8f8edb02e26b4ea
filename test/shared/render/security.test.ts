import { renderSnapshot, checkSnapshotConsistency, secretNamesOf, snapshotVersions } from '../../../shared/render/snapshot';
import { contentVersion } from '../../../shared/envoy/version';
import { restConfigSource } from '../../../shared/render/settings';
import { EnvoyResource, SnapshotResources } from '../../../shared/envoy/resources';
import { settings, spec, world } from './fixtures';

type Filter = { name: string; typed_config: Record<string, unknown> };
type Chain = { filters: Filter[]; transport_socket?: { name: string; typed_config: Record<string, unknown> } };

const sds = restConfigSource(settings);
const listenerNamed = (r: SnapshotResources, name: string) => (r.listeners ?? []).find((l) => l.name === name)!;
const clusterNamed = (r: SnapshotResources, name: string) => (r.clusters ?? []).find((c) => c.name === name);
const chainOf = (l: EnvoyResource) => (l.filter_chains as Chain[])[0]!;
const httpFiltersOf = (l: EnvoyResource) => chainOf(l).filters.at(-1)!.typed_config.http_filters as Filter[];
const rbacOf = (l: EnvoyResource) => httpFiltersOf(l).find((f) => f.name === 'envoy.filters.http.rbac')!.typed_config;
/** routeRbacOf is the allow-list an inbound route configuration carries as the RBAC filter's per-route override. */
const routeRbacOf = (r: SnapshotResources) => {
  const route = (r.routes ?? []).find((x) => x.name === 'inbound') as { virtual_hosts: { typed_per_filter_config: Record<string, Record<string, unknown>> }[] };
  return route.virtual_hosts[0]!.typed_per_filter_config['envoy.filters.http.rbac']!;
};
const routeRulesOf = (r: SnapshotResources) => (routeRbacOf(r).rbac as { rules: unknown }).rules;
const principal = (service: string) => ({ authenticated: { principal_name: { exact: `spiffe://mesh.local/service/${service}` } } });

const payments = spec({ name: 'payments', protocol: 'grpc', inboundPort: 15001 });
const ledger = spec({ name: 'ledger', protocol: 'tcp', inboundPort: 15002 });
const orders = spec({
  name: 'orders',
  dependencies: [
    { service: 'payments', localPort: 7001 },
    { service: 'ledger', localPort: 7002 },
  ],
});

describe('mTLS', () => {
  it('makes the inbound HTTP listener require a client certificate from the mesh CA, offering h2 and http/1.1', () => {
    const socket = chainOf(listenerNamed(renderSnapshot(world(payments, [], ['orders']), settings), 'inbound')).transport_socket;
    expect(socket).toEqual({
      name: 'envoy.transport_sockets.tls',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
        require_client_certificate: true,
        common_tls_context: {
          alpn_protocols: ['h2', 'http/1.1'],
          tls_certificate_sds_secret_configs: [{ name: 'service_certificate_payments', sds_config: sds }],
          validation_context_sds_secret_config: { name: 'mesh_trust_bundle', sds_config: sds },
        },
      },
    });
  });

  it('makes the inbound TCP listener require a client certificate, without ALPN', () => {
    const socket = chainOf(listenerNamed(renderSnapshot(world(ledger, [], ['orders']), settings), 'inbound')).transport_socket!;
    expect(socket.typed_config).toMatchObject({ require_client_certificate: true });
    expect(socket.typed_config.common_tls_context).not.toHaveProperty('alpn_protocols');
  });

  it('makes the cluster to payments present the caller’s certificate and accept only payments’ SPIFFE ID, over h2', () => {
    const cluster = clusterNamed(renderSnapshot(world(orders, [payments, ledger]), settings), 'payments')!;
    expect(cluster.transport_socket).toEqual({
      name: 'envoy.transport_sockets.tls',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
        sni: 'payments.mesh.local',
        common_tls_context: {
          alpn_protocols: ['h2'],
          tls_certificate_sds_secret_configs: [{ name: 'service_certificate_orders', sds_config: sds }],
          combined_validation_context: {
            default_validation_context: {
              match_typed_subject_alt_names: [{ san_type: 'URI', matcher: { exact: 'spiffe://mesh.local/service/payments' } }],
            },
            validation_context_sds_secret_config: { name: 'mesh_trust_bundle', sds_config: sds },
          },
        },
      },
    });
  });

  it('offers no ALPN on a TCP dependency’s cluster', () => {
    const cluster = clusterNamed(renderSnapshot(world(orders, [payments, ledger]), settings), 'ledger')!;
    const tls = (cluster.transport_socket as { typed_config: { common_tls_context: Record<string, unknown> } }).typed_config;
    expect(tls.common_tls_context).not.toHaveProperty('alpn_protocols');
  });

  it('follows the dependency’s setting: plaintext to a dependency with mTLS off, even from a caller with it on', () => {
    const plainPayments = spec({ name: 'payments', protocol: 'grpc', mtls: { enabled: false } });
    const resources = renderSnapshot(world(orders, [plainPayments, ledger]), settings);
    expect(clusterNamed(resources, 'payments')).not.toHaveProperty('transport_socket');
    expect(clusterNamed(resources, 'ledger')).toHaveProperty('transport_socket');
  });

  it('leaves the payload-facing side plaintext: the local app cluster and the loopback outbound listeners', () => {
    const resources = renderSnapshot(world(orders, [payments, ledger]), settings);
    expect(clusterNamed(resources, 'local_app')).not.toHaveProperty('transport_socket');
    for (const name of ['outbound_payments', 'outbound_ledger']) expect(chainOf(listenerNamed(resources, name))).not.toHaveProperty('transport_socket');
  });

  it('renders no TLS and no RBAC inbound when the service turns mTLS off', () => {
    const open = spec({ name: 'payments', mtls: { enabled: false } });
    const inbound = listenerNamed(renderSnapshot(world(open, [], ['orders']), settings), 'inbound');
    expect(chainOf(inbound)).not.toHaveProperty('transport_socket');
    expect(httpFiltersOf(inbound).map((f) => f.name)).toEqual(['envoy.filters.http.router']);
  });
});

describe('allowed callers (RBAC)', () => {
  it('lets exactly the services that depend on payments call it, by default, as the inbound route’s RBAC override', () => {
    const resources = renderSnapshot(world(payments, [], ['orders']), settings);
    const inbound = listenerNamed(resources, 'inbound');
    expect(httpFiltersOf(inbound).map((f) => f.name)).toEqual(['envoy.filters.http.rbac', 'envoy.filters.http.router']);
    expect(routeRbacOf(resources)).toEqual({
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBACPerRoute',
      rbac: { rules: { action: 'ALLOW', policies: { allowed_callers: { permissions: [{ any: true }], principals: [principal('orders')] } } } },
    });
  });

  it('keeps rules in the listener that deny everyone, so a route without the allow-list fails closed', () => {
    expect(rbacOf(listenerNamed(renderSnapshot(world(payments, [], ['orders']), settings), 'inbound'))).toEqual({
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC',
      rules: { action: 'ALLOW', policies: {} },
    });
  });

  it('denies everyone when nobody depends on the service: an ALLOW rule set without policies', () => {
    expect(routeRulesOf(renderSnapshot(world(payments, []), settings))).toEqual({ action: 'ALLOW', policies: {} });
  });

  it('takes an explicit list instead of the callers, sorted', () => {
    const listed = spec({ name: 'payments', inbound: { allowedCallers: ['web', 'batch'] } });
    const rules = routeRulesOf(renderSnapshot(world(listed, [], ['orders', 'web']), settings));
    expect(rules).toEqual({ action: 'ALLOW', policies: { allowed_callers: { permissions: [{ any: true }], principals: [principal('batch'), principal('web')] } } });
  });

  it('lets any mesh service identity in with "*", but not the push tier\'s certificate', () => {
    const anyone = spec({ name: 'payments', inbound: { allowedCallers: ['*'] } });
    const rules = routeRulesOf(renderSnapshot(world(anyone, []), settings)) as { policies: Record<string, { principals: unknown }> };
    expect(rules.policies.allowed_callers!.principals).toEqual([
      {
        and_ids: {
          ids: [
            { authenticated: { principal_name: { prefix: 'spiffe://mesh.local/service/' } } },
            { not_id: { authenticated: { principal_name: { exact: 'spiffe://mesh.local/service/_xds' } } } },
          ],
        },
      },
    ]);
  });

  it('puts a network RBAC filter before the TCP proxy of a TCP service', () => {
    const filters = chainOf(listenerNamed(renderSnapshot(world(ledger, [], ['billing', 'orders']), settings), 'inbound')).filters;
    expect(filters.map((f) => f.name)).toEqual(['envoy.filters.network.rbac', 'envoy.filters.network.tcp_proxy']);
    expect(filters[0]!.typed_config).toEqual({
      '@type': 'type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC',
      stat_prefix: 'inbound',
      rules: { action: 'ALLOW', policies: { allowed_callers: { permissions: [{ any: true }], principals: [principal('billing'), principal('orders')] } } },
    });
  });

  it.each([
    ['an HTTP service', spec({ name: 'payments' })],
    ['a gRPC service with a JWT check', spec({ name: 'payments', protocol: 'grpc', inbound: { jwt: { issuer: 'https://auth.example.com/', audiences: ['a'], jwksUri: 'https://auth.example.com/jwks' } } })],
    ['a permissive HTTP service', spec({ name: 'payments', mtls: { mode: 'permissive' } })],
  ])('changes only the inbound route, never a listener, when the callers of %s change (no drain)', (_, service) => {
    const before = renderSnapshot(world(service, [], ['orders']), settings);
    const after = renderSnapshot(world(service, [], ['orders', 'web']), settings);
    const inboundOf = (r: SnapshotResources) => listenerNamed(r, 'inbound');
    expect(contentVersion(inboundOf(after))).toBe(contentVersion(inboundOf(before)));
    expect(JSON.stringify(after.listeners)).toBe(JSON.stringify(before.listeners));
    expect(contentVersion(after.routes!)).not.toBe(contentVersion(before.routes!));
    expect(snapshotVersions(after).listeners).toBe(snapshotVersions(before).listeners);
    expect(after.clusters).toEqual(before.clusters);
  });

  it('still changes the listener of a TCP service when its callers change: network RBAC has no per-route form', () => {
    const before = renderSnapshot(world(ledger, [], ['orders']), settings);
    const after = renderSnapshot(world(ledger, [], ['orders', 'web']), settings);
    expect(contentVersion(listenerNamed(after, 'inbound'))).not.toBe(contentVersion(listenerNamed(before, 'inbound')));
  });
});

describe('JWT validation', () => {
  const jwt = {
    issuer: 'https://auth.example.com/',
    audiences: ['payments-api', 'payments-admin'],
    jwksUri: 'https://auth.example.com/.well-known/jwks.json',
  };

  it('checks a bearer token against the issuer’s keys before authorization and routing', () => {
    const guarded = spec({ name: 'payments', inbound: { jwt: { ...jwt, forwardPayloadHeader: 'x-jwt-payload', cacheDurationSeconds: 600 } } });
    const filters = httpFiltersOf(listenerNamed(renderSnapshot(world(guarded, [], ['orders']), settings), 'inbound'));
    expect(filters.map((f) => f.name)).toEqual(['envoy.filters.http.jwt_authn', 'envoy.filters.http.rbac', 'envoy.filters.http.router']);
    expect(filters[0]!.typed_config).toEqual({
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication',
      providers: {
        payments_jwt: {
          issuer: 'https://auth.example.com/',
          audiences: ['payments-api', 'payments-admin'],
          remote_jwks: {
            http_uri: { uri: 'https://auth.example.com/.well-known/jwks.json', cluster: 'jwks_payments', timeout: '5s' },
            cache_duration: '600s',
            async_fetch: {},
          },
          forward: false,
          from_headers: [{ name: 'Authorization', value_prefix: 'Bearer ' }],
          forward_payload_header: 'x-jwt-payload',
        },
      },
      rules: [{ match: { prefix: '/' }, requires: { provider_name: 'payments_jwt' } }],
    });
  });

  it('fetches the keys through a DNS cluster that verifies the JWKS host against the system CAs', () => {
    const guarded = spec({ name: 'payments', inbound: { jwt: { ...jwt, jwksUri: 'https://keys.example.com:8443/jwks', allowPrivateJwksUri: true } } });
    expect(clusterNamed(renderSnapshot(world(guarded, []), settings), 'jwks_payments')).toEqual({
      '@type': 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
      name: 'jwks_payments',
      type: 'LOGICAL_DNS',
      dns_lookup_family: 'V4_PREFERRED',
      connect_timeout: '2s',
      load_assignment: {
        cluster_name: 'jwks_payments',
        endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 'keys.example.com', port_value: 8443 } } } }] }],
      },
      transport_socket: {
        name: 'envoy.transport_sockets.tls',
        typed_config: {
          '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
          sni: 'keys.example.com',
          common_tls_context: {
            validation_context: {
              trusted_ca: { filename: '/etc/ssl/certs/ca-certificates.crt' },
              match_typed_subject_alt_names: [{ san_type: 'DNS', matcher: { exact: 'keys.example.com' } }],
            },
          },
        },
      },
    });
  });

  it('uses port 443 and the default key cache when the spec says nothing', () => {
    const resources = renderSnapshot(world(spec({ name: 'payments', inbound: { jwt } }), []), settings);
    expect(JSON.stringify(clusterNamed(resources, 'jwks_payments'))).toContain('"port_value":443');
    expect(JSON.stringify(listenerNamed(resources, 'inbound'))).toContain('"cache_duration":"300s"');
  });

  it('renders no JWT check and no JWKS cluster when none is declared', () => {
    const resources = renderSnapshot(world(payments, []), settings);
    expect((resources.clusters ?? []).map((c) => c.name)).toEqual(['local_app']);
    expect(httpFiltersOf(listenerNamed(resources, 'inbound')).map((f) => f.name)).not.toContain('envoy.filters.http.jwt_authn');
  });
});

describe('secretNamesOf', () => {
  it('lists the service’s own certificate and the trust bundle: what its nodes ask SDS for', () => {
    expect(secretNamesOf(renderSnapshot(world(orders, [payments, ledger], ['web']), settings))).toEqual([
      'mesh_trust_bundle',
      'service_certificate_orders',
    ]);
  });

  it('lists the caller’s certificate for a service with mTLS off that calls an mTLS dependency', () => {
    const open = spec({ name: 'orders', mtls: { enabled: false }, dependencies: [{ service: 'ledger', localPort: 7002 }] });
    expect(secretNamesOf(renderSnapshot(world(open, [ledger]), settings))).toEqual(['mesh_trust_bundle', 'service_certificate_orders']);
  });

  it('lists nothing when no side uses mTLS', () => {
    const open = spec({ name: 'orders', mtls: { enabled: false }, dependencies: [{ service: 'ledger', localPort: 7002 }] });
    const plainLedger = spec({ name: 'ledger', protocol: 'tcp', mtls: { enabled: false } });
    expect(secretNamesOf(renderSnapshot(world(open, [plainLedger]), settings))).toEqual([]);
  });
});

describe('checkSnapshotConsistency with security', () => {
  const guarded = spec({
    name: 'payments',
    inbound: { jwt: { issuer: 'https://auth.example.com/', audiences: ['a'], jwksUri: 'https://auth.example.com/jwks' } },
  });

  it('accepts what renderSnapshot renders, secrets included', () => {
    expect(checkSnapshotConsistency(renderSnapshot(world(guarded, [], ['orders']), settings), 'payments')).toEqual([]);
  });

  it('finds a JWT check whose JWKS cluster is not in CDS', () => {
    const resources = renderSnapshot(world(guarded, []), settings);
    const clusters = (resources.clusters ?? []).filter((c) => c.name !== 'jwks_payments');
    expect(checkSnapshotConsistency({ ...resources, clusters }, 'payments')).toEqual([
      'listener "inbound" sends to cluster "jwks_payments", which is not in CDS',
    ]);
  });

  it('finds a secret the service’s nodes are not served', () => {
    const resources = renderSnapshot(world(guarded, []), settings);
    expect(checkSnapshotConsistency(resources, 'orders')).toEqual([
      'secret "service_certificate_payments" is referenced, but the nodes of "orders" are not served it',
    ]);
  });
});

describe('the external listener (inbound.external)', () => {
  const web = spec({ name: 'web', inboundPort: 15000, appPort: 8080, inbound: { external: { port: 8081 } } });

  it('admits a load balancer that nobody in the mesh calls: plaintext, no client certificate, no allow-list, same route as inbound', () => {
    const rendered = renderSnapshot(world(web, [], []), settings);
    const external = listenerNamed(rendered, 'external');
    expect(external.address).toEqual({ socket_address: { address: '0.0.0.0', port_value: 8081 } });
    expect(chainOf(external).transport_socket).toBeUndefined();
    expect(chainOf(external).filters.map((f) => f.name)).toEqual(['envoy.filters.network.http_connection_manager']);
    expect(httpFiltersOf(external).map((f) => f.name)).toEqual(['envoy.filters.http.router']);
    expect(chainOf(external).filters[0]!.typed_config).toMatchObject({ stat_prefix: 'external', rds: { route_config_name: 'inbound' } });
    // The mesh listener stays strict: with no callers, RBAC allows nobody.
    expect(rbacOf(listenerNamed(rendered, 'inbound'))).toMatchObject({ rules: { action: 'ALLOW', policies: {} } });
    expect(checkSnapshotConsistency(rendered, 'web')).toEqual([]);
  });

  it('keeps a JWT check on the external listener', () => {
    const jwt = { issuer: 'https://auth.example.com/', audiences: ['web'], jwksUri: 'https://auth.example.com/jwks.json' };
    const withJwt = spec({ name: 'web', inbound: { external: { port: 8081 }, jwt } });
    const external = listenerNamed(renderSnapshot(world(withJwt, [], []), settings), 'external');
    expect(httpFiltersOf(external).map((f) => f.name)).toEqual(['envoy.filters.http.jwt_authn', 'envoy.filters.http.router']);
  });

  it('renders no external listener unless asked', () => {
    expect(renderSnapshot(world(spec({ name: 'web' }), [], []), settings).listeners!.map((l) => l.name)).toEqual(['inbound']);
  });
});
