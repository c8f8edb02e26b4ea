import { EnvoyResource, SnapshotResources } from '../../../shared/envoy/resources';
import { renderSnapshot } from '../../../shared/render/snapshot';
import { assertConformant } from '../../support/envoy-schema';
import { settings, spec, world } from './fixtures';

type Chain = {
  name?: string;
  filter_chain_match?: { transport_protocol: string };
  filters: { name: string; typed_config: { stat_prefix?: string; http_filters?: { name: string }[] } }[];
  transport_socket?: unknown;
};
const listenerNamed = (r: SnapshotResources, name: string) => (r.listeners ?? []).find((l) => l.name === name)!;
const chainsOf = (l: EnvoyResource) => l.filter_chains as Chain[];
const clusterNamed = (r: SnapshotResources, name: string) => (r.clusters ?? []).find((c) => c.name === name)!;

describe('permissive mTLS', () => {
  const permissive = spec({ name: 'payments', mtls: { mode: 'permissive' } });

  it('picks the mTLS chain or the plaintext chain by transport protocol, after a TLS inspector', () => {
    const inbound = listenerNamed(renderSnapshot(world(permissive, [], ['orders']), settings), 'inbound');
    expect(inbound.listener_filters).toEqual([
      {
        name: 'envoy.filters.listener.tls_inspector',
        typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector' },
      },
    ]);
    const [mtls, plaintext] = chainsOf(inbound);
    expect(mtls!.filter_chain_match).toEqual({ transport_protocol: 'tls' });
    expect(plaintext!.filter_chain_match).toEqual({ transport_protocol: 'raw_buffer' });
    expect(mtls!.transport_socket).toMatchObject({ typed_config: { require_client_certificate: true } });
    expect(plaintext).not.toHaveProperty('transport_socket');
  });

  it('enforces the allow-list on the mTLS chain only: a plaintext caller has no identity to match', () => {
    const [mtls, plaintext] = chainsOf(listenerNamed(renderSnapshot(world(permissive, [], ['orders']), settings), 'inbound'));
    expect(mtls!.filters.at(-1)!.typed_config.http_filters!.map((f) => f.name)).toEqual(['envoy.filters.http.rbac', 'envoy.filters.http.router']);
    expect(plaintext!.filters.at(-1)!.typed_config.http_filters!.map((f) => f.name)).toEqual(['envoy.filters.http.router']);
  });

  it('counts plaintext traffic under its own stat prefix, so stats show who still comes in plaintext', () => {
    const [mtls, plaintext] = chainsOf(listenerNamed(renderSnapshot(world(permissive, [], ['orders']), settings), 'inbound'));
    expect([mtls!.filters.at(-1)!.typed_config.stat_prefix, plaintext!.filters.at(-1)!.typed_config.stat_prefix]).toEqual(['inbound', 'inbound_plaintext']);
  });

  it('keeps network RBAC on the mTLS chain of a TCP service and leaves the plaintext chain open', () => {
    const ledger = spec({ name: 'ledger', protocol: 'tcp', mtls: { mode: 'permissive' } });
    const [mtls, plaintext] = chainsOf(listenerNamed(renderSnapshot(world(ledger, [], ['orders']), settings), 'inbound'));
    expect(mtls!.filters.map((f) => f.name)).toEqual(['envoy.filters.network.rbac', 'envoy.filters.network.tcp_proxy']);
    expect(plaintext!.filters.map((f) => f.name)).toEqual(['envoy.filters.network.tcp_proxy']);
  });

  it('keeps a JWT check on both chains', () => {
    const jwt = { issuer: 'https://auth.example.com/', audiences: ['a'], jwksUri: 'https://auth.example.com/jwks' };
    const guarded = spec({ name: 'payments', mtls: { mode: 'permissive' }, inbound: { jwt } });
    const chains = chainsOf(listenerNamed(renderSnapshot(world(guarded, [], ['orders']), settings), 'inbound'));
    expect(chains.map((c) => c.filters.at(-1)!.typed_config.http_filters!.map((f) => f.name))).toEqual([
      ['envoy.filters.http.jwt_authn', 'envoy.filters.http.rbac', 'envoy.filters.http.router'],
      ['envoy.filters.http.jwt_authn', 'envoy.filters.http.router'],
    ]);
  });

  it.each<[string, { mode?: 'strict'; enabled?: boolean } | undefined]>([
    ['strict', { mode: 'strict' }],
    ['enabled: true', { enabled: true }],
    ['no mtls field', undefined],
  ])('renders one strict chain for %s', (_, mtls) => {
    const strict = spec({ name: 'payments', ...(mtls ? { mtls } : {}) });
    const inbound = listenerNamed(renderSnapshot(world(strict, [], ['orders']), settings), 'inbound');
    expect(chainsOf(inbound)).toHaveLength(1);
    expect(inbound).not.toHaveProperty('listener_filters');
  });

  it.each<[string, { mtls?: { mode: 'off' | 'permissive' } }, boolean]>([
    ['a caller with mTLS on originates mTLS', {}, true],
    ['a caller with mTLS off stays plaintext', { mtls: { mode: 'off' } }, false],
    ['a permissive caller originates mTLS', { mtls: { mode: 'permissive' } }, true],
  ])('towards a permissive service, %s', (_, callerOptions, tls) => {
    const orders = spec({ name: 'orders', dependencies: [{ service: 'payments', localPort: 7001 }], ...callerOptions });
    const cluster = clusterNamed(renderSnapshot(world(orders, [permissive]), settings), 'payments');
    expect(cluster.transport_socket !== undefined).toBe(tls);
  });

  it.each(['http', 'grpc', 'tcp'] as const)('the permissive listener of a %s service conforms to Envoy v3', (protocol) => {
    const service = spec({ name: 'payments', protocol, mtls: { mode: 'permissive' }, inbound: { external: { port: 8443 } } });
    for (const r of Object.values(renderSnapshot(world(service, [], ['orders']), settings)).flat()) expect(() => assertConformant(r)).not.toThrow();
  });
});
