import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderSnapshot } from '../../../shared/render/snapshot';
import { inboundListener, outboundListener } from '../../../shared/render/listener';
import { hcmTracing, tracingPolicy } from '../../../shared/render/tracing';
import { bootstrapTelemetry, includedStats, metricsPolicy, statsConfig } from '../../../shared/render/stats';
import { RenderSettings } from '../../../shared/render/settings';
import { parseServiceSpec } from '../../../shared/model/parse-spec';
import { ValidationError } from '../../../shared/errors';
import { assertConformant } from '../../support/envoy-schema';
import { settings, spec, world } from './fixtures';

type Hcm = { typed_config: Record<string, unknown> };
const hcmOf = (listener: Record<string, unknown>): Hcm =>
  ((listener.filter_chains as { filters: Hcm[] }[])[0]!.filters.at(-1)!);

describe('tracing', () => {
  const meshXray: RenderSettings = { ...settings, observability: { tracing: { provider: 'xray', samplingPercent: 1, collectorPort: 2100 } } };

  it('is off unless the service or the mesh names a provider', () => {
    expect(tracingPolicy(spec({ name: 'orders' }), settings)).toBeUndefined();
    expect(hcmTracing(spec({ name: 'orders' }), settings)).toBeUndefined();
  });

  it.each([
    ['the mesh default alone', {}, meshXray, { provider: 'xray', samplingPercent: 1, collectorPort: 2100 }],
    ['the service over the mesh, field by field', { tracing: { provider: 'xray', samplingPercent: 50 } }, meshXray, { provider: 'xray', samplingPercent: 50, collectorPort: 2100 }],
    ['another provider than the mesh: its own default port', { tracing: { provider: 'opentelemetry' } }, meshXray, { provider: 'opentelemetry', samplingPercent: 1, collectorPort: 4317 }],
    ['the service alone, with defaults', { tracing: { provider: 'xray' } }, settings, { provider: 'xray', samplingPercent: 5, collectorPort: 2000 }],
  ] as const)('resolves %s', (_name, observability, renderSettings, expected) => {
    expect(tracingPolicy(spec({ name: 'orders', observability }), renderSettings)).toEqual(expected);
  });

  it('renders X-Ray segments named after the service to the daemon on loopback (UDP)', () => {
    expect(hcmTracing(spec({ name: 'orders', observability: { tracing: { provider: 'xray', samplingPercent: 2.5 } } }), settings)).toEqual({
      random_sampling: { value: 2.5 },
      provider: {
        name: 'envoy.tracers.xray',
        typed_config: {
          '@type': 'type.googleapis.com/envoy.config.trace.v3.XRayConfig',
          segment_name: 'orders',
          daemon_endpoint: { protocol: 'UDP', address: '127.0.0.1', port_value: 2000 },
        },
      },
    });
  });

  it('renders OpenTelemetry spans of the service to the bootstrap collector cluster', () => {
    expect(hcmTracing(spec({ name: 'orders', observability: { tracing: { provider: 'opentelemetry' } } }), settings)?.provider).toEqual({
      name: 'envoy.tracers.opentelemetry',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig',
        grpc_service: { envoy_grpc: { cluster_name: 'mesh_otel_collector' }, timeout: '0.250s' },
        service_name: 'orders',
      },
    });
  });

  it('traces inbound and outbound HTTP listeners as the service itself, keeping request ids, and leaves TCP untraced', () => {
    const payments = spec({ name: 'payments' });
    const cache = spec({ name: 'cache', protocol: 'tcp', inboundPort: 16000 });
    const orders = spec({
      name: 'orders',
      observability: { tracing: { provider: 'xray' } },
      dependencies: [{ service: 'payments', localPort: 9001 }, { service: 'cache', localPort: 9002 }],
    });
    const inbound = hcmOf(inboundListener(orders, settings)).typed_config;
    const outbound = hcmOf(outboundListener(orders, orders.dependencies[0]!, payments, settings)).typed_config;
    const tcp = hcmOf(outboundListener(orders, orders.dependencies[1]!, cache, settings)).typed_config;
    expect((inbound.tracing as { provider: { typed_config: { segment_name: string } } }).provider.typed_config.segment_name).toBe('orders');
    expect((outbound.tracing as { provider: { typed_config: { segment_name: string } } }).provider.typed_config.segment_name).toBe('orders');
    expect(outbound.preserve_external_request_id).toBe(true);
    expect(inbound.generate_request_id).toBe(true);
    expect(tcp.tracing).toBeUndefined();
  });

  it('a mesh-wide default traces every HTTP listener of every service, and the snapshot still conforms', () => {
    const meshOtel: RenderSettings = { ...settings, observability: { tracing: { provider: 'opentelemetry', samplingPercent: 100 } } };
    const orders = spec({ name: 'orders', dependencies: [{ service: 'payments', localPort: 9001 }], inbound: { external: { port: 8443 } } });
    const resources = renderSnapshot(world(orders, [spec({ name: 'payments' })], ['web']), meshOtel);
    const listeners = resources.listeners ?? [];
    expect(listeners.map((l) => l.name).sort()).toEqual(['external', 'inbound', 'outbound_payments']);
    for (const listener of listeners) {
      expect(hcmOf(listener).typed_config.tracing).toEqual({
        random_sampling: { value: 100 },
        provider: expect.objectContaining({ name: 'envoy.tracers.opentelemetry' }),
      });
      expect(() => assertConformant(listener)).not.toThrow();
    }
  });

  it.each([
    [{ tracing: { provider: 'zipkin' } }, 'observability.tracing.provider'],
    [{ tracing: { provider: 'xray', samplingPercent: 101 } }, 'observability.tracing.samplingPercent'],
    [{ tracing: { samplingPercent: 5 } }, 'observability.tracing.provider'],
    [{ metrics: { enabled: true, statsdPort: 0 } }, 'observability.metrics.statsdPort'],
    [{ metrics: { extraStatPrefixes: ['cluster.*'] } }, 'observability.metrics.extraStatPrefixes.0'],
    [{ logs: {} }, 'observability'],
  ])('a spec with observability %j is refused at %s', (observability, path) => {
    const parse = () => parseServiceSpec({ name: 'orders', inboundPort: 15000, appPort: 8080, protocol: 'http', observability });
    expect(parse).toThrow(ValidationError);
    try {
      parse();
    } catch (err) {
      expect((err as ValidationError).problems.map((p) => p.path)).toContain(path);
    }
  });
});

