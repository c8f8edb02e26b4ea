import { Metadata } from '@grpc/grpc-js';
import { BootstrapError, bootstrapDefaults, envoyBootstrap } from '../../../shared/bootstrap/envoy-bootstrap';
import { localServiceCluster } from '../../../shared/render/cluster';
import { parseServiceSpec } from '../../../shared/model/parse-spec';
import { defaultRenderSettings } from '../../../shared/render/settings';
import { isAdsNode } from '../../../shared/xds/ads-node';
import { typeUrls } from '../../../shared/envoy/resources';
import { startLocalControlPlane, LocalControlPlane } from '../../../local/server';
import { decodeStrict, validateRules, assertConformant } from '../../support/envoy-schema';
import { request } from '../../support/http-client';
import { AdsTestClient } from '../../support/ads-client';

const bootstrapType = 'type.googleapis.com/envoy.config.bootstrap.v3.Bootstrap';
const httpOptions = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';

function conformant(bootstrap: unknown): void {
  const message = decodeStrict(bootstrapType, bootstrap);
  expect(validateRules(message)).toEqual([]);
}

interface Bootstrap {
  node: { metadata: Record<string, string> };
  dynamic_resources: Record<string, Record<string, unknown>>;
  static_resources: { clusters: Record<string, unknown>[] };
}

const orders = parseServiceSpec({
  name: 'orders',
  inboundPort: 15000,
  appPort: 8080,
  protocol: 'http',
  dependencies: [{ service: 'payments', localPort: 9001, zoneAware: { enabled: true } }],
});
const base = { service: 'orders', nodeId: 'orders-1', zone: 'us-east-1a', tier: 'grpc' as const };

describe('the ADS bootstrap (tier grpc)', () => {
  it('decodes strictly as a Bootstrap: plaintext, over TLS, with a token and with the local cluster', () => {
    conformant(envoyBootstrap({ ...base, controlPlaneUrl: 'http://127.0.0.1:18001' }, defaultRenderSettings));
    conformant(envoyBootstrap({ ...base, controlPlaneUrl: 'https://xds.mesh.internal:443', bearerToken: 't0k' }, defaultRenderSettings));
    conformant(
      envoyBootstrap(
        { ...base, controlPlaneUrl: 'http://10.0.0.5:18001', localCluster: localServiceCluster(orders, defaultRenderSettings) },
        defaultRenderSettings,
      ),
    );
  });

  it('holds one state-of-the-world ADS stream for every type, sends the node once, and backs off between reconnects', () => {
    const bootstrap = envoyBootstrap({ ...base, controlPlaneUrl: 'http://127.0.0.1:18001' }, defaultRenderSettings) as unknown as Bootstrap;
    expect(bootstrap.dynamic_resources).toEqual({
      ads_config: {
        api_type: 'GRPC',
        transport_api_version: 'V3',
        set_node_on_first_message_only: true,
        grpc_services: [
          { envoy_grpc: { cluster_name: 'xds_cluster', retry_policy: { retry_back_off: { base_interval: '1s', max_interval: '30s' } } } },
        ],
      },
      lds_config: { ads: {}, resource_api_version: 'V3', initial_fetch_timeout: bootstrapDefaults.initialFetchTimeout },
      cds_config: { ads: {}, resource_api_version: 'V3', initial_fetch_timeout: bootstrapDefaults.initialFetchTimeout },
    });
  });

  it('says in its node metadata that it is on ADS, which is what selects the ADS forms; a REST bootstrap does not', () => {
    const ads = envoyBootstrap({ ...base, controlPlaneUrl: 'http://127.0.0.1:18001' }, defaultRenderSettings) as unknown as Bootstrap;
    const rest = envoyBootstrap({ ...base, tier: 'rest', controlPlaneUrl: 'http://127.0.0.1:18000' }, defaultRenderSettings) as unknown as Bootstrap;
    expect(ads.node.metadata).toEqual({ 'mesh.service': 'orders', 'mesh.xds': 'ads' });
    expect({ ads: isAdsNode(ads.node), rest: isAdsNode(rest.node) }).toEqual({ ads: true, rest: false });
  });

  it('reaches the push tier over HTTP/2 with keepalive pings, ALPN h2 over TLS, and no REST idle timeout or filters', () => {
    const plain = envoyBootstrap({ ...base, controlPlaneUrl: 'http://127.0.0.1:18001' }, defaultRenderSettings) as unknown as Bootstrap;
    expect(plain.static_resources.clusters[0]).toEqual({
      name: 'xds_cluster',
      type: 'LOGICAL_DNS',
      dns_lookup_family: 'V4_PREFERRED',
      connect_timeout: '3s',
      load_assignment: {
        cluster_name: 'xds_cluster',
        endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: 18001 } } } }] }],
      },
      typed_extension_protocol_options: {
        [httpOptions]: {
          '@type': `type.googleapis.com/${httpOptions}`,
          explicit_http_config: { http2_protocol_options: { connection_keepalive: { interval: '30s', timeout: '10s' } } },
        },
      },
    });
    const tls = envoyBootstrap({ ...base, controlPlaneUrl: 'https://xds.mesh.internal' }, defaultRenderSettings) as unknown as Bootstrap;
    expect(tls.static_resources.clusters[0]).toMatchObject({
      load_assignment: { endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { port_value: 443 } } } }] }] },
      transport_socket: { typed_config: { sni: 'xds.mesh.internal', common_tls_context: { alpn_protocols: ['h2'] } } },
    });
  });

  it('carries a bearer token as the stream’s initial metadata, not as a header mutation filter', () => {
    const bootstrap = envoyBootstrap({ ...base, controlPlaneUrl: 'http://127.0.0.1:18001', bearerToken: 't0k' }, defaultRenderSettings);
    const ads = (bootstrap as unknown as Bootstrap).dynamic_resources.ads_config as { grpc_services: Record<string, unknown>[] };
    expect(ads.grpc_services[0]!.initial_metadata).toEqual([{ key: 'authorization', value: 'Bearer t0k' }]);
    expect(JSON.stringify(bootstrap)).not.toContain('header_mutation');
  });

  it('takes the local cluster’s endpoints over ADS too', () => {
    const bootstrap = envoyBootstrap(
      { ...base, controlPlaneUrl: 'http://127.0.0.1:18001', localCluster: localServiceCluster(orders, defaultRenderSettings) },
      defaultRenderSettings,
    ) as unknown as Bootstrap & { cluster_manager: unknown };
    expect(bootstrap.cluster_manager).toEqual({ local_cluster_name: 'orders' });
    expect(bootstrap.static_resources.clusters[1]).toMatchObject({ name: 'orders', eds_cluster_config: { eds_config: { ads: {}, resource_api_version: 'V3' } } });
    expect(JSON.stringify(bootstrap)).not.toContain('api_config_source');
  });

  it.each([
    ['SigV4 signing', { controlPlaneUrl: 'https://xds.mesh.internal', signing: { region: 'eu-west-1', serviceName: 'lambda' as const } }, /no SigV4/],
    ['a URL with a path', { controlPlaneUrl: 'http://127.0.0.1:18001/xds' }, /fixed path of its gRPC method/],
  ])('refuses %s', (_name, options, message) => {
    expect(() => envoyBootstrap({ ...base, ...options }, defaultRenderSettings)).toThrow(BootstrapError);
    expect(() => envoyBootstrap({ ...base, ...options }, defaultRenderSettings)).toThrow(message);
  });
});

