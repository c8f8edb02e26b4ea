import { envoyBootstrap } from '../../../shared/bootstrap/envoy-bootstrap';
import { bootstrapTelemetry } from '../../../shared/render/stats';
import { defaultRenderSettings } from '../../../shared/render/settings';
import { parseServiceSpec } from '../../../shared/model/parse-spec';
import { decodeStrict, validateRules } from '../../support/envoy-schema';
import { startLocalControlPlane, LocalControlPlane } from '../../../local/server';
import { request } from '../../support/http-client';
import { parseObservability } from '../../../functions/lib/render-config';
import { awsNode } from './fixtures';

const bootstrapType = 'type.googleapis.com/envoy.config.bootstrap.v3.Bootstrap';

function conformant(bootstrap: unknown): void {
  expect(validateRules(decodeStrict(bootstrapType, bootstrap))).toEqual([]);
}

interface Shape {
  stats_sinks?: { name: string; typed_config: Record<string, unknown> }[];
  stats_config: { use_all_default_tags: boolean; stats_tags: { tag_name: string; fixed_value?: string }[]; stats_matcher?: unknown };
  static_resources: { clusters: { name: string; type?: string }[] };
}

const orders = (observability?: Record<string, unknown>) =>
  parseServiceSpec({ name: 'orders', inboundPort: 15000, appPort: 8080, protocol: 'http', ...(observability ? { observability } : {}) });

