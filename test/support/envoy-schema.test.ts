import {
  assertConformant,
  decodeAny,
  decodeDiscoveryResponse,
  decodeStrict,
  EnvoyConformanceError,
  validateRules,
} from './envoy-schema';

const T = 'type.googleapis.com/';
const CLUSTER = `${T}envoy.config.cluster.v3.Cluster`;
const CLA = `${T}envoy.config.endpoint.v3.ClusterLoadAssignment`;
const LISTENER = `${T}envoy.config.listener.v3.Listener`;
const HCM = `${T}envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager`;
const ROUTER = `${T}envoy.extensions.filters.http.router.v3.Router`;
const BOOTSTRAP = `${T}envoy.config.bootstrap.v3.Bootstrap`;

const minimalCluster = {
  name: 'svc-a',
  type: 'EDS',
  connect_timeout: '0.25s',
  eds_cluster_config: { eds_config: { ads: {}, resource_api_version: 'V3' } },
};

const cla = {
  cluster_name: 'svc-a',
  endpoints: [
    { lb_endpoints: [{ endpoint: { address: { socket_address: { address: '10.0.0.1', port_value: 8080 } } } }] },
  ],
};

function listenerWithHcm(hcm: Record<string, unknown>): Record<string, unknown> {
  return {
    '@type': LISTENER,
    name: 'ingress',
    address: { socket_address: { address: '0.0.0.0', port_value: 15000 } },
    filter_chains: [
      { filters: [{ name: 'envoy.filters.network.http_connection_manager', typed_config: { '@type': HCM, ...hcm } }] },
    ],
  };
}

const hcm = {
  stat_prefix: 'ingress',
  route_config: {
    name: 'local',
    virtual_hosts: [{ name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'svc-a' } }] }],
  },
  http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': ROUTER } }],
};

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected an error');
}

describe('strict decoding', () => {
  it('decodes a minimal valid Cluster with no rule violations', () => {
    const cluster = decodeStrict(CLUSTER, minimalCluster);
    expect(cluster.$typeName).toBe('envoy.config.cluster.v3.Cluster');
    expect(validateRules(cluster)).toEqual([]);
  });

  it('accepts the lowerCamelCase JSON names too, like Envoy', () => {
    expect(validateRules(decodeStrict(CLUSTER, { name: 'a', connectTimeout: '1s' }))).toEqual([]);
  });

  it('rejects a misspelled field, naming the field and the type', () => {
    const msg = errorOf(() => decodeStrict(CLUSTER, { ...minimalCluster, conect_timeout: '1s' }));
    expect(msg).toContain('conect_timeout');
    expect(msg).toContain('envoy.config.cluster.v3.Cluster');
  });

  it('rejects an unknown enum name and a wrong JSON type', () => {
    expect(errorOf(() => decodeStrict(CLUSTER, { ...minimalCluster, type: 'EDSS' }))).toMatch(/DiscoveryType.*EDSS/);
    expect(errorOf(() => decodeStrict(CLUSTER, { ...minimalCluster, connect_timeout: 5 }))).toContain('Cluster');
  });

  it('rejects unknown fields inside a nested typed_config Any (HCM inside a Listener)', () => {
    expect(validateRules(decodeAny(listenerWithHcm(hcm) as { '@type': string }))).toEqual([]);
    const msg = errorOf(() => decodeAny(listenerWithHcm({ ...hcm, stat_prefx: 'x' }) as { '@type': string }));
    expect(msg).toContain('HttpConnectionManager');
    expect(msg).toContain('stat_prefx');
  });

  it('rejects an Any whose type is not in the schema', () => {
    expect(errorOf(() => decodeAny({ '@type': `${T}envoy.config.cluster.v3.Clustr`, name: 'x' }))).toContain('Clustr');
  });

  it('decodes a Bootstrap with admin and dynamic_resources', () => {
    const restSource = {
      resource_api_version: 'V3',
      api_config_source: {
        api_type: 'REST',
        transport_api_version: 'V3',
        cluster_names: ['xds'],
        refresh_delay: '10s',
        request_timeout: '5s',
      },
    };
    const bootstrap = {
      node: { id: 'task-1', cluster: 'svc-a' },
      admin: { address: { socket_address: { address: '127.0.0.1', port_value: 9901 } } },
      dynamic_resources: { cds_config: restSource, lds_config: restSource },
      static_resources: {
        clusters: [
          {
            name: 'xds',
            type: 'LOGICAL_DNS',
            connect_timeout: '2s',
            load_assignment: {
              cluster_name: 'xds',
              endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 'xds.example.com', port_value: 443 } } } }] }],
            },
            transport_socket: {
              name: 'envoy.transport_sockets.tls',
              typed_config: {
                '@type': `${T}envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext`,
                sni: 'xds.example.com',
              },
            },
          },
        ],
      },
    };
    expect(() => assertConformant(bootstrap, BOOTSTRAP)).not.toThrow();
  });
});

