import { Protocol, ServiceSpec } from '../../../shared/model/spec';
import { localServiceCluster } from '../../../shared/render/cluster';
import { clusterLoadAssignment } from '../../../shared/render/endpoint';
import { checkSnapshotConsistency, renderSnapshot } from '../../../shared/render/snapshot';
import { proxylessLoadAssignment, renderProxylessSnapshot } from '../../../shared/render/proxyless';
import { EnvoyResource } from '../../../shared/envoy/resources';
import { typeUrls } from '../../../shared/envoy/resources';
import { assertConformant } from '../../support/envoy-schema';
import { endpoint, fullPolicy, protocols, settings, spec, world } from './fixtures';

/**
 * Conformance: a matrix of specs that together use every spec option is rendered, and every
 * resource decodes strictly against Envoy's v3 protos (unknown fields, wrong types, bad enums
 * all fail) and passes the protoc-gen-validate rules Envoy enforces on ingest.
 */

const dependencySpecs: ServiceSpec[] = protocols.map((protocol, i) =>
  spec({ name: `dep-${protocol}`, protocol, inboundPort: 15000 + i, appPort: 9000 + i }),
);

interface Case {
  readonly name: string;
  readonly caller: ServiceSpec;
  readonly deps: readonly ServiceSpec[];
  /** The services that call this one: its default allow-list. */
  readonly callers?: readonly string[];
}

/** Dependencies of every protocol with mTLS off: their clusters are plaintext. */
const plaintextDependencySpecs: ServiceSpec[] = protocols.map((protocol, i) =>
  spec({ name: `dep-${protocol}`, protocol, inboundPort: 15000 + i, appPort: 9000 + i, mtls: { enabled: false } }),
);

const jwt = {
  issuer: 'https://auth.example.com/',
  audiences: ['orders-api', 'orders-admin'],
  jwksUri: 'https://auth.example.com:8443/.well-known/jwks.json',
  allowPrivateJwksUri: true, // a port other than 443 renders too
};

/** Inbound security variants, each rendered on every protocol that accepts it. */
const securityVariants: [string, Record<string, unknown>, readonly string[], readonly Protocol[]][] = [
  ['callers by default', {}, ['batch', 'web'], protocols],
  ['nobody calling (deny all)', {}, [], protocols],
  ['an explicit allow-list', { inbound: { allowedCallers: ['web', 'batch', 'ops'] } }, ['web'], protocols],
  ['any mesh caller', { inbound: { allowedCallers: ['*'] } }, ['web'], protocols],
  ['mTLS off', { mtls: { enabled: false } }, ['web'], protocols],
  ['permissive mTLS (mTLS and plaintext chains)', { mtls: { mode: 'permissive' } }, ['web'], protocols],
  ['permissive mTLS, a JWT check and an external listener', { mtls: { mode: 'permissive' }, inbound: { jwt, external: { port: 8443 } } }, ['web'], ['http', 'http2', 'grpc']],
  ['mTLS mode off', { mtls: { mode: 'off' } }, ['web'], protocols],
  ['mTLS off, any caller', { mtls: { enabled: false }, inbound: { allowedCallers: ['*'] } }, [], protocols],
  [
    'a JWT check with every option',
    { inbound: { jwt: { ...jwt, forwardPayloadHeader: 'x-jwt-payload', cacheDurationSeconds: 900 } } },
    ['web'],
    ['http', 'http2', 'grpc'],
  ],
  ['a JWT check with defaults and an explicit allow-list', { inbound: { jwt, allowedCallers: ['web'] } }, [], ['http', 'http2', 'grpc']],
  ['a JWT check without mTLS', { mtls: { enabled: false }, inbound: { jwt } }, [], ['http', 'http2', 'grpc']],
  ['nobody calling, behind a load balancer (external listener)', { inbound: { external: { port: 8443 } } }, [], protocols],
  ['an external listener and a JWT check', { inbound: { jwt, external: { port: 8443 } } }, ['web'], ['http', 'http2', 'grpc']],
];

function callerWithEveryPolicy(protocol: Protocol, serviceOptions: Record<string, unknown>): ServiceSpec {
  return spec({
    name: `caller-${protocol}`,
    protocol,
    dependencies: dependencySpecs.map((d, i) => fullPolicy(d.name, d.protocol, 7000 + i)),
    ...serviceOptions,
  });
}

