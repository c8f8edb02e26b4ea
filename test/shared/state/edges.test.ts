import { ValidationError } from '../../../shared/errors';
import { parseServiceSpec } from '../../../shared/model/parse-spec';
import { ServiceSpec } from '../../../shared/model/spec';
import { contentVersion } from '../../../shared/envoy/version';
import { defaultRenderSettings } from '../../../shared/render/settings';
import { analyzeSpec, declareService } from '../../../shared/state/catalog';
import { MeshStore } from '../../../shared/store/mesh-store';
import { useDynalite } from '../../support/dynamo';

const settings = defaultRenderSettings;
const spec = (name: string, extra: Record<string, unknown> = {}) => ({ name, inboundPort: 15000, appPort: 8080, protocol: 'http', ...extra });
const gateway = (routes: Record<string, unknown>[]) => ({ name: 'edge', kind: 'gateway', listeners: [{ port: 8443, protocol: 'http' }], routes });
const external = { name: 'github', kind: 'external', hosts: ['api.github.com'], port: 443, tls: true, protocol: 'http' };
const catalog = (...inputs: Record<string, unknown>[]) => new Map<string, ServiceSpec>(inputs.map((i) => [String(i.name), parseServiceSpec(i)]));

describe('the edges checked against the catalog', () => {
  const declared = catalog(spec('web'), spec('ledger', { protocol: 'tcp' }), spec('open', { mtls: { mode: 'off' } }), external, gateway([{ pathPrefix: '/', service: 'web' }]));

  it.each([
    ['a route to an undeclared service', gateway([{ pathPrefix: '/', service: 'ghost' }]), [['routes.0.service', '"ghost" is not a declared service']]],
    ['a route to a TCP service', gateway([{ pathPrefix: '/', service: 'ledger' }]), [['routes.0.service', '"ledger" speaks tcp; gateway routes are HTTP']]],
    ['a route to an external service', gateway([{ pathPrefix: '/', service: 'github' }]), [['routes.0.service', '"github" is kind "external": a gateway routes to mesh services']]],
    ['a route from a gateway without mTLS to a strict service', { ...gateway([{ pathPrefix: '/', service: 'web' }]), mtls: { mode: 'off' } }, [['routes.0.service', '"web" requires mTLS, and this gateway has mTLS off: it has no certificate to present']]],
    ['a dependency on a gateway', spec('orders', { dependencies: [{ service: 'edge', localPort: 7000 }] }), [['dependencies.0.service', '"edge" is a gateway: it takes traffic from outside the mesh, not from services']]],
    ['a split on an external service', spec('orders', { dependencies: [{ service: 'github', localPort: 7000, split: { subsets: [{ labels: { v: '1' }, weight: 100 }] } }] }), [['dependencies.0.split', '"github" is an external service, reached by DNS: split needs mesh endpoints']]],
    ['a caller without mTLS calling a strict service', spec('orders', { mtls: { mode: 'off' }, dependencies: [{ service: 'web', localPort: 7000 }] }), [['dependencies.0.service', '"web" requires mTLS, and this service has mtls.enabled false: it has no certificate to present']]],
  ])('rejects %s', (_, input, expected) => {
    expect(analyzeSpec(parseServiceSpec(input), declared).map((p) => [p.path, p.message])).toEqual(expected);
  });

  it.each([
    ['a gateway routing to HTTP services', gateway([{ pathPrefix: '/', service: 'web' }, { exactPath: '/o', service: 'open' }])],
    ['a service calling an external one', spec('orders', { dependencies: [{ service: 'github', localPort: 7000, timeoutMs: 2_000, retries: { numRetries: 1 } }] })],
    ['a caller without mTLS calling a permissive service', spec('orders', { mtls: { mode: 'off' }, dependencies: [{ service: 'migrating', localPort: 7000 }] })],
  ])('accepts %s', (_, input) => {
    const withPermissive = new Map([...declared, ['migrating', parseServiceSpec(spec('migrating', { mtls: { mode: 'permissive' } }))]]);
    expect(analyzeSpec(parseServiceSpec(input), withPermissive)).toEqual([]);
  });
});