describe('validateRules (protoc-gen-validate)', () => {
  it('reports nothing for realistic resources with many typed_configs (no false positives)', () => {
    const tls = (kind: string, body: object): object => ({
      name: 'envoy.transport_sockets.tls',
      typed_config: { '@type': `${T}envoy.extensions.transport_sockets.tls.v3.${kind}`, ...body },
    });
    const listener = {
      '@type': LISTENER,
      name: 'ingress',
      address: { socket_address: { address: '0.0.0.0', port_value: 15000 } },
      filter_chains: [
        {
          transport_socket: tls('DownstreamTlsContext', {
            common_tls_context: { tls_certificates: [{ certificate_chain: { filename: '/c.pem' }, private_key: { filename: '/k.pem' } }] },
          }),
          filters: [
            {
              name: 'envoy.filters.network.rbac',
              typed_config: {
                '@type': `${T}envoy.extensions.filters.network.rbac.v3.RBAC`,
                stat_prefix: 'rbac',
                rules: { action: 'ALLOW', policies: { all: { permissions: [{ any: true }], principals: [{ any: true }] } } },
              },
            },
            {
              name: 'envoy.filters.network.http_connection_manager',
              typed_config: {
                '@type': HCM,
                stat_prefix: 'ingress',
                rds: { route_config_name: 'routes', config_source: { ads: {}, resource_api_version: 'V3' } },
                access_log: [{ name: 'stdout', typed_config: { '@type': `${T}envoy.extensions.access_loggers.stream.v3.StdoutAccessLog` } }],
                http_filters: [
                  {
                    name: 'envoy.filters.http.jwt_authn',
                    typed_config: {
                      '@type': `${T}envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication`,
                      providers: { idp: { issuer: 'https://idp', remote_jwks: { http_uri: { uri: 'https://idp/jwks', cluster: 'idp', timeout: '1s' } } } },
                      rules: [{ match: { prefix: '/' }, requires: { provider_name: 'idp' } }],
                    },
                  },
                  { name: 'envoy.filters.http.router', typed_config: { '@type': ROUTER } },
                ],
              },
            },
          ],
        },
        {
          filter_chain_match: { destination_port: 9000 },
          filters: [
            {
              name: 'envoy.filters.network.tcp_proxy',
              typed_config: { '@type': `${T}envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy`, stat_prefix: 'tcp', cluster: 'svc-a' },
            },
          ],
        },
      ],
    };
    const cluster = {
      '@type': CLUSTER,
      ...minimalCluster,
      typed_extension_protocol_options: {
        'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
          '@type': `${T}envoy.extensions.upstreams.http.v3.HttpProtocolOptions`,
          explicit_http_config: { http_protocol_options: {} },
          http_filters: [
            {
              name: 'envoy.filters.http.aws_request_signing',
              typed_config: { '@type': `${T}envoy.extensions.filters.http.aws_request_signing.v3.AwsRequestSigning`, service_name: 'lambda', region: 'us-east-1' },
            },
            { name: 'envoy.filters.http.upstream_codec', typed_config: { '@type': `${T}envoy.extensions.filters.http.upstream_codec.v3.UpstreamCodec` } },
          ],
        },
      },
      transport_socket: tls('UpstreamTlsContext', { sni: 'svc-a.internal' }),
      outlier_detection: { consecutive_5xx: 5, interval: '10s', base_ejection_time: '30s', max_ejection_percent: 50 },
    };
    expect(() => assertConformant(listener)).not.toThrow();
    expect(() => assertConformant(cluster)).not.toThrow();
  });

  const violations = (typeUrl: string, json: unknown): string[] => validateRules(decodeStrict(typeUrl, json));

  it('catches an empty Cluster name (string min_len)', () => {
    expect(violations(CLUSTER, { ...minimalCluster, name: '' })).toEqual(['Cluster.name: must not be empty']);
  });

  it('catches a zero duration where gt 0 is required', () => {
    expect(violations(CLUSTER, { ...minimalCluster, connect_timeout: '0s' })).toEqual(['Cluster.connect_timeout: must be > 0s']);
    expect(violations(CLUSTER, { ...minimalCluster, connect_timeout: '-1s' })).toEqual(['Cluster.connect_timeout: must be > 0s']);
  });

  it('catches max_ejection_percent > 100 in outlier detection (wrapped uint32 lte)', () => {
    expect(violations(CLUSTER, { ...minimalCluster, outlier_detection: { max_ejection_percent: 101 } })).toEqual([
      'Cluster.outlier_detection.max_ejection_percent: must be <= 100',
    ]);
    expect(violations(CLUSTER, { ...minimalCluster, outlier_detection: { max_ejection_percent: 100 } })).toEqual([]);
  });

  it('catches an undefined numeric enum value (enum defined_only)', () => {
    expect(violations(CLUSTER, { ...minimalCluster, type: 42 })).toEqual(['Cluster.type: 42 is not a defined enum value']);
  });

  it('catches a ClusterLoadAssignment missing cluster_name', () => {
    expect(violations(CLA, { endpoints: cla.endpoints })).toEqual(['ClusterLoadAssignment.cluster_name: must not be empty']);
  });

  it('catches a missing required oneof and a bad port inside Any contents', () => {
    const listener = listenerWithHcm({ ...hcm, route_config: undefined });
    expect(validateRules(decodeAny(listener as { '@type': string }))).toEqual([
      'Listener.filter_chains[0].filters[0].typed_config(HttpConnectionManager).route_specifier: exactly one of [rds, route_config, scoped_routes] is required',
    ]);
    expect(violations(CLA, { cluster_name: 'a', endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '10.0.0.1', port_value: 70000 } } } }] }] })).toEqual([
      'ClusterLoadAssignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.port_value: must be <= 65535',
    ]);
  });

  it('catches HTTP header name rules (well_known_regex, strict: false still forbids CR/LF/NUL)', () => {
    const route = {
      name: 'r',
      request_headers_to_add: [{ header: { key: 'x-bad\r\nname', value: 'v' } }, { header: { key: 'x-ok', value: 'v' } }],
    };
    expect(violations(`${T}envoy.config.route.v3.RouteConfiguration`, route)).toEqual([
      'RouteConfiguration.request_headers_to_add[0].header.key: must be a valid HTTP header name',
    ]);
  });
});