describe('the bootstrap carries the service observability', () => {
  const aws = awsNode;

  it('with metrics: a DogStatsD sink to the agent on loopback, the service and zone as tags, the inclusion list; strictly a Bootstrap', () => {
    const telemetry = bootstrapTelemetry(orders({ metrics: { enabled: true }, tracing: { provider: 'xray' } }), defaultRenderSettings);
    const bootstrap = envoyBootstrap({ ...aws, telemetry }, defaultRenderSettings) as unknown as Shape;
    conformant(bootstrap);
    expect(bootstrap.stats_sinks).toEqual([
      {
        name: 'envoy.stat_sinks.dog_statsd',
        typed_config: {
          '@type': 'type.googleapis.com/envoy.config.metrics.v3.DogStatsdSink',
          address: { socket_address: { protocol: 'UDP', address: '127.0.0.1', port_value: 8125 } },
          prefix: 'envoy',
          max_bytes_per_datagram: 8192,
        },
      },
    ]);
    expect(bootstrap.stats_config.use_all_default_tags).toBe(false);
    expect(bootstrap.stats_config.stats_tags.slice(0, 2)).toEqual([
      { tag_name: 'mesh_service', fixed_value: 'orders' },
      { tag_name: 'mesh_zone', fixed_value: 'eu-west-1b' },
    ]);
    expect(bootstrap.stats_config.stats_matcher).toBeDefined();
    // X-Ray goes over UDP to the daemon: no cluster for it.
    expect(bootstrap.static_resources.clusters.map((c) => c.name)).toEqual(['xds_cluster']);
  });

  it('with OpenTelemetry tracing: the collector static cluster (HTTP/2 to loopback) the tracer names, on the push tier too', () => {
    const telemetry = bootstrapTelemetry(orders({ tracing: { provider: 'opentelemetry', collectorPort: 4319 } }), defaultRenderSettings);
    const rest = envoyBootstrap({ ...aws, telemetry }, defaultRenderSettings) as unknown as Shape;
    const push = envoyBootstrap({ ...aws, tier: 'grpc', pushTier: { host: 'push.mesh.internal' }, telemetry }, defaultRenderSettings) as unknown as Shape;
    conformant(rest);
    conformant(push);
    expect(rest.static_resources.clusters.map((c) => c.name)).toEqual(['xds_cluster', 'mesh_otel_collector']);
    expect(push.static_resources.clusters.map((c) => c.name)).toEqual(['xds_cluster', 'xds_grpc', 'mesh_otel_collector']);
    expect(JSON.stringify(rest.static_resources.clusters[1])).toContain('"socket_address":{"address":"127.0.0.1","port_value":4319}');
    expect(JSON.stringify(rest.static_resources.clusters[1])).toContain('"http2_protocol_options":{}');
    expect(rest.stats_sinks).toBeUndefined();
  });

  it('without observability the bootstrap is as before: no sink, Envoy default tags', () => {
    const bootstrap = envoyBootstrap({ ...aws, telemetry: bootstrapTelemetry(orders(), defaultRenderSettings) }, defaultRenderSettings) as unknown as Shape;
    expect(bootstrap.stats_sinks).toBeUndefined();
    expect(bootstrap.stats_config).toEqual({ use_all_default_tags: true, stats_tags: [{ tag_name: 'mesh_service', fixed_value: 'orders' }] });
    expect(bootstrap).toEqual(envoyBootstrap(aws, defaultRenderSettings));
  });

  it.each([
    ['{"metrics":{"enabled":true},"tracing":{"provider":"xray","samplingPercent":10}}', undefined],
    ['{"tracing":{"provider":"jaeger"}}', /MESH_OBSERVABILITY is not a valid observability block: tracing.provider/],
    ['{"metrics":', /MESH_OBSERVABILITY is not JSON/],
  ])('the mesh-wide default MESH_OBSERVABILITY=%s is read or refused by name', (raw, error) => {
    if (error) expect(() => parseObservability(raw)).toThrow(error);
    else expect(parseObservability(raw)).toEqual({ metrics: { enabled: true }, tracing: { provider: 'xray', samplingPercent: 10 } });
  });

  describe('on the local control plane with a mesh-wide default', () => {
    let cp: LocalControlPlane;
    beforeAll(async () => {
      cp = await startLocalControlPlane({
        port: 0,
        config: { render: { ...defaultRenderSettings, observability: { metrics: { enabled: true }, tracing: { provider: 'opentelemetry', samplingPercent: 20 } } } },
      });
      await request(cp.url, 'PUT', '/services/payments', { name: 'payments', inboundPort: 15000, appPort: 8080, protocol: 'http', observability: { metrics: { enabled: false } } });
      await request(cp.url, 'PUT', '/services/orders', {
        name: 'orders',
        inboundPort: 15000,
        appPort: 8080,
        protocol: 'http',
        dependencies: [{ service: 'payments', localPort: 9001 }],
        observability: { tracing: { provider: 'xray' } },
      });
    });
    afterAll(async () => cp.close());

    it('GET /bootstrap gives each service its own merge of the default: sink or not, collector cluster or not', async () => {
      const ordersBootstrap = (await request(cp.url, 'GET', '/bootstrap/orders?node=dev-1&zone=us-east-1a')).body as Shape;
      const paymentsBootstrap = (await request(cp.url, 'GET', '/bootstrap/payments?node=dev-2')).body as Shape;
      conformant(ordersBootstrap);
      conformant(paymentsBootstrap);
      expect(ordersBootstrap.stats_sinks?.map((s) => s.name)).toEqual(['envoy.stat_sinks.dog_statsd']);
      expect(ordersBootstrap.static_resources.clusters.map((c) => c.name)).toEqual(['xds_cluster']); // orders traces with X-Ray
      expect(paymentsBootstrap.stats_sinks).toBeUndefined();
      expect(paymentsBootstrap.static_resources.clusters.map((c) => c.name)).toEqual(['xds_cluster', 'mesh_otel_collector']);
    });

    it('the served listeners trace with the merged provider and sampling', async () => {
      const polled = await request(cp.url, 'POST', '/v3/discovery:listeners', { node: { id: 'dev-1', cluster: 'orders' } });
      expect(polled.status).toBe(200);
      const text = JSON.stringify(polled.body);
      expect(text).toContain('"name":"envoy.tracers.xray"');
      expect(text).toContain('"random_sampling":{"value":20}');
      expect(text).not.toContain('envoy.tracers.opentelemetry');
    });
  });
});