const serviceVariants: [string, Record<string, unknown>][] = [
  ['service defaults', {}],
  [
    'every service option set',
    {
      accessLog: { enabled: true },
      statsPrefix: 'orders_in',
      requestId: { generate: true, preserveExternal: true },
      inbound: { timeoutMs: 30_000, idleTimeoutMs: 120_000 },
    },
  ],
  ['access log and request ids off', { accessLog: { enabled: false }, requestId: { generate: false } }],
  [
    'X-Ray tracing and metrics with every option',
    {
      observability: {
        tracing: { provider: 'xray', samplingPercent: 12.5, collectorPort: 2001 },
        metrics: { enabled: true, statsdPort: 8126, extraStatPrefixes: ['cluster.dep-http.upstream_rq_503'] },
      },
    },
  ],
  ['OpenTelemetry tracing with defaults', { observability: { tracing: { provider: 'opentelemetry' } } }],
];

const cases: Case[] = [
  ...protocols.flatMap((protocol) =>
    serviceVariants.map(([variant, options]) => ({
      name: `a ${protocol} service calling every protocol with every policy, ${variant}`,
      caller: callerWithEveryPolicy(protocol, options),
      deps: dependencySpecs,
      callers: ['web'],
    })),
  ),
  ...securityVariants.flatMap(([variant, options, callers, onProtocols]) =>
    onProtocols.map((protocol) => ({
      name: `a ${protocol} service with ${variant}, calling every protocol over mTLS`,
      caller: callerWithEveryPolicy(protocol, options),
      deps: dependencySpecs,
      callers,
    })),
  ),
  ...protocols.map((protocol) => ({
    name: `a ${protocol} service calling every protocol without mTLS`,
    caller: callerWithEveryPolicy(protocol, {}),
    deps: plaintextDependencySpecs,
    callers: ['web'],
  })),
  ...protocols.map((protocol) => ({
    name: `a minimal ${protocol} service calling every protocol with defaults`,
    caller: spec({
      name: `plain-${protocol}`,
      protocol,
      dependencies: dependencySpecs.map((d, i) => ({ service: d.name, localPort: 7000 + i })),
    }),
    deps: dependencySpecs,
  })),
  {
    name: 'a service with timeouts, retries and outlier detection switched off',
    caller: spec({
      name: 'switched-off',
      dependencies: [
        {
          service: 'dep-http',
          localPort: 7000,
          timeoutMs: 0,
          idleTimeoutMs: 0,
          retries: { numRetries: 0 },
          outlierDetection: { enabled: false },
          zoneAware: { enabled: false },
          split: { subsets: [{ labels: { revision: '1' }, weight: 100 }, { labels: { revision: '2' }, weight: 0 }] },
        },
        { service: 'dep-tcp', localPort: 7001, idleTimeoutMs: 0, split: { total: 3, subsets: [{ labels: { revision: '1' }, weight: 3 }, { labels: { revision: '2' }, weight: 0 }] } },
      ],
    }),
    deps: dependencySpecs,
  },
  ...(
    [
      ['a header', { header: 'x-session' }],
      ['a cookie', { cookie: { name: 'sid', ttlSeconds: 3600, path: '/' } }],
      ['the source address', { sourceIp: true }],
    ] as const
  ).map(([what, affinity]) => ({
    name: `a service with affinity on ${what} to every protocol that can hash it, with a split`,
    caller: spec({
      name: 'sticky',
      dependencies: dependencySpecs
        .filter((d) => d.protocol !== 'tcp' || 'sourceIp' in affinity)
        .map((d, i) => ({
          service: d.name,
          localPort: 7000 + i,
          affinity,
          split: { subsets: [{ labels: { revision: '12' }, weight: 90 }, { labels: { revision: '13' }, weight: 10 }] },
        })),
    }),
    deps: dependencySpecs,
  })),
  {
    name: 'a service whose dependency is mid-rollout (the split the controller wrote beside the rollout)',
    caller: spec({
      name: 'rolling',
      dependencies: dependencySpecs.map((d, i) => ({
        service: d.name,
        localPort: 7000 + i,
        rollout: { from: { revision: '12' }, to: { revision: '13' }, steps: [10, 50, 100], intervalSeconds: 300, maxErrorRatePercent: 1, maxP99LatencyMs: 250 },
        split: { subsets: [{ labels: { revision: '12' }, weight: 50 }, { labels: { revision: '13' }, weight: 50 }] },
      })),
    }),
    deps: dependencySpecs,
  },
  // Transparent mode: the egress listener (original_dst, filter chains by destination port, the
  // loop guard, the passthrough default) and its route configuration (virtual hosts by name).
  ...protocols.map((protocol) => ({
    name: `a transparent ${protocol} service calling every protocol by name, every interception option set`,
    caller: callerWithEveryPolicy(protocol, {
      interception: {
        mode: 'transparent',
        egressPort: 15101,
        egressIgnoredIps: ['10.0.0.0/8', '192.0.2.7'],
        egressIgnoredPorts: [22, 5439],
        unknownDestinations: 'passthrough',
        hostnames: ['caller.prod.local'],
      },
    }),
    deps: protocols.map((p, i) =>
      spec({
        name: `dep-${p}`,
        protocol: p,
        inboundPort: 15000 + i,
        appPort: 9000 + i,
        ...(p === 'tcp' ? { interception: { port: 5432 } } : { interception: { hostnames: [`dep-${p}.prod.local`] } }),
      }),
    ),
    callers: ['web'],
  })),
  ...protocols.map((protocol) => ({
    name: `a transparent ${protocol} service that denies unknown destinations, calling every protocol with defaults`,
    caller: spec({
      name: `deny-${protocol}`,
      protocol,
      interception: { mode: 'transparent', unknownDestinations: 'deny' },
      dependencies: dependencySpecs.map((d, i) => ({ service: d.name, localPort: 7000 + i })),
    }),
    deps: dependencySpecs,
  })),
  {
    name: 'a transparent service calling only a TCP dependency, passing the rest through',
    caller: spec({ name: 'tcp-only', interception: { mode: 'transparent' }, dependencies: [{ service: 'dep-tcp', localPort: 7000 }] }),
    deps: dependencySpecs,
  },
];

