import { InconsistentSnapshotError, ValidationError } from '../../../shared/errors';
import { parseServiceSpec } from '../../../shared/model/parse-spec';
import { EnvoyResource } from '../../../shared/envoy/resources';
import { renderProxylessSnapshot } from '../../../shared/render/proxyless';
import { renderSnapshot } from '../../../shared/render/snapshot';
import { interceptionPolicy, serviceHostnames } from '../../../shared/render/transparent';
import { analyzeSpec } from '../../../shared/state/catalog';
import { settings, spec, world } from './fixtures';

type Chain = { name: string; filter_chain_match?: { destination_port: number }; filters: { name: string; typed_config: Record<string, unknown> }[] };

const payments = spec({ name: 'payments', appPort: 8080, interception: { hostnames: ['payments.prod.local'] } });
const inventory = spec({ name: 'inventory', protocol: 'grpc', appPort: 8080 });
const ledger = spec({ name: 'ledger', protocol: 'tcp', appPort: 5432 });
const orders = (interception: Record<string, unknown> = { mode: 'transparent' }) =>
  spec({
    name: 'orders',
    interception,
    dependencies: [
      { service: 'payments', localPort: 9001, timeoutMs: 2_000 },
      { service: 'inventory', localPort: 9002 },
      { service: 'ledger', localPort: 9003 },
    ],
  });
const deps = [payments, inventory, ledger];

const byName = (list: readonly EnvoyResource[] | undefined, name: string) => (list ?? []).find((r) => r.name === name);