describe('DiscoveryResponse', () => {
  it('passes a response carrying a valid ClusterLoadAssignment', () => {
    const response = { version_info: '1', type_url: CLA, resources: [{ '@type': CLA, ...cla }] };
    const decoded = assertConformant(response);
    expect(decoded.$typeName).toBe('envoy.service.discovery.v3.DiscoveryResponse');
  });

  it('fails on a resource-level rule violation with the path', () => {
    const response = { version_info: '1', type_url: CLA, resources: [{ '@type': CLA, ...cla, cluster_name: '' }] };
    let error: unknown;
    try {
      assertConformant(response);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(EnvoyConformanceError);
    expect((error as EnvoyConformanceError).violations).toEqual([
      'DiscoveryResponse.resources[0](ClusterLoadAssignment).cluster_name: must not be empty',
    ]);
  });

  it('fails when a resource type does not match type_url, or a resource has an unknown field', () => {
    expect(errorOf(() => decodeDiscoveryResponse({ version_info: '1', type_url: CLUSTER, resources: [{ '@type': CLA, ...cla }] }))).toContain(
      'resources[0]',
    );
    expect(errorOf(() => decodeDiscoveryResponse({ version_info: '1', type_url: CLA, resources: [{ '@type': CLA, ...cla, endpionts: [] }] }))).toContain(
      'endpionts',
    );
  });
});
