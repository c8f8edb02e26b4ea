import { envoyBootstrap, bootstrapDefaults } from '../../../shared/bootstrap/envoy-bootstrap';
import { defaultRenderSettings } from '../../../shared/render/settings';
import { decodeStrict, validateRules } from '../../support/envoy-schema';
import { startLocalControlPlane, LocalControlPlane } from '../../../local/server';
import { request } from '../../support/http-client';
import { awsNode } from './fixtures';

const bootstrapType = 'type.googleapis.com/envoy.config.bootstrap.v3.Bootstrap';

function conformant(bootstrap: unknown): void {
  const message = decodeStrict(bootstrapType, bootstrap);
  expect(validateRules(message)).toEqual([]);
}

describe('the Envoy bootstrap', () => {
  const aws = awsNode;

  it('decodes strictly as an envoy.config.bootstrap.v3.Bootstrap, signed and over TLS', () => {
    conformant(envoyBootstrap(aws, defaultRenderSettings));
  });

  it('resolves the front door over IPv6 when asked (polls around the NAT gateway), still a valid Bootstrap', () => {
    const bootstrap = envoyBootstrap({ ...aws, xdsDnsLookupFamily: 'AUTO' }, defaultRenderSettings);
    conformant(bootstrap);
    const clusters = (bootstrap.static_resources as { clusters: { name: string; dns_lookup_family: string }[] }).clusters;
    expect(clusters.find((c) => c.name === defaultRenderSettings.xdsClusterName)!.dns_lookup_family).toBe('AUTO');
    const byDefault = (envoyBootstrap(aws, defaultRenderSettings).static_resources as typeof bootstrap.static_resources & { clusters: { dns_lookup_family: string }[] }).clusters;
    expect(byDefault[0]!.dns_lookup_family).toBe('V4_PREFERRED');
  });

  it('names the node after the instance and its service, with its zone', () => {
    expect(envoyBootstrap(aws, defaultRenderSettings).node).toEqual({
      id: 'i-0123456789abcdef0',
      cluster: 'orders',
      locality: { zone: 'eu-west-1b' },
      metadata: { 'mesh.service': 'orders' },
    });
  });

  it('keeps admin on loopback', () => {
    expect(envoyBootstrap(aws, defaultRenderSettings).admin).toEqual({
      address: { socket_address: { address: '127.0.0.1', port_value: 9901 } },
    });
  });

  it('polls LDS slower than CDS, with a request timeout that covers a cold start', () => {
    const dynamic = envoyBootstrap(aws, defaultRenderSettings).dynamic_resources as Record<string, { api_config_source: Record<string, unknown> }>;
    expect(dynamic.lds_config!.api_config_source).toMatchObject({ api_type: 'REST', refresh_delay: '30s', request_timeout: '5s', cluster_names: ['xds_cluster'] });
    expect(dynamic.cds_config!.api_config_source).toMatchObject({ api_type: 'REST', refresh_delay: '10s', request_timeout: '5s' });
    expect(bootstrapDefaults.requestTimeout).toBe('5s');
  });

  it('closes idle connections to the control plane itself, after longer than any refresh delay', () => {
    const bootstrap = envoyBootstrap(aws, defaultRenderSettings);
    const seconds = (d: string) => Number(d.replace(/s$/, ''));
    const [xds] = (bootstrap.static_resources as { clusters: { typed_extension_protocol_options: Record<string, { common_http_protocol_options?: { idle_timeout?: string } }> }[] }).clusters;
    const idle = xds!.typed_extension_protocol_options['envoy.extensions.upstreams.http.v3.HttpProtocolOptions']!.common_http_protocol_options?.idle_timeout;
    const delays = [bootstrapDefaults.ldsRefreshDelay, bootstrapDefaults.cdsRefreshDelay, defaultRenderSettings.refreshDelay].map(seconds);
    expect({ idle, longerThanEveryRefresh: seconds(idle ?? '0s') > Math.max(...delays) }).toEqual({ idle: bootstrapDefaults.xdsIdleTimeout, longerThanEveryRefresh: true });
  });

  it('signs polls with SigV4 for the real host, over TLS with SNI', () => {
    const [xds] = (envoyBootstrap(aws, defaultRenderSettings).static_resources as { clusters: Record<string, unknown>[] }).clusters;
    const host = 'abcdefghijklmnop.lambda-url.eu-west-1.on.aws';
    expect(xds).toMatchObject({
      name: 'xds_cluster',
      load_assignment: { endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: host, port_value: 443 } } } }] }] },
      transport_socket: { typed_config: { sni: host } },
      typed_extension_protocol_options: {
        'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
          http_filters: [
            { name: 'envoy.filters.http.aws_request_signing', typed_config: { service_name: 'lambda', region: 'eu-west-1', host_rewrite: host } },
            { name: 'envoy.filters.http.upstream_codec' },
          ],
        },
      },
    });
  });

  it('talks plain HTTP without signing to a local control plane', () => {
    const local = envoyBootstrap({ service: 'orders', nodeId: 'dev-1', controlPlaneUrl: 'http://127.0.0.1:18000' }, defaultRenderSettings);
    conformant(local);
    const [xds] = (local.static_resources as { clusters: Record<string, unknown>[] }).clusters;
    expect(xds!.transport_socket).toBeUndefined();
    expect(JSON.stringify(xds)).not.toContain('aws_request_signing');
  });

  it.each(['ftp://x', 'not a url', 'https://cp.example.com/prod'])('refuses a control plane URL Envoy cannot poll: %s', (url) => {
    expect(() => envoyBootstrap({ service: 'orders', nodeId: 'n', controlPlaneUrl: url }, defaultRenderSettings)).toThrow(/control plane URL/);
  });

  describe('GET /bootstrap/{service} on the local control plane', () => {
    let cp: LocalControlPlane;
    beforeAll(async () => {
      cp = await startLocalControlPlane({ port: 0 });
      await request(cp.url, 'PUT', '/services/payments', { name: 'payments', inboundPort: 15000, appPort: 8080, protocol: 'http' });
      await request(cp.url, 'PUT', '/services/orders', {
        name: 'orders',
        inboundPort: 15000,
        appPort: 8080,
        protocol: 'http',
        dependencies: [{ service: 'payments', localPort: 9001, zoneAware: { enabled: true } }],
      });
    });
    afterAll(async () => cp.close());

    it('serves a conformant bootstrap pointing at itself, with the local cluster for zone-aware routing', async () => {
      const answer = await request(cp.url, 'GET', '/bootstrap/orders?node=dev-1&zone=us-east-1a');
      expect(answer.status).toBe(200);
      conformant(answer.body);
      const body = answer.body as { cluster_manager: unknown; static_resources: { clusters: { name: string }[] } };
      expect(body.cluster_manager).toEqual({ local_cluster_name: 'orders' });
      expect(body.static_resources.clusters.map((c) => c.name)).toEqual(['xds_cluster', 'orders']);
      expect(JSON.stringify(body)).toContain(`"port_value":${cp.port}`);
    });

    it.each([
      ['/bootstrap/orders', 400, 'node'],
      ['/bootstrap/orders?node=has%20space', 400, 'node'],
      ['/bootstrap/orders?node=n1&zone=Bad_Zone', 400, 'zone'],
      ['/bootstrap/nobody?node=n1', 404, 'not declared'],
    ])('answers %s with %i', async (path, status, message) => {
      const answer = await request(cp.url, 'GET', path);
      expect(answer.status).toBe(status);
      expect(answer.body).toEqual({ error: expect.stringContaining(message) });
    });
  });
});