/** Mirror targets, one per HTTP protocol: a mirror must speak its dependency's protocol and be a dependency too. */
const mirrorSpecs: ServiceSpec[] = (['http', 'http2', 'grpc'] as const).map((protocol, i) =>
  spec({ name: `mirror-${protocol}`, protocol, inboundPort: 15100 + i, appPort: 9100 + i }),
);

/** trafficFeatures are every routes[], faults and mirror option, in the form a dependency of `protocol` accepts. */
function trafficFeatures(protocol: Protocol): Record<string, unknown> {
  if (protocol === 'tcp') return {};
  return {
    routes: [
      {
        match: {
          pathPrefix: '/api/',
          method: 'GET',
          headers: [
            { name: 'x-tier', exact: 'gold' },
            { name: 'x-beta', present: true },
            { name: 'x-user', regex: 'u-[0-9]+', invert: true },
            { name: 'x-region', prefix: 'eu-' },
          ],
          queryParams: [
            { name: 'debug', exact: '1' },
            { name: 'trace', present: true },
            { name: 'q', regex: '[a-z]+' },
            { name: 'page', prefix: '1' },
          ],
        },
        subset: { revision: '13' },
        timeoutMs: 500,
        retries: { numRetries: 1, perTryTimeoutMs: 200 },
        rewritePrefix: '/v2/',
        rateLimit: { requestsPerSecond: 10, burst: 20 },
      },
      {
        match: { exactPath: '/healthz' },
        split: { subsets: [{ labels: { revision: '12' }, weight: 50 }, { labels: { revision: '14', track: 'b' }, weight: 50 }] },
        rewritePrefix: '/health',
      },
      { match: { regex: '/orders/[0-9]+/items(/.*)?' }, timeoutMs: 0 },
      { match: { method: 'POST' }, rateLimit: { requestsPerSecond: 5 } },
    ],
    faults: {
      delay: { percent: 12.5, fixedDelayMs: 100 },
      abort: protocol === 'grpc' ? { percent: 0.0001, grpcStatus: 14 } : { percent: 0.0001, httpStatus: 503 },
    },
    mirror: { service: `mirror-${protocol}`, percent: 10 },
  };
}

