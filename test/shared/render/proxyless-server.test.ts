import { proxylessServerListener, proxylessServerRoute } from '../../../shared/render/proxyless-server';
import { renderProxylessSnapshot } from '../../../shared/render/proxyless';
import { checkSnapshotConsistency } from '../../../shared/render/snapshot';
import { contentVersion } from '../../../shared/envoy/version';
import { assertConformant } from '../../support/envoy-schema';
import { settings, spec, world } from './fixtures';

const mtlsOn = { ...settings, proxylessMtls: true };
const payments = spec({ name: 'payments', protocol: 'grpc', inboundPort: 15000 });
const rbacType = 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC';
const perRoute = (exact: string[]) => ({
  '@type': 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBACPerRoute',
  rbac: {
    rules: {
      action: 'ALLOW',
      policies: { allowed_callers: { permissions: [{ any: true }], principals: exact.map((e) => ({ authenticated: { principal_name: { exact: e } } })) } },
    },
  },
});
const router = { name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } };
const hcm = (httpFilters: unknown[]) => ({
  name: 'envoy.filters.network.http_connection_manager',
  typed_config: {
    '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
    stat_prefix: 'inbound',
    rds: { config_source: { ads: {}, resource_api_version: 'V3' }, route_config_name: 'inbound' },
    http_filters: httpFilters,
  },
});

describe('the server forms of a proxyless gRPC service', () => {
  it('with mTLS: the listener gRPC asks for by its address, mTLS by certificate provider, and an RBAC filter that denies everything', () => {
    expect(proxylessServerListener(payments, mtlsOn)).toEqual({
      '@type': 'type.googleapis.com/envoy.config.listener.v3.Listener',
      name: 'grpc/server?xds.resource.listening_address=0.0.0.0:15000',
      address: { socket_address: { address: '0.0.0.0', port_value: 15000 } },
      filter_chains: [
        {
          name: 'inbound',
          filters: [hcm([{ name: 'envoy.filters.http.rbac', typed_config: { '@type': rbacType, rules: { action: 'ALLOW', policies: {} } } }, router])],
          transport_socket: {
            name: 'envoy.transport_sockets.tls',
            typed_config: {
              '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
              require_client_certificate: true,
              common_tls_context: {
                tls_certificate_provider_instance: { instance_name: 'mesh_certificates' },
                validation_context: { ca_certificate_provider_instance: { instance_name: 'mesh_certificates' } },
              },
            },
          },
        },
      ],
    });
  });

  it('with mTLS: the route serves every call under the allow-list, keyed by filter name and by type URL', () => {
    const allowed = perRoute(['spiffe://mesh.local/service/orders']);
    expect(proxylessServerRoute(payments, ['orders'], mtlsOn)).toEqual({
      '@type': 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
      name: 'inbound',
      virtual_hosts: [
        {
          name: 'inbound',
          domains: ['*'],
          routes: [{ match: { prefix: '' }, non_forwarding_action: {}, typed_per_filter_config: { 'envoy.filters.http.rbac': allowed, [rbacType]: allowed } }],
        },
      ],
    });
  });

  it('a caller added or removed changes the route configuration and never the listener', () => {
    const declared = (allowedCallers: string[]) => spec({ name: 'payments', protocol: 'grpc', inboundPort: 15000, inbound: { allowedCallers } });
    const before = renderProxylessSnapshot(world(declared(['orders', 'billing']), []), mtlsOn);
    const after = renderProxylessSnapshot(world(declared(['billing']), []), mtlsOn);
    expect(contentVersion(after.listeners)).toBe(contentVersion(before.listeners));
    expect(after.listeners).toEqual(before.listeners);
    expect(contentVersion(after.routes)).not.toBe(contentVersion(before.routes));
    expect(JSON.stringify(before.routes)).toContain('spiffe://mesh.local/service/orders');
    expect(JSON.stringify(after.routes)).not.toContain('spiffe://mesh.local/service/orders');
  });

  it.each([
    ['proxyless mTLS is off in the mesh', payments, settings],
    ['the service has mTLS off', spec({ name: 'payments', protocol: 'grpc', inboundPort: 15000, mtls: { mode: 'off' } }), mtlsOn],
    ['the service is permissive (gRPC cannot sniff TLS on one port)', spec({ name: 'payments', protocol: 'grpc', inboundPort: 15000, mtls: { mode: 'permissive' } }), mtlsOn],
  ])('plaintext and no allow-list when %s', (_case, service, s) => {
    expect(proxylessServerListener(service, s).filter_chains).toEqual([{ name: 'inbound', filters: [hcm([router])] }]);
    expect(JSON.stringify(proxylessServerRoute(service, ['orders'], s))).not.toContain('typed_per_filter_config');
  });

  it('a client reaches a strict dependency over mTLS checking its SPIFFE ID, a permissive one in plaintext, and none without proxyless mTLS', () => {
    const orders = spec({
      name: 'orders',
      protocol: 'http',
      dependencies: [
        { service: 'payments', localPort: 9001 },
        { service: 'ledger', localPort: 9002 },
      ],
    });
    const ledger = spec({ name: 'ledger', protocol: 'grpc', mtls: { mode: 'permissive' } });
    const snapshot = renderProxylessSnapshot(world(orders, [payments, ledger]), mtlsOn);
    const tls = Object.fromEntries((snapshot.clusters ?? []).map((c) => [c.name, c.transport_socket]));
    expect(tls).toEqual({
      ledger: undefined,
      payments: {
        name: 'envoy.transport_sockets.tls',
        typed_config: {
          '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
          common_tls_context: {
            tls_certificate_provider_instance: { instance_name: 'mesh_certificates' },
            validation_context: {
              ca_certificate_provider_instance: { instance_name: 'mesh_certificates' },
              match_subject_alt_names: [{ exact: 'spiffe://mesh.local/service/payments' }],
            },
          },
        },
      },
    });
    // An HTTP service is no gRPC server: it gets client forms only.
    expect(snapshot.routes).toEqual([]);
    expect(JSON.stringify(renderProxylessSnapshot(world(orders, [payments, ledger]), settings))).not.toContain('transport_socket');
    for (const r of [...(snapshot.listeners ?? []), ...(snapshot.clusters ?? [])]) expect(() => assertConformant(r)).not.toThrow();
  });

  it('a gRPC service that checks a JWT gets no server listener: gRPC has no JWT filter, so its servers stay closed', () => {
    const guarded = spec({ name: 'payments', protocol: 'grpc', inboundPort: 15000, inbound: { jwt: { issuer: 'https://auth.example.com', jwksUri: 'https://auth.example.com/jwks.json', audiences: ['payments'] } } });
    expect(renderProxylessSnapshot(world(guarded, []), mtlsOn)).toEqual({ listeners: [], routes: [], clusters: [] });
  });

  it('a gRPC service that calls and serves gets both forms in one consistent, conformant snapshot', () => {
    const orders = spec({ name: 'orders', protocol: 'grpc', inboundPort: 15001, dependencies: [{ service: 'payments', localPort: 9001 }] });
    const snapshot = renderProxylessSnapshot(world(orders, [payments], ['web']), mtlsOn);
    expect((snapshot.listeners ?? []).map((l) => l.name)).toEqual(['grpc/server?xds.resource.listening_address=0.0.0.0:15001', 'payments']);
    expect(checkSnapshotConsistency(snapshot, 'orders')).toEqual([]);
    for (const r of [...(snapshot.listeners ?? []), ...(snapshot.routes ?? []), ...(snapshot.clusters ?? [])]) expect(() => assertConformant(r)).not.toThrow();
  });
});