type Rules = { rules: { policies: Record<string, { principals: { authenticated: { principal_name: { exact: string } } }[] }> } };
async function allowedOf(store: MeshStore, service: string): Promise<string[]> {
  const route = (await store.getSnapshot(service))!.resources.routes!.find((r) => r.name === 'inbound') as {
    virtual_hosts: { typed_per_filter_config: Record<string, { rbac: Rules }> }[];
  };
  const { rules } = route.virtual_hosts[0]!.typed_per_filter_config['envoy.filters.http.rbac']!.rbac;
  return Object.values(rules.policies).flatMap((p) => p.principals.map((x) => x.authenticated.principal_name.exact));
}

describe('declaring the edges', () => {
  const { newStore } = useDynalite();

  it('admits a gateway to the services it routes to, and drops it when the route goes, without touching their listeners', async () => {
    const store = await newStore();
    await declareService(store, spec('web'), settings);
    await declareService(store, spec('orders', { dependencies: [{ service: 'web', localPort: 7000 }] }), settings);
    const inboundOf = async () => (await store.getSnapshot('web'))!.resources.listeners!.find((l) => l.name === 'inbound')!;
    const listenerBefore = contentVersion(await inboundOf());
    const declared = await declareService(store, gateway([{ pathPrefix: '/', service: 'web' }]), settings);
    expect(declared.rendered).toEqual(['edge', 'web']);
    expect(await allowedOf(store, 'web')).toEqual(['spiffe://mesh.local/service/edge', 'spiffe://mesh.local/service/orders']);
    expect(contentVersion(await inboundOf())).toBe(listenerBefore);
    expect(await store.listDependents('web')).toEqual(['edge', 'orders']);
    await declareService(store, spec('api'), settings);
    await declareService(store, gateway([{ pathPrefix: '/', service: 'api' }]), settings);
    expect(await allowedOf(store, 'web')).toEqual(['spiffe://mesh.local/service/orders']);
    expect(contentVersion(await inboundOf())).toBe(listenerBefore);
  });

  it('renders a caller of an external service with a DNS cluster, and the external service with nothing', async () => {
    const store = await newStore();
    await declareService(store, external, settings);
    await declareService(store, spec('orders', { dependencies: [{ service: 'github', localPort: 7000 }] }), settings);
    expect((await store.getSnapshot('orders'))!.resources.clusters!.find((c) => c.name === 'github')).toMatchObject({ type: 'LOGICAL_DNS' });
    expect((await store.getSnapshot('github'))!.resources).toEqual({ listeners: [], routes: [], clusters: [] });
  });

  it('turns mTLS on in two steps: permissive admits a caller without mTLS, strict is refused while it still has one', async () => {
    const store = await newStore();
    await declareService(store, spec('payments', { mtls: { mode: 'off' } }), settings);
    await declareService(store, spec('legacy', { mtls: { mode: 'off' }, dependencies: [{ service: 'payments', localPort: 7000 }] }), settings);
    await declareService(store, spec('payments', { mtls: { mode: 'permissive' } }), settings);
    const legacyCluster = (await store.getSnapshot('legacy'))!.resources.clusters!.find((c) => c.name === 'payments')!;
    expect(legacyCluster).not.toHaveProperty('transport_socket');
    const error = await declareService(store, spec('payments', { mtls: { mode: 'strict' } }), settings).catch((e: unknown) => e);
    expect((error as ValidationError).problems).toEqual([
      { path: 'mtls.enabled', message: 'service "legacy" calls this one (dependencies.0) and has mtls.enabled false: it has no certificate to present' },
    ]);
    await declareService(store, spec('legacy', { dependencies: [{ service: 'payments', localPort: 7000 }] }), settings);
    await declareService(store, spec('payments', { mtls: { mode: 'strict' } }), settings);
    expect((await store.getSnapshot('legacy'))!.resources.clusters!.find((c) => c.name === 'payments')).toHaveProperty('transport_socket');
  });

  it('refuses a gateway route to an undeclared service and writes nothing', async () => {
    const store = await newStore();
    const error = await declareService(store, gateway([{ pathPrefix: '/', service: 'web' }]), settings).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).problems).toEqual([{ path: 'routes.0.service', message: '"web" is not a declared service' }]);
    expect(await store.getService('edge')).toBeUndefined();
  });
});