describe('transparent mode', () => {
  const rendered = renderSnapshot(world(orders(), deps), settings);
  const egress = byName(rendered.listeners, 'transparent_outbound')!;
  const chains = egress.filter_chains as Chain[];

  it('listens on the egress port on loopback, restoring each connection’s original destination', () => {
    expect(egress.address).toEqual({ socket_address: { address: '127.0.0.1', port_value: 15001 } });
    expect(egress.listener_filters).toEqual([
      { name: 'envoy.filters.listener.original_dst', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.listener.original_dst.v3.OriginalDst' } },
    ]);
  });

  it('picks a filter chain by destination port: the loop guard, each TCP dependency, one HTTP chain per port HTTP dependencies share', () => {
    expect(chains.map((c) => [c.name, c.filter_chain_match?.destination_port, c.filters.map((f) => f.typed_config.cluster ?? f.name)])).toEqual([
      ['loop_guard', 15001, ['transparent_blackhole']],
      ['tcp_ledger', 5432, ['ledger']],
      ['http_8080', 8080, ['envoy.filters.network.http_connection_manager']],
    ]);
    const hcm = chains[2]!.filters[0]!.typed_config as { rds: { route_config_name: string } };
    expect(hcm.rds.route_config_name).toBe('transparent_outbound');
  });

  it('routes HTTP by Host to the dependency whose name matches, with the same routes as its localhost listener', () => {
    const route = byName(rendered.routes, 'transparent_outbound')!;
    const hosts = route.virtual_hosts as { name: string; domains: string[]; routes: unknown[] }[];
    expect(hosts.map((h) => [h.name, h.domains])).toEqual([
      ['inventory', ['inventory.mesh.internal', 'inventory.mesh.internal:8080']],
      ['payments', ['payments.mesh.internal', 'payments.mesh.internal:8080', 'payments.prod.local', 'payments.prod.local:8080']],
      ['transparent_passthrough', ['*']],
    ]);
    const localhostRoute = byName(rendered.routes, 'outbound_payments')!;
    expect(hosts[1]!.routes).toEqual((localhostRoute.virtual_hosts as { routes: unknown[] }[])[0]!.routes);
    expect(hosts[2]!.routes).toEqual([{ match: { prefix: '/' }, route: { cluster: 'transparent_passthrough', timeout: '0s' } }]);
  });

  it('passes other destinations through an ORIGINAL_DST cluster, or closes them when unknown destinations are denied', () => {
    expect((egress.default_filter_chain as Chain).filters[0]!.typed_config.cluster).toBe('transparent_passthrough');
    expect(byName(rendered.clusters, 'transparent_passthrough')).toMatchObject({ type: 'ORIGINAL_DST', lb_policy: 'CLUSTER_PROVIDED' });
    expect(byName(rendered.clusters, 'transparent_blackhole')).toEqual(expect.not.objectContaining({ load_assignment: expect.anything() }));

    const denied = renderSnapshot(world(orders({ mode: 'transparent', unknownDestinations: 'deny' }), deps), settings);
    const deniedEgress = byName(denied.listeners, 'transparent_outbound')!;
    expect(deniedEgress.default_filter_chain).toBeUndefined();
    expect(byName(denied.clusters, 'transparent_passthrough')).toBeUndefined();
    const hosts = byName(denied.routes, 'transparent_outbound')!.virtual_hosts as { name: string }[];
    expect(hosts.map((h) => h.name)).toEqual(['inventory', 'payments']);
  });

  it('keeps the localhost listeners, so a payload can move to names one call at a time', () => {
    expect((rendered.listeners ?? []).map((l) => l.name)).toEqual([
      'inbound',
      'outbound_inventory',
      'outbound_ledger',
      'outbound_payments',
      'transparent_outbound',
    ]);
  });

  it('adds nothing in localhost mode, declared or by default', () => {
    const implicit = renderSnapshot(world(orders({}), deps), settings);
    const explicit = renderSnapshot(world(orders({ mode: 'localhost' }), deps), settings);
    expect(explicit).toEqual(implicit);
    expect(JSON.stringify(implicit)).not.toContain('transparent');
  });

  it('leaves the forms served to proxyless gRPC clients unchanged', () => {
    expect(renderProxylessSnapshot(world(orders(), deps), settings)).toEqual(renderProxylessSnapshot(world(orders({}), deps), settings));
  });

  it('takes the service domain from the settings', () => {
    expect(serviceHostnames(payments, { ...settings, serviceDomain: 'svc.example' })).toEqual(['payments.svc.example', 'payments.prod.local']);
  });

  it('never ignores the metadata endpoints, whatever else the spec ignores', () => {
    expect(interceptionPolicy(orders({ mode: 'transparent', egressIgnoredIps: ['10.0.0.0/8'] })).egressIgnoredIps).toEqual([
      '169.254.169.254',
      '169.254.170.2',
      '10.0.0.0/8',
    ]);
  });

  it.each([
    [
      'a TCP dependency on a port another dependency uses',
      [payments, spec({ name: 'ledger', protocol: 'tcp', appPort: 8080 })],
      'dependencies "payments", "ledger" are all called at port 8080: a TCP dependency needs a port of its own (interception.port)',
    ],
    [
      'two dependencies answering to the same name',
      [payments, spec({ name: 'ledger', appPort: 9090, interception: { hostnames: ['payments.prod.local'] } })],
      'dependencies "payments" and "ledger" both answer to payments.prod.local',
    ],
    [
      'a dependency called at the egress port',
      [payments, spec({ name: 'ledger', protocol: 'tcp', appPort: 15001 })],
      'dependency "ledger" is called at port 15001, the egress port of "orders"',
    ],
  ])('refuses to render %s', (_, dependencies, problem) => {
    const caller = spec({
      name: 'orders',
      interception: { mode: 'transparent' },
      dependencies: dependencies.map((d, i) => ({ service: d.name, localPort: 9001 + i })),
    });
    let thrown: unknown;
    try {
      renderSnapshot(world(caller, dependencies), settings);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InconsistentSnapshotError);
    expect((thrown as InconsistentSnapshotError).problems).toEqual([problem]);
  });

  it('refuses a spec whose egress port clashes with a port it already uses, and names that are not DNS names', () => {
    const problemsOf = (input: Record<string, unknown>) => {
      try {
        parseServiceSpec({ name: 'orders', inboundPort: 15000, appPort: 8080, protocol: 'http', ...input });
        return [];
      } catch (error) {
        return (error as ValidationError).problems;
      }
    };
    expect(problemsOf({ interception: { mode: 'transparent', egressPort: 8080 } })).toEqual([{ path: 'interception.egressPort', message: '8080 clashes with appPort' }]);
    expect(problemsOf({ inboundPort: 15001, interception: { mode: 'transparent' } })).toEqual([
      { path: 'interception.egressPort (default)', message: '15001 clashes with inboundPort' },
    ]);
    expect(problemsOf({ inboundPort: 15001, interception: { mode: 'localhost' } })).toEqual([]);
    expect(problemsOf({ interception: { hostnames: ['Payments'] } }).map((p) => p.path)).toEqual(['interception.hostnames.0']);
    expect(problemsOf({ interception: { egressIgnoredIps: ['10.0.0.0/33'] } }).map((p) => p.path)).toEqual(['interception.egressIgnoredIps.0']);
  });

  it('is analyzed against the declared services before anything is stored (meshctl analyze, the management API)', () => {
    const clashing = spec({ name: 'ledger', protocol: 'tcp', appPort: 8080 });
    const caller = spec({ name: 'orders', interception: { mode: 'transparent' }, dependencies: [{ service: 'payments', localPort: 9001 }, { service: 'ledger', localPort: 9002 }] });
    const declared = new Map([payments, clashing].map((s) => [s.name, s]));
    expect(analyzeSpec(caller, declared)).toEqual([
      { path: 'interception', message: 'dependencies "payments", "ledger" are all called at port 8080: a TCP dependency needs a port of its own (interception.port)' },
    ]);
    expect(analyzeSpec(spec({ ...caller, interception: {} }), declared)).toEqual([]);
  });
});