/** A caller of every protocol with every traffic feature on its HTTP dependencies, and an inbound rate limit. */
const trafficCases: Case[] = (['http', 'http2', 'grpc'] as const).map((protocol) => ({
  name: `a ${protocol} service with an inbound rate limit, calling every protocol with routes, faults and mirroring`,
  caller: spec({
    name: `traffic-${protocol}`,
    protocol,
    rateLimit: { requestsPerSecond: 100, burst: 150 },
    dependencies: [
      ...dependencySpecs.map((d, i) => ({ ...fullPolicy(d.name, d.protocol, 7000 + i), ...trafficFeatures(d.protocol) })),
      ...mirrorSpecs.map((m, i) => ({ service: m.name, localPort: 7100 + i })),
    ],
  }),
  deps: [...dependencySpecs, ...mirrorSpecs],
  callers: ['web'],
}));
cases.push(...trafficCases);
/** The same traffic features on dependencies called by name: one connection manager per port, faults per virtual host. */
const transparentTrafficCases: Case[] = trafficCases.map((c) => ({
  ...c,
  name: `${c.name.replace(/^a /, 'a transparent ')}, by name`,
  caller: { ...c.caller, interception: { mode: 'transparent' } },
}));
cases.push(...transparentTrafficCases);

/** The mesh's edges (spec-edges.ts): external services of every protocol, with and without TLS, one host and several; gateways. */
const externalSpecs: ServiceSpec[] = protocols.flatMap((protocol, i) => [
  spec({ name: `ext-${protocol}`, kind: 'external', hosts: ['api.example.com'], port: 443, tls: true, protocol, inboundPort: 443, appPort: 443 }),
  spec({ name: `ext-${protocol}-many`, kind: 'external', hosts: ['a.example.net', 'b.example.net'], port: 8000 + i, tls: protocol === 'grpc', protocol, inboundPort: 8000 + i, appPort: 8000 + i }),
]);
const secretArn = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:edge-tls-AbCdEf';
cases.push(
  ...protocols.map((protocol) => ({
    name: `a ${protocol} service calling external services of every protocol with every policy that applies`,
    caller: spec({
      name: `egress-${protocol}`,
      protocol,
      dependencies: externalSpecs.map((d, i) => {
        const { split: _split, headerRoutes: _headerRoutes, zoneAware: _zoneAware, healthCheck: _healthCheck, ...rest } = fullPolicy(d.name, d.protocol, 7000 + i);
        return rest;
      }),
    }),
    deps: externalSpecs,
  })),
  {
    name: 'a gateway with TLS and plaintext listeners of every protocol, routing by host and path to services of every HTTP protocol',
    caller: spec({
      name: 'edge',
      kind: 'gateway',
      listeners: [
        { port: 443, protocol: 'http', tls: { certificateSecretArn: secretArn } },
        { port: 80, protocol: 'http' },
        { port: 8443, protocol: 'http2', tls: { certificateSecretArn: secretArn } },
        { port: 9443, protocol: 'grpc', tls: { certificateSecretArn: secretArn } },
        { port: 9090, protocol: 'grpc' },
      ],
      routes: [
        { pathPrefix: '/http/', rewritePrefix: '/', hostnames: ['api.example.com', '*.api.example.com'], service: 'dep-http' },
        { exactPath: '/h2', hostnames: ['api.example.com', '*.api.example.com'], service: 'dep-http2' },
        { pathPrefix: '/pkg.Service/', service: 'dep-grpc' },
      ],
    }),
    deps: dependencySpecs,
  },
  {
    name: 'a gateway without mTLS towards permissive services',
    caller: spec({ name: 'edge-plain', kind: 'gateway', mtls: { mode: 'off' }, listeners: [{ port: 80, protocol: 'http' }], routes: [{ pathPrefix: '/', service: 'dep-http' }] }),
    deps: [spec({ name: 'dep-http', mtls: { mode: 'permissive' } })],
  },
);

