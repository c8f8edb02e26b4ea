import { discoveryRequestBody, envoyNodeExtensions, envoyRequestNode, pollSizes } from '../../bench/request-size';
import { declareService } from '../../shared/state/catalog';
import { defaultRenderSettings } from '../../shared/render/settings';
import { handleDiscovery } from '../../shared/api/discovery';
import { SnapshotCache } from '../../shared/xds/snapshot-cache';
import { decodeStrict, validateRules } from '../support/envoy-schema';
import { useDynalite } from '../support/dynamo';

const dynalite = useDynalite();

describe('the poll Envoy 1.36 sends, as the cost model measures it', () => {
  it('is a DiscoveryRequest by Envoy\u2019s own protos, node extensions and build version included', () => {
    const body = JSON.parse(discoveryRequestBody('endpoints', envoyRequestNode(), ['payments-service']));
    const message = decodeStrict('type.googleapis.com/envoy.service.discovery.v3.DiscoveryRequest', body);
    expect(validateRules(message)).toEqual([]);
  });

  it('lists one extension entry per category of each extension, the Linux-only build\u2019s', () => {
    const extensions = envoyNodeExtensions();
    expect(extensions).toContainEqual({
      name: 'envoy.filters.http.aws_request_signing',
      category: 'envoy.filters.http.upstream',
      type_urls: [
        'envoy.extensions.filters.http.aws_request_signing.v3.AwsRequestSigning',
        'envoy.extensions.filters.http.aws_request_signing.v3.AwsRequestSigningPerRoute',
      ],
    });
    expect(extensions.filter((e) => e.name === 'envoy.transport_sockets.tls').map((e) => e.category)).toEqual([
      'envoy.transport_sockets.downstream',
      'envoy.transport_sockets.upstream',
    ]);
    expect(extensions.some((e) => e.name === 'envoy.network.dns_resolver.apple')).toBe(false);
  });

  it('weighs tens of KB, twenty times the minimal node the benchmarks poll with', () => {
    const sizes = pollSizes();
    expect(sizes.extensions).toBe(envoyNodeExtensions().length);
    expect(sizes.edsBodyBytes).toBeGreaterThan(50_000);
    expect(sizes.pollWireBytes / sizes.minimalPollWireBytes).toBeGreaterThan(20);
  });

  it('is answered by the xds core: the full node is tolerated and within the body limit', async () => {
    const store = await dynalite.newStore();
    await declareService(store, { name: 'orders-service', inboundPort: 15000, appPort: 8080, protocol: 'http' }, defaultRenderSettings);
    const answer = await handleDiscovery(
      { cache: new SnapshotCache(store, { ttlMs: 0 }) },
      { method: 'POST', path: '/v3/discovery:clusters', query: {}, headers: {}, body: discoveryRequestBody('clusters', { ...envoyRequestNode() }).replace(/"version_info":"[^"]*",/, '') },
    );
    expect(answer.status).toBe(200);
  });
});