/**
 * extract applies the bootstrap's tag extractors to a stat's full name the way Envoy does
 * (each regex in turn: the first group is cut from the name, the second, or the only one, is the tag's value)
 * and says whether the inclusion list keeps it: what CloudWatch would receive.
 */
function extract(config: Record<string, unknown>, name: string): { kept: boolean; name: string; tags: Record<string, string> } {
  const patterns = ((config.stats_matcher as { inclusion_list: { patterns: ({ safe_regex?: { regex: string }; prefix?: string })[] } }).inclusion_list.patterns);
  const kept = patterns.some((p) => (p.safe_regex ? new RegExp(p.safe_regex.regex).test(name) : name.startsWith(p.prefix!)));
  const tags: Record<string, string> = {};
  let rest = name;
  for (const tag of config.stats_tags as { tag_name: string; regex?: string; fixed_value?: string }[]) {
    if (tag.fixed_value !== undefined) {
      tags[tag.tag_name] = tag.fixed_value;
      continue;
    }
    const m = new RegExp(tag.regex!).exec(rest);
    if (!m) continue;
    tags[tag.tag_name] = m[2] ?? m[1]!;
    const cut = m.index + m[0].indexOf(m[1]!);
    rest = rest.slice(0, cut) + rest.slice(cut + m[1]!.length);
  }
  return { kept, name: rest, tags };
}