function everyResource(resources: ReturnType<typeof renderSnapshot>): EnvoyResource[] {
  return [...(resources.listeners ?? []), ...(resources.routes ?? []), ...(resources.clusters ?? [])];
}

describe('rendered resources conform to Envoy v3', () => {
  it.each(cases)('$name', ({ caller, deps, callers }) => {
    const resources = renderSnapshot(world(caller, deps, callers), settings);
    const all = everyResource(resources);
    expect(all.length).toBeGreaterThan(Math.max(caller.dependencies.length * 2, (caller.routes ?? []).length));
    for (const resource of all) {
      expect(() => assertConformant(resource)).not.toThrow();
    }
    expect(checkSnapshotConsistency(resources, caller.name)).toEqual([]);
  });

  // routeDelivery 'inline': the same worlds with each route configuration inside its listener.
  it.each(cases)('routes inline: $name', ({ caller, deps, callers }) => {
    const resources = renderSnapshot(world(caller, deps, callers), { ...settings, routeDelivery: 'inline' });
    expect(resources.routes).toEqual([]);
    for (const resource of everyResource(resources)) {
      expect(() => assertConformant(resource)).not.toThrow();
    }
    expect(checkSnapshotConsistency(resources, caller.name)).toEqual([]);
  });

  // The forms a proxyless gRPC node is served of the same worlds: API listeners with inline
  // routes (header routes, weighted subset clusters), EDS clusters over ADS, one per subset, and
  // a gRPC service's server listener and its route configuration (proxyless-server.ts); with
  // proxyless mTLS, TLS contexts naming certificate providers and the allow-list per route.
  it.each(cases.flatMap((c) => [false, true].map((proxylessMtls) => ({ ...c, proxylessMtls }))))('proxyless (mTLS $proxylessMtls): $name', ({ caller, deps, callers, proxylessMtls }) => {
    const resources = renderProxylessSnapshot(world(caller, deps, callers), { ...settings, proxylessMtls });
    const all = everyResource(resources);
    // gRPC clients get mesh dependencies that speak HTTP: not TCP ones, not external ones (reached by DNS).
    const grpcDeps = caller.dependencies.filter((d) => {
      const target = deps.find((s) => s.name === d.service);
      return target?.protocol !== 'tcp' && target?.kind !== 'external';
    });
    const server = caller.protocol === 'grpc' && (caller.kind ?? 'service') === 'service' && !caller.inbound?.jwt ? 1 : 0;
    expect(resources.listeners?.length).toBe(grpcDeps.length + server);
    expect(resources.routes?.length).toBe(server);
    for (const resource of all) {
      expect(() => assertConformant(resource)).not.toThrow();
    }
    expect(checkSnapshotConsistency(resources, caller.name)).toEqual([]);
  });

  it('the proxyless matrix renders weighted subset clusters, exact and present header matches, and a subset EDS resource that conforms', () => {
    const rendered = cases.map(({ caller, deps, callers }) => JSON.stringify(renderProxylessSnapshot(world(caller, deps, callers), settings)));
    const somewhere = (text: string) => rendered.some((r) => r.includes(text));
    expect({
      split: somewhere('"weighted_clusters":{"clusters":[{"name":"dep-grpc|revision=12","weight":90},{"name":"dep-grpc|revision=13","weight":10}]}'),
      exact: somewhere('"string_match":{"exact":"1"}'),
      present: somewhere('"present_match":true'),
      subsetCluster: somewhere('"service_name":"dep-http|revision=13,track=debug"'),
    }).toEqual({ split: true, exact: true, present: true, subsetCluster: true });
    const cla = clusterLoadAssignment('dep-http', [
      endpoint('dep-http', 'task-a', { zone: 'eu-west-1a', labels: { revision: '12', weight: '5' } }),
      endpoint('dep-http', 'task-b', { zone: 'eu-west-1b', labels: { revision: '13', track: 'debug' } }),
    ]);
    const subset = proxylessLoadAssignment(cla, 'dep-http|revision=13,track=debug');
    expect(subset.cluster_name).toBe('dep-http|revision=13,track=debug');
    expect(() => assertConformant(subset)).not.toThrow();
    const response = { version_info: 'v1', type_url: typeUrls.endpoints, resources: [subset, proxylessLoadAssignment(cla, 'dep-http|revision=12')] };
    expect(() => assertConformant(response)).not.toThrow();
  });

  it('the proxyless matrix with mTLS renders server listeners on certificate providers, the allow-list per route, and clusters that check the SPIFFE ID', () => {
    const rendered = cases.map(({ caller, deps, callers }) => JSON.stringify(renderProxylessSnapshot(world(caller, deps, callers), { ...settings, proxylessMtls: true })));
    const somewhere = (text: string) => rendered.some((r) => r.includes(text));
    expect({
      serverListener: somewhere('"name":"grpc/server?xds.resource.listening_address=0.0.0.0:'),
      downstreamTls: somewhere('"require_client_certificate":true,"common_tls_context":{"tls_certificate_provider_instance":{"instance_name":"mesh_certificates"}'),
      denyAllFilter: somewhere('"http_filters":[{"name":"envoy.filters.http.rbac","typed_config":{"@type":"type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC","rules":{"action":"ALLOW","policies":{}}}}'),
      perRoute: somewhere('"non_forwarding_action":{},"typed_per_filter_config":{"envoy.filters.http.rbac":{"@type":"type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBACPerRoute"'),
      principals: somewhere('"principal_name":{"exact":"spiffe://mesh.local/service/'),
      upstreamTls: somewhere('"match_subject_alt_names":[{"exact":"spiffe://mesh.local/service/'),
    }).toEqual({ serverListener: true, downstreamTls: true, denyAllFilter: true, perRoute: true, principals: true, upstreamTls: true });
  });

  it('the matrix renders TLS both ways, RBAC on HTTP and TCP with and without principals, and JWT', () => {
    const rendered = cases.map(({ caller, deps, callers }) => JSON.stringify(renderSnapshot(world(caller, deps, callers), settings)));
    const somewhere = (text: string) => rendered.some((r) => r.includes(text));
    expect({
      downstreamTls: somewhere('"require_client_certificate":true'),
      upstreamTls: somewhere('"match_typed_subject_alt_names":[{"san_type":"URI"'),
      h2Alpn: somewhere('"alpn_protocols":["h2"]'),
      httpRbac: somewhere('envoy.filters.http.rbac'),
      networkRbac: somewhere('envoy.filters.network.rbac'),
      denyAll: somewhere('"policies":{}'),
      anyCaller: somewhere('"prefix":"spiffe://mesh.local/service/"'),
      jwt: somewhere('envoy.filters.http.jwt_authn'),
      jwksCluster: somewhere('"name":"jwks_caller-grpc"'),
      originalDst: somewhere('envoy.filters.listener.original_dst'),
      passthrough: somewhere('"type":"ORIGINAL_DST"'),
      hostVirtualHost: somewhere('"domains":["dep-http.mesh.internal","dep-http.mesh.internal:9000","dep-http.prod.local","dep-http.prod.local:9000"]'),
      tcpByPort: somewhere('"name":"tcp_dep-tcp","filter_chain_match":{"destination_port":5432}'),
    }).toEqual({
      downstreamTls: true,
      upstreamTls: true,
      h2Alpn: true,
      httpRbac: true,
      networkRbac: true,
      denyAll: true,
      anyCaller: true,
      jwt: true,
      jwksCluster: true,
      originalDst: true,
      passthrough: true,
      hostVirtualHost: true,
      tcpByPort: true,
    });
  });

  it('the matrix renders both tracers on HTTP listeners and none on proxyless forms', () => {
    const rendered = cases.map(({ caller, deps, callers }) => JSON.stringify(renderSnapshot(world(caller, deps, callers), settings)));
    const proxyless = cases.map(({ caller, deps, callers }) => JSON.stringify(renderProxylessSnapshot(world(caller, deps, callers), settings)));
    const somewhere = (text: string) => rendered.some((r) => r.includes(text));
    expect({
      xray: somewhere('"name":"envoy.tracers.xray"'),
      otel: somewhere('"name":"envoy.tracers.opentelemetry"'),
      sampling: somewhere('"random_sampling":{"value":12.5}'),
      proxylessTracing: proxyless.some((r) => r.includes('"tracing"')),
    }).toEqual({ xray: true, otel: true, sampling: true, proxylessTracing: false });
  });

  it('the matrix renders every traffic feature for Envoy, and for gRPC only what gRPC implements', () => {
    const envoy = trafficCases.map(({ caller, deps, callers }) => JSON.stringify(renderSnapshot(world(caller, deps, callers), settings))).join('\n');
    const grpc = trafficCases.map(({ caller, deps, callers }) => JSON.stringify(renderProxylessSnapshot(world(caller, deps, callers), settings))).join('\n');
    const features = (text: string) => ({
      rateLimitFilter: text.includes('"name":"envoy.filters.http.local_ratelimit"'),
      rateLimitBucket: text.includes('"token_bucket":{"max_tokens":20,"tokens_per_fill":10,"fill_interval":"1s"}'),
      resourceExhausted: text.includes('"rate_limited_as_resource_exhausted":true'),
      fault: text.includes('"delay":{"fixed_delay":"0.1s","percentage":{"numerator":125000,"denominator":"MILLION"}}'),
      grpcAbort: text.includes('"abort":{"grpc_status":14,"percentage":{"numerator":1,"denominator":"MILLION"}}'),
      mirror: text.includes('"request_mirror_policies":[{"cluster":"mirror-http"'),
      regex: text.includes('"safe_regex":{"regex":"/orders/[0-9]+/items(/.*)?"}') || text.includes('"safe_regex":{"regex":"(?:/orders/[0-9]+/items(/.*)?)"}'),
      query: text.includes('"query_parameters"'),
      rewrite: text.includes('"prefix_rewrite":"/v2/"'),
      routeSubsetCluster: text.includes('"name":"dep-grpc|revision=14,track=b"'),
    });
    expect(features(envoy)).toEqual({
      rateLimitFilter: true,
      rateLimitBucket: true,
      resourceExhausted: true,
      fault: true,
      grpcAbort: true,
      mirror: true,
      regex: true,
      query: true,
      rewrite: true,
      routeSubsetCluster: false,
    });
    expect(features(grpc)).toEqual({
      rateLimitFilter: false,
      rateLimitBucket: false,
      resourceExhausted: false,
      fault: true,
      grpcAbort: true,
      mirror: false,
      regex: true,
      query: false,
      rewrite: false,
      routeSubsetCluster: true,
    });
  });

  it.each(['listeners', 'routes', 'clusters'] as const)('the %s of the fullest case conform as a whole DiscoveryResponse', (type) => {
    const every = serviceVariants[1]![1] as { inbound: Record<string, unknown> };
    const fullest = callerWithEveryPolicy('grpc', { ...every, inbound: { ...every.inbound, jwt: { ...jwt, forwardPayloadHeader: 'x-jwt-payload' } } });
    const resources = renderSnapshot(world(fullest, dependencySpecs, ['batch', 'web']), settings);
    const response = { version_info: 'v1', type_url: typeUrls[type], resources: resources[type] ?? [] };
    expect(response.resources.length).toBeGreaterThan(0);
    expect(() => assertConformant(response)).not.toThrow();
  });

  it('a ClusterLoadAssignment with zones, every health status, labels and weights conforms', () => {
    const cla = clusterLoadAssignment('dep-http', [
      endpoint('dep-http', 'task-a', { zone: 'eu-west-1a', labels: { revision: '12', weight: '5' } }),
      endpoint('dep-http', 'task-b', { zone: 'eu-west-1b', health: 'draining', labels: { revision: '13' } }),
      endpoint('dep-http', 'task-c', { zone: 'eu-west-1b', health: 'unhealthy' }),
      endpoint('dep-http', 'task-d', { address: 'fd00::1' }),
    ]);
    expect(() => assertConformant(cla)).not.toThrow();
  });

  it('an empty ClusterLoadAssignment conforms', () => {
    expect(() => assertConformant(clusterLoadAssignment('dep-http', []))).not.toThrow();
  });

  it('the local service cluster for the bootstrap conforms', () => {
    expect(() => assertConformant(localServiceCluster(callerWithEveryPolicy('http', {}), settings))).not.toThrow();
  });
});
