import { fromJson, toBinary, type JsonValue } from '@bufbuild/protobuf';
import { envoyCodec, envoyRegistry } from '../../server/envoy-codec';
import { typeUrls } from '../../shared/envoy/resources';

describe('envoyCodec', () => {
  const codec = envoyCodec();

  it('round-trips a DiscoveryResponse whose resources are real protobuf Anys', () => {
    const cluster = {
      '@type': typeUrls.clusters,
      name: 'payments',
      type: 'EDS',
      eds_cluster_config: { eds_config: { ads: {}, resource_api_version: 'V3' }, service_name: 'payments' },
      connect_timeout: '1s',
    };
    const bytes = codec.encodeResponse({ version_info: 'v1', resources: [cluster], type_url: typeUrls.clusters, nonce: 'n1' });
    expect(bytes.length).toBeGreaterThan(0);
    expect(codec.decodeResponse(bytes)).toEqual({ version_info: 'v1', resources: [cluster], type_url: typeUrls.clusters, nonce: 'n1' });
  });

  it('encodes the shared resources of many responses once, into the bytes a whole-message encoding gives', () => {
    const registry = envoyRegistry();
    const desc = registry.getMessage('envoy.service.discovery.v3.DiscoveryResponse')!;
    const resources = [
      { '@type': typeUrls.clusters, name: 'payments', type: 'EDS', eds_cluster_config: { eds_config: { ads: {}, resource_api_version: 'V3' } }, connect_timeout: '1s' },
      { '@type': typeUrls.clusters, name: 'orders', type: 'STATIC', connect_timeout: '2s' },
    ];
    for (const nonce of ['n1', 'n2']) {
      const json = { version_info: 'v1', resources, type_url: typeUrls.clusters, nonce };
      const whole = toBinary(desc, fromJson(desc, json as JsonValue, { registry }));
      expect(Buffer.from(codec.encodeResponse(json)).equals(Buffer.from(whole))).toBe(true);
    }
    const empty = { version_info: '', resources: [], type_url: typeUrls.endpoints, nonce: 'n3' };
    expect(Buffer.from(codec.encodeResponse(empty)).equals(Buffer.from(toBinary(desc, fromJson(desc, empty as JsonValue, { registry }))))).toBe(true);
  });

  it('refuses a resource with a field Envoy does not define', () => {
    const bad = { '@type': typeUrls.clusters, name: 'payments', connect_timeout_ms: 5 };
    expect(() => codec.encodeResponse({ version_info: 'v1', resources: [bad], type_url: typeUrls.clusters })).toThrow(/connect_timeout_ms/);
  });

  it('reads a DiscoveryRequest with Envoy field names, node metadata and error_detail', () => {
    const request = {
      version_info: 'v0',
      node: { id: 'orders-1', cluster: 'orders', metadata: { 'mesh.proxyless': true }, user_agent_name: 'gRPC Node Pure JS' },
      resource_names: ['payments'],
      type_url: typeUrls.listeners,
      response_nonce: 'n1',
      error_detail: { code: 3, message: 'bad listener' },
    };
    expect(codec.decodeRequest(codec.encodeRequest(request))).toEqual(request);
  });
});