describe('metrics', () => {
  it('are off unless the service or the mesh turns them on; the service wins field by field', () => {
    expect(metricsPolicy(spec({ name: 'orders' }), settings)).toBeUndefined();
    const mesh: RenderSettings = { ...settings, observability: { metrics: { enabled: true, extraStatPrefixes: ['server.'] } } };
    expect(metricsPolicy(spec({ name: 'orders' }), mesh)).toEqual({ statsdPort: 8125, extraStatPrefixes: ['server.'] });
    expect(metricsPolicy(spec({ name: 'orders', observability: { metrics: { enabled: false } } }), mesh)).toBeUndefined();
    expect(metricsPolicy(spec({ name: 'orders', observability: { metrics: { statsdPort: 8200, extraStatPrefixes: ['cluster.payments.upstream_rq_503'] } } }), mesh)).toEqual({
      statsdPort: 8200,
      extraStatPrefixes: ['cluster.payments.upstream_rq_503', 'server.'],
    });
  });

  it('without metrics, the stats config is what it always was: Envoy default tags and the service', () => {
    expect(statsConfig('orders', 'eu-west-1a', undefined)).toEqual({ use_all_default_tags: true, stats_tags: [{ tag_name: 'mesh_service', fixed_value: 'orders' }] });
  });

  const config = statsConfig('orders', 'eu-west-1a', { statsdPort: 8125, extraStatPrefixes: ['cluster.payments.upstream_rq_503'] });

  it.each([
    ['cluster.payments.upstream_rq_5xx', 'cluster.upstream_rq_xx', { mesh_dependency: 'payments', mesh_response_class: '5' }],
    ['cluster.payments.upstream_rq_total', 'cluster.upstream_rq_total', { mesh_dependency: 'payments' }],
    ['cluster.payments.upstream_rq_time', 'cluster.upstream_rq_time', { mesh_dependency: 'payments' }],
    ['cluster.local_app.upstream_cx_connect_fail', 'cluster.upstream_cx_connect_fail', { mesh_dependency: 'local_app' }],
    ['cluster.payments.outlier_detection.ejections_enforced_total', 'cluster.outlier_detection.ejections_enforced_total', { mesh_dependency: 'payments' }],
    ['cluster.payments.ssl.connection_error', 'cluster.ssl.connection_error', { mesh_dependency: 'payments' }],
    ['cluster.payments.upstream_rq_pending_overflow', 'cluster.upstream_rq_pending_overflow', { mesh_dependency: 'payments' }],
    ['http.inbound.downstream_rq_2xx', 'http.downstream_rq_xx', { mesh_listener: 'inbound', mesh_response_class: '2' }],
    ['http.outbound_payments.downstream_rq_time', 'http.downstream_rq_time', { mesh_listener: 'outbound_payments' }],
    ['http.inbound.rbac.denied', 'http.rbac.denied', { mesh_listener: 'inbound' }],
    ['tcp.inbound.downstream_cx_total', 'tcp.downstream_cx_total', { mesh_listener: 'inbound' }],
    ['listener.0.0.0.0_15000.ssl.connection_error', 'listener.ssl.connection_error', { mesh_listener_address: '0.0.0.0_15000' }],
    ['inbound.rbac.denied', 'inbound.rbac.denied', {}],
    ['cluster_manager.cds.update_rejected', 'cluster_manager.cds.update_rejected', {}],
    ['cluster.payments.upstream_rq_503', 'cluster.upstream_rq_503', { mesh_dependency: 'payments' }],
  ])('keeps %s as %s with its dimensions', (full, sent, tags) => {
    expect(extract(config, full)).toEqual({ kept: true, name: sent, tags: { mesh_service: 'orders', mesh_zone: 'eu-west-1a', ...tags } });
  });

  it.each([
    'cluster.payments.upstream_rq_504', // per-code stats multiply metrics by codes: classes only (unless listed)
    'cluster.payments.upstream_cx_active',
    'cluster.payments.membership_healthy',
    'http.inbound.downstream_cx_active',
    'listener.0.0.0.0_15000.downstream_cx_total',
    'server.memory_allocated',
    'cluster.xds_cluster.update_attempt',
  ])('drops %s', (full) => {
    expect(extract(config, full).kept).toBe(false);
  });

  it("keeps every stat the sidecar's health check reads (a stat left out does not exist: no task would turn healthy)", () => {
    const script = readFileSync(join(__dirname, '..', '..', '..', 'infra', 'sidecar', 'envoy-health.sh'), 'utf8');
    const read = [...script.matchAll(/grep -Eq '\^([a-z_\\.]+): /g)].map((m) => m[1]!.replace(/\\\./g, '.'));
    expect(read).toEqual(['cluster_manager.cds.update_success', 'listener_manager.lds.update_success']);
    for (const stat of read) expect(extract(config, stat).kept).toBe(true);
  });

  it('every kept regex compiles in JavaScript as in RE2 (no look-around, no back-references)', () => {
    for (const regex of includedStats) expect(regex).not.toMatch(/\(\?[=!<]|\\[1-9]/);
  });

  it('bootstrapTelemetry carries both policies for a service that traces and measures', () => {
    const orders = spec({ name: 'orders', observability: { metrics: { enabled: true }, tracing: { provider: 'opentelemetry' } } });
    expect(bootstrapTelemetry(orders, settings)).toEqual({
      metrics: { statsdPort: 8125, extraStatPrefixes: [] },
      tracing: { provider: 'opentelemetry', samplingPercent: 5, collectorPort: 4317 },
    });
    expect(bootstrapTelemetry(spec({ name: 'plain' }), settings)).toEqual({});
  });
});
