import { Metadata } from '@grpc/grpc-js';
import { BootstrapError, bootstrapDefaults, envoyBootstrap, pushTierClusterName } from '../../../shared/bootstrap/envoy-bootstrap';
import { adsSnapshotForms } from '../../../shared/render/ads-forms';
import { renderSnapshot, snapshotVersions } from '../../../shared/render/snapshot';
import { fullPolicy, spec, world } from '../render/fixtures';
import { names } from '../../../shared/render/names';
import { localServiceCluster } from '../../../shared/render/cluster';
import { parseServiceSpec } from '../../../shared/model/parse-spec';
import { defaultRenderSettings, restConfigSource } from '../../../shared/render/settings';
import { adsFormsOf, isAdsNode } from '../../../shared/xds/ads-node';
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


/** The dynamic resources of an ADS bootstrap whose stream goes to `cluster`: one stream, the node once, a back-off. */
const adsDynamicResources = (cluster: string) => ({
  ads_config: {
    api_type: 'GRPC',
    transport_api_version: 'V3',
    set_node_on_first_message_only: true,
    grpc_services: [{ envoy_grpc: { cluster_name: cluster, retry_policy: { retry_back_off: { base_interval: '1s', max_interval: '30s' } } } }],
  },
  lds_config: { ads: {}, resource_api_version: 'V3', initial_fetch_timeout: bootstrapDefaults.initialFetchTimeout },
  cds_config: { ads: {}, resource_api_version: 'V3', initial_fetch_timeout: bootstrapDefaults.initialFetchTimeout },
});
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
    expect(bootstrap.dynamic_resources).toEqual(adsDynamicResources('xds_cluster'));
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

describe('the ADS bootstrap for the push tier in AWS (pushTier: mutual TLS, SDS over the signed REST tier)', () => {
  const settings = { ...defaultRenderSettings, meshName: 'prod.example' };
  const aws = {
    ...base,
    controlPlaneUrl: 'https://abcdefghijklmnop.lambda-url.eu-west-1.on.aws',
    signing: { region: 'eu-west-1', serviceName: 'lambda' as const },
    pushTier: { host: 'push-0123.elb.eu-west-1.amazonaws.com' },
  };
  const restSds = { ...restConfigSource(settings) };
  type WithClusters = Bootstrap & { cluster_manager?: unknown };

  it('decodes strictly as a Bootstrap, with and without the local cluster, on another port', () => {
    conformant(envoyBootstrap(aws, settings));
    conformant(envoyBootstrap({ ...aws, pushTier: { host: aws.pushTier.host, port: 8443 }, localCluster: localServiceCluster(orders, settings) }, settings));
  });

  it('keeps the signed REST cluster exactly as the REST bootstrap has it, and opens the stream on its own cluster', () => {
    const bootstrap = envoyBootstrap(aws, settings) as unknown as WithClusters;
    const { pushTier: _p, ...restOptions } = aws;
    const rest = envoyBootstrap({ ...restOptions, tier: 'rest' }, settings) as unknown as WithClusters;
    expect(bootstrap.static_resources.clusters.map((c) => c.name)).toEqual(['xds_cluster', pushTierClusterName]);
    expect(bootstrap.static_resources.clusters[0]).toEqual(rest.static_resources.clusters[0]);
    expect(bootstrap.dynamic_resources).toEqual(adsDynamicResources(pushTierClusterName));
  });

  it('reaches the load balancer on 443 over HTTP/2 and mutual TLS: the service certificate and trust bundle over REST SDS, the server pinned to _xds', () => {
    const cluster = (envoyBootstrap(aws, settings) as unknown as WithClusters).static_resources.clusters[1]!;
    expect(cluster).toEqual({
      name: pushTierClusterName,
      type: 'LOGICAL_DNS',
      dns_lookup_family: 'V4_PREFERRED',
      connect_timeout: '3s',
      load_assignment: {
        cluster_name: pushTierClusterName,
        endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: aws.pushTier.host, port_value: 443 } } } }] }],
      },
      typed_extension_protocol_options: {
        [httpOptions]: {
          '@type': `type.googleapis.com/${httpOptions}`,
          explicit_http_config: { http2_protocol_options: { connection_keepalive: { interval: '30s', timeout: '10s' } } },
        },
      },
      transport_socket: {
        name: 'envoy.transport_sockets.tls',
        typed_config: {
          '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
          sni: aws.pushTier.host,
          common_tls_context: {
            alpn_protocols: ['h2'],
            tls_certificate_sds_secret_configs: [{ name: names.serviceCertificateSecret('orders'), sds_config: restSds }],
            combined_validation_context: {
              default_validation_context: {
                match_typed_subject_alt_names: [{ san_type: 'URI', matcher: { exact: 'spiffe://prod.example/service/_xds' } }],
              },
              validation_context_sds_secret_config: { name: names.trustBundleSecret, sds_config: restSds },
            },
          },
        },
      },
    });
  });

  it('fetches its secrets with the very config source its served TLS contexts use, so Envoy shares one subscription per secret', () => {
    const rendered = renderSnapshot(world(spec({ name: 'orders', dependencies: [fullPolicy('payments', 'http', 9001)] }), [spec({ name: 'payments' })], ['web']), settings);
    const served = JSON.stringify(adsSnapshotForms(rendered, snapshotVersions(rendered), { sds: 'rest' }).resources);
    const socket = JSON.stringify((envoyBootstrap(aws, settings) as unknown as WithClusters).static_resources.clusters[1]!.transport_socket);
    const sdsConfigs = (text: string) => [...text.matchAll(/"name":"([^"]+)","sds_config":(\{"api_config_source":\{[^}]*\},"resource_api_version":"V3"\})/g)].map((m) => [m[1], m[2]]);
    expect(sdsConfigs(socket)).toHaveLength(2);
    expect(sdsConfigs(served)).toEqual(expect.arrayContaining(sdsConfigs(socket)));
  });

  it('says it is on ADS with its SDS on REST, which selects the forms that keep SDS on REST', () => {
    const node = (envoyBootstrap(aws, settings) as unknown as Bootstrap).node;
    expect(node.metadata).toEqual({ 'mesh.service': 'orders', 'mesh.xds': 'ads', 'mesh.sds': 'rest' });
    expect({ ads: isAdsNode(node), forms: adsFormsOf(node) }).toEqual({ ads: true, forms: 'ads-rest-sds' });
  });

  it('takes the local cluster’s endpoints over ADS', () => {
    const bootstrap = envoyBootstrap({ ...aws, localCluster: localServiceCluster(orders, settings) }, settings) as unknown as WithClusters;
    expect(bootstrap.static_resources.clusters[2]).toMatchObject({ name: 'orders', eds_cluster_config: { eds_config: { ads: {}, resource_api_version: 'V3' } } });
  });

  it.each([
    ['a bearer token', { bearerToken: 't0k' }, /mutual TLS/],
    ['a REST tier', { tier: 'rest' as const }, /pushTier is for tier grpc/],
    ['a host with a scheme', { pushTier: { host: 'https://push.example' } }, /host name/],
    ['a port out of range', { pushTier: { host: 'push.example', port: 70000 } }, /port 70000/],
  ])('refuses %s', (_name, options, message) => {
    expect(() => envoyBootstrap({ ...aws, ...options }, settings)).toThrow(BootstrapError);
    expect(() => envoyBootstrap({ ...aws, ...options }, settings)).toThrow(message);
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
