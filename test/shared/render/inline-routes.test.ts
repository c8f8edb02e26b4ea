import { renderSnapshot } from '../../../shared/render/snapshot';
import { inlineRoutes } from '../../../shared/render/inline-routes';
import { envoyBootstrap, ldsRefreshDelayOf, bootstrapDefaults } from '../../../shared/bootstrap/envoy-bootstrap';
import { InconsistentSnapshotError } from '../../../shared/errors';
import { EnvoyResource } from '../../../shared/envoy/resources';
import { fullPolicy, settings, spec, world } from './fixtures';

const payments = spec({ name: 'payments', protocol: 'http', inboundPort: 15000, appPort: 8080 });
const ledger = spec({ name: 'ledger', protocol: 'tcp', inboundPort: 15001, appPort: 8081 });
const orders = spec({
  name: 'orders',
  protocol: 'http',
  dependencies: [fullPolicy('payments', 'http', 7001), { service: 'ledger', localPort: 7002 }],
});
const inline = { ...settings, routeDelivery: 'inline' as const };

/** hcmOf is the HTTP connection manager's typed config in a listener, if it has one. */
function hcmOf(listener: EnvoyResource): Record<string, unknown> | undefined {
  const chains = listener.filter_chains as { filters: { name: string; typed_config: Record<string, unknown> }[] }[];
  return chains[0]!.filters.find((f) => f.name === 'envoy.filters.network.http_connection_manager')?.typed_config;
}

describe('routes inline in listeners (routeDelivery: inline)', () => {
  const overRds = renderSnapshot(world(orders, [payments, ledger], ['web']), settings);
  const inlined = renderSnapshot(world(orders, [payments, ledger], ['web']), inline);

  it('puts each route configuration, as RDS would serve it, into the listener that named it, and serves no RDS', () => {
    expect(overRds.routes!.map((r) => r.name)).toEqual(['inbound', 'outbound_payments']);
    expect(inlined.routes).toEqual([]);
    const routeByName = new Map(overRds.routes!.map(({ '@type': _t, ...body }) => [body.name, body]));
    const httpListeners = inlined.listeners!.filter((l) => hcmOf(l) !== undefined);
    expect(httpListeners.map((l) => l.name)).toEqual(['inbound', 'outbound_payments']);
    for (const listener of httpListeners) {
      const hcm = hcmOf(listener)!;
      expect(hcm.rds).toBeUndefined();
      const rdsName = (hcmOf(overRds.listeners!.find((l) => l.name === listener.name)!)!.rds as { route_config_name: string }).route_config_name;
      expect(hcm.route_config).toEqual(routeByName.get(rdsName));
    }
  });

  it('changes nothing else: the TCP listener and every cluster are as over RDS', () => {
    expect(inlined.clusters).toEqual(overRds.clusters);
    const tcp = (r: typeof overRds) => r.listeners!.find((l) => l.name === 'outbound_ledger');
    expect(tcp(inlined)).toEqual(tcp(overRds));
  });

  it('refuses a listener that names a route configuration the render lacks, naming it', () => {
    const broken = { ...overRds, routes: overRds.routes!.filter((r) => r.name !== 'outbound_payments') };
    expect(() => inlineRoutes(broken, 'orders')).toThrow(InconsistentSnapshotError);
    expect(() => inlineRoutes(broken, 'orders')).toThrow(/"outbound_payments"/);
  });

  it('polls LDS at the refresh delay in the generated bootstrap, so a route change arrives as soon as over RDS', () => {
    expect(ldsRefreshDelayOf(settings)).toBe(bootstrapDefaults.ldsRefreshDelay);
    expect(ldsRefreshDelayOf(inline)).toBe(inline.refreshDelay);
    const lds = (s: typeof settings) => {
      const b = envoyBootstrap({ service: 'orders', nodeId: 'orders-1', controlPlaneUrl: 'https://xds.example.com' }, s) as {
        dynamic_resources: { lds_config: { api_config_source: { refresh_delay: string } } };
      };
      return b.dynamic_resources.lds_config.api_config_source.refresh_delay;
    };
    expect([lds(settings), lds(inline)]).toEqual([bootstrapDefaults.ldsRefreshDelay, inline.refreshDelay]);
  });
});