describe('GET /bootstrap/{service}?tier=grpc on the local control plane', () => {
  let cp: LocalControlPlane;
  let plain: LocalControlPlane | undefined;
  let client: AdsTestClient | undefined;
  beforeAll(async () => {
    cp = await startLocalControlPlane({ port: 0, grpcPort: 0, auth: 'token' });
    const admin = { authorization: `Bearer ${cp.adminToken}` };
    await request(cp.url, 'PUT', '/services/payments', { name: 'payments', inboundPort: 15000, appPort: 8080, protocol: 'http' }, admin);
    await request(cp.url, 'PUT', '/services/orders', { name: 'orders', inboundPort: 15000, appPort: 8080, protocol: 'http', dependencies: [{ service: 'payments', localPort: 9001, zoneAware: { enabled: true } }] }, admin);
  });
  afterEach(() => {
    client?.close();
    client = undefined;
  });
  afterAll(async () => {
    await cp.close();
    await plain?.close();
  });

  it('serves a conformant ADS bootstrap pointing at the push tier, whose node and token open a stream served the ADS forms', async () => {
    const answer = await request(cp.url, 'GET', '/bootstrap/orders?node=orders-7&zone=us-east-1a&tier=grpc', undefined, { authorization: `Bearer ${cp.adminToken}` });
    expect(answer.status).toBe(200);
    conformant(answer.body);
    const bootstrap = answer.body as Bootstrap & { node: Record<string, unknown> };
    expect(JSON.stringify(bootstrap.static_resources.clusters[0])).toContain(`"port_value":${cp.grpc!.port}`);
    const ads = bootstrap.dynamic_resources.ads_config as { grpc_services: { initial_metadata: { key: string; value: string }[] }[] };
    const metadata = new Metadata();
    for (const { key, value } of ads.grpc_services[0]!.initial_metadata) metadata.set(key, value);

    client = new AdsTestClient(cp.grpc!.port, metadata);
    client.send({ node: bootstrap.node, type_url: typeUrls.clusters });
    const clusters = await client.next();
    expect(() => assertConformant(clusters)).not.toThrow();
    const payments = clusters.resources?.find((c) => c.name === 'payments') as { eds_cluster_config: unknown };
    expect(payments.eds_cluster_config).toEqual({ eds_config: { ads: {}, resource_api_version: 'V3' }, service_name: 'payments' });
    client.send({ type_url: typeUrls.listeners, version_info: '', response_nonce: '' });
    const listeners = await client.next();
    expect(JSON.stringify(listeners)).toContain('"rds":{"config_source":{"ads":{},"resource_api_version":"V3"}');
    expect(JSON.stringify(listeners)).not.toContain('api_config_source');
  });

  it.each([
    ['/bootstrap/orders?node=n1&tier=carrier-pigeon', 400, 'tier'],
    ['/bootstrap/nobody?node=n1&tier=grpc', 404, 'not declared'],
  ])('answers %s with %i', async (path, status, message) => {
    const answer = await request(cp.url, 'GET', path, undefined, { authorization: `Bearer ${cp.adminToken}` });
    expect(answer.status).toBe(status);
    expect(answer.body).toEqual({ error: expect.stringContaining(message) });
  });

  it('answers 404 where no push tier runs', async () => {
    plain = await startLocalControlPlane({ port: 0 });
    await request(plain.url, 'PUT', '/services/payments', { name: 'payments', inboundPort: 15000, appPort: 8080, protocol: 'http' });
    const answer = await request(plain.url, 'GET', '/bootstrap/payments?node=n1&tier=grpc');
    expect(answer).toMatchObject({ status: 404, body: { error: expect.stringContaining('no push tier') } });
  });
});
