import { EnvoyResource } from '../../../shared/envoy/resources';
import { gatewayHealthListener } from '../../../shared/render/gateway-health';
import { renderSnapshot } from '../../../shared/render/snapshot';
import { assertConformant } from '../../support/envoy-schema';
import { settings, spec, world } from './fixtures';

type Route = { match: { prefix: string; grpc?: object }; direct_response: { status: number; body?: { inline_string: string } }; response_headers_to_add?: { header: { key: string; value: string } }[] };
type Hcm = { route_config: { virtual_hosts: { domains: string[]; routes: Route[] }[] }; http_filters: { name: string }[]; rds?: unknown };

const hcmOf = (listener: EnvoyResource) => (listener.filter_chains as { filters: { typed_config: Hcm }[] }[])[0]!.filters[0]!.typed_config;

describe("a gateway's health listener", () => {
  const web = spec({ name: 'web' });
  const edge = spec({ name: 'edge', kind: 'gateway', listeners: [{ port: 8443, protocol: 'grpc' }], routes: [{ pathPrefix: '/', service: 'web' }] });
  const rendered = renderSnapshot(world(edge, [web]), settings);
  const health = (rendered.listeners ?? []).find((l) => l.name === 'gateway_health')!;

  it('listens on the health port on every interface, beside the declared listeners', () => {
    expect((rendered.listeners ?? []).map((l) => l.name)).toEqual(['gateway_8443', 'gateway_health']);
    expect(health.address).toEqual({ socket_address: { address: '0.0.0.0', port_value: 15021 } });
    expect(health.filter_chains).not.toMatchObject([{ transport_socket: expect.anything() }]);
  });

  it('answers from Envoy itself, inline (no RDS, no cluster): gRPC checks with grpc-status 0, any other request with 200', () => {
    const hcm = hcmOf(health);
    expect(hcm.rds).toBeUndefined();
    const [host] = hcm.route_config.virtual_hosts;
    expect(host!.domains).toEqual(['*']);
    expect(host!.routes.map((r) => [r.match, r.direct_response.status, (r.response_headers_to_add ?? []).map((h) => `${h.header.key}: ${h.header.value}`)])).toEqual([
      [{ prefix: '/', grpc: {} }, 200, ['content-type: application/grpc', 'grpc-status: 0']],
      [{ prefix: '/' }, 200, []],
    ]);
    expect(JSON.stringify(health)).not.toContain('"cluster"');
  });

  it('is the same for every gateway, so it never changes when routes do', () => {
    const other = spec({ name: 'other', kind: 'gateway', listeners: [{ port: 80, protocol: 'http' }], routes: [{ exactPath: '/a', service: 'web' }] });
    expect((renderSnapshot(world(other, [web]), settings).listeners ?? []).find((l) => l.name === 'gateway_health')).toEqual(gatewayHealthListener());
  });

  it('is not rendered for mesh services', () => {
    expect(JSON.stringify(renderSnapshot(world(web, []), settings))).not.toContain('gateway_health');
  });

  it('decodes strictly against Envoy’s protos', () => {
    assertConformant(health);
  });
});
