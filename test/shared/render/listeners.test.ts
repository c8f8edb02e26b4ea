import { httpAccessLogFields, tcpAccessLogFields } from '../../../shared/render/access-log';
import { inboundListener, outboundListener } from '../../../shared/render/listener';
import { renderSnapshot } from '../../../shared/render/snapshot';
import { EnvoyResource } from '../../../shared/envoy/resources';
import { fullPolicy, settings, spec, world } from './fixtures';

type Filter = { name: string; typed_config: Record<string, unknown> };

function filterOf(listener: EnvoyResource): Filter {
  const chains = listener.filter_chains as { filters: Filter[] }[];
  return chains[0]!.filters[0]!;
}

const orders = spec({ name: 'orders', protocol: 'http', inboundPort: 15001 });
const ledger = spec({ name: 'ledger', protocol: 'tcp', inboundPort: 15002 });

describe('listeners', () => {
  it('accept mesh traffic on every interface and reach dependencies on loopback only', () => {
    const web = spec({ name: 'web', inboundPort: 15000, dependencies: [{ service: 'orders', localPort: 7001 }] });
    const resources = renderSnapshot(world(web, [orders]), settings);
    expect((resources.listeners ?? []).map((l) => [l.name, l.address])).toEqual([
      ['inbound', { socket_address: { address: '0.0.0.0', port_value: 15000 } }],
      ['outbound_orders', { socket_address: { address: '127.0.0.1', port_value: 7001 } }],
    ]);
  });

  it('log every HTTP request as JSON on stdout with the fields operators query', () => {
    const hcm = filterOf(inboundListener(spec({ name: 'web' }), settings)).typed_config;
    expect(hcm.access_log).toEqual([
      {
        name: 'envoy.access_loggers.stdout',
        typed_config: {
          '@type': 'type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog',
          log_format: { json_format: { ...httpAccessLogFields, service: 'web', direction: 'inbound' } },
        },
      },
    ]);
    expect(httpAccessLogFields).toMatchObject({
      start_time: '%START_TIME%',
      method: '%REQ(:METHOD)%',
      path: '%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%',
      status: '%RESPONSE_CODE%',
      duration_ms: '%DURATION%',
      upstream_host: '%UPSTREAM_HOST%',
      response_flags: '%RESPONSE_FLAGS%',
      request_id: '%REQ(X-REQUEST-ID)%',
    });
  });

  it('log TCP connections without request fields', () => {
    const web = spec({ name: 'web', protocol: 'tcp', dependencies: [{ service: 'ledger', localPort: 7002 }] });
    const outbound = filterOf(outboundListener(web, web.dependencies[0]!, ledger, settings)).typed_config;
    const log = (outbound.access_log as { typed_config: { log_format: { json_format: Record<string, string> } } }[])[0]!;
    expect(log.typed_config.log_format.json_format).toEqual({ ...tcpAccessLogFields, service: 'web', direction: 'outbound' });
    expect(tcpAccessLogFields).not.toHaveProperty('method');
    expect(tcpAccessLogFields).not.toHaveProperty('status');
  });

  it('log nothing when the access log is switched off', () => {
    const quiet = spec({ name: 'web', accessLog: { enabled: false }, dependencies: [{ service: 'ledger', localPort: 7002 }] });
    for (const l of renderSnapshot(world(quiet, [ledger]), settings).listeners ?? []) {
      expect(filterOf(l).typed_config).not.toHaveProperty('access_log');
    }
  });

  it('give requests a UUID request id, replacing an outside one inbound and keeping the payload’s outbound', () => {
    const web = spec({ name: 'web', dependencies: [{ service: 'orders', localPort: 7001 }] });
    const [inbound, outbound] = (renderSnapshot(world(web, [orders]), settings).listeners ?? []).map((l) => filterOf(l).typed_config);
    const uuid = { typed_config: { '@type': 'type.googleapis.com/envoy.extensions.request_id.uuid.v3.UuidRequestIdConfig' } };
    expect(inbound).toMatchObject({ generate_request_id: true, preserve_external_request_id: false, request_id_extension: uuid });
    expect(outbound).toMatchObject({ generate_request_id: true, preserve_external_request_id: true, request_id_extension: uuid });
  });

  it('honour declared request-id settings', () => {
    const hcm = filterOf(inboundListener(spec({ name: 'web', requestId: { generate: false, preserveExternal: true } }), settings)).typed_config;
    expect(hcm.generate_request_id).toBe(false);
    expect(hcm.preserve_external_request_id).toBe(true);
    expect(hcm).not.toHaveProperty('request_id_extension');
  });

  it.each([
    ['the default', {}, 'inbound'],
    ['a declared', { statsPrefix: 'web_in' }, 'web_in'],
  ])('use %s stats prefix inbound and outbound_<dependency> outbound', (_what, options, prefix) => {
    const web = spec({ name: 'web', ...options, dependencies: [{ service: 'orders', localPort: 7001 }] });
    const [inbound, outbound] = (renderSnapshot(world(web, [orders]), settings).listeners ?? []).map((l) => filterOf(l).typed_config);
    expect(inbound!.stat_prefix).toBe(prefix);
    expect(outbound!.stat_prefix).toBe('outbound_orders');
  });

  it('proxy a TCP dependency with its idle timeout and split, skipping zero-weight subsets', () => {
    const web = spec({
      name: 'web',
      dependencies: [
        {
          service: 'ledger',
          localPort: 7002,
          idleTimeoutMs: 90_000,
          split: { subsets: [{ labels: { revision: '1' }, weight: 100 }, { labels: { revision: '2' }, weight: 0 }] },
        },
      ],
    });
    const filter = filterOf(outboundListener(web, web.dependencies[0]!, ledger, settings));
    expect(filter.name).toBe('envoy.filters.network.tcp_proxy');
    expect(filter.typed_config).toMatchObject({
      stat_prefix: 'outbound_ledger',
      weighted_clusters: { clusters: [{ name: 'ledger', weight: 100, metadata_match: { filter_metadata: { 'envoy.lb': { revision: '1' } } } }] },
      idle_timeout: '90s',
    });
  });

  it('proxy a TCP service inbound straight to the payload with the default idle timeout', () => {
    const filter = filterOf(inboundListener(spec({ name: 'ledger', protocol: 'tcp' }), settings));
    expect(filter.typed_config).toMatchObject({ stat_prefix: 'inbound', cluster: 'local_app', idle_timeout: '3600s' });
  });

  it('take extra HTTP filters and a transport socket from later layers, router last', () => {
    const rbac = { name: 'envoy.filters.http.rbac', typed_config: { '@type': 'x' } };
    const transportSocket = { name: 'envoy.transport_sockets.tls' };
    const l = inboundListener(spec({ name: 'web' }), settings, { httpFilters: [rbac], transportSocket });
    const filters = filterOf(l).typed_config.http_filters as { name: string }[];
    expect(filters.map((f) => f.name)).toEqual(['envoy.filters.http.rbac', 'envoy.filters.http.router']);
    expect((l.filter_chains as Record<string, unknown>[])[0]!.transport_socket).toBe(transportSocket);
  });

  it('route every HTTP dependency through RDS and give TCP dependencies no route', () => {
    const web = spec({ name: 'web', dependencies: [fullPolicy('orders', 'http', 7001), fullPolicy('ledger', 'tcp', 7002)] });
    const resources = renderSnapshot(world(web, [orders, ledger]), settings);
    expect((resources.routes ?? []).map((r) => r.name)).toEqual(['inbound', 'outbound_orders']);
    const hcm = filterOf(resources.listeners!.find((l) => l.name === 'outbound_orders')!).typed_config;
    expect((hcm.rds as { route_config_name: string }).route_config_name).toBe('outbound_orders');
  });
});
