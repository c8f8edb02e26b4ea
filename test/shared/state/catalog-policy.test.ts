import { ValidationError } from '../../../shared/errors';
import { ServiceSpec } from '../../../shared/model/spec';
import { parseServiceSpec } from '../../../shared/model/parse-spec';
import { defaultRenderSettings } from '../../../shared/render/settings';
import { analyzeDependents, analyzeSpec, declareService } from '../../../shared/state/catalog';
import { useDynalite } from '../../support/dynamo';

const svc = (name: string, protocol: string, extra: Record<string, unknown> = {}): ServiceSpec =>
  parseServiceSpec({ name, inboundPort: 15000, appPort: 8080, protocol, ...extra });

const catalog = new Map([
  ['orders', svc('orders', 'http')],
  ['payments', svc('payments', 'grpc')],
  ['ledger', svc('ledger', 'tcp')],
]);

const caller = (dep: Record<string, unknown>) => svc('web', 'http', { dependencies: [{ localPort: 7000, ...dep }] });

describe('analyzeSpec', () => {
  it.each([
    ['an undeclared dependency', { service: 'stock' }, [{ path: 'dependencies.0.service', message: '"stock" is not a declared service' }]],
    [
      'HTTP-only policy on a TCP dependency',
      { service: 'ledger', timeoutMs: 1000, retries: { numRetries: 1 }, headerRoutes: [{ header: 'x-a', subset: { v: '1' } }] },
      [
        { path: 'dependencies.0.timeoutMs', message: 'a request timeout needs HTTP; "ledger" speaks tcp' },
        { path: 'dependencies.0.retries', message: 'request retries need HTTP; "ledger" speaks tcp' },
        { path: 'dependencies.0.headerRoutes', message: 'header routes need HTTP; "ledger" speaks tcp' },
      ],
    ],
    [
      'an HTTP health-check path on a TCP dependency',
      { service: 'ledger', healthCheck: { path: '/healthz' } },
      [{ path: 'dependencies.0.healthCheck.path', message: 'TCP dependencies are checked by connecting; "ledger" speaks tcp' }],
    ],
    [
      'a gRPC retry condition on an HTTP dependency',
      { service: 'orders', retries: { retryOn: ['5xx', 'unavailable'] } },
      [{ path: 'dependencies.0.retries.retryOn.1', message: '"unavailable" is a gRPC retry condition; "orders" speaks http' }],
    ],
    [
      'a gRPC health service on an HTTP dependency',
      { service: 'orders', healthCheck: { grpcServiceName: 'x' } },
      [{ path: 'dependencies.0.healthCheck.grpcServiceName', message: 'applies to gRPC health checks only; "orders" speaks http' }],
    ],
    [
      'an HTTP health-check path on a gRPC dependency',
      { service: 'payments', healthCheck: { path: '/healthz' } },
      [
        {
          path: 'dependencies.0.healthCheck.path',
          message: 'gRPC dependencies are checked with grpc.health.v1 (set grpcServiceName); "payments" speaks grpc',
        },
      ],
    ],
  ])('reports %s with the field path', (_what, dep, problems) => {
    expect(analyzeSpec(caller(dep), catalog)).toEqual(problems);
  });

  it.each([
    ['gRPC retry conditions on a gRPC dependency', { service: 'payments', retries: { retryOn: ['unavailable', 'resource-exhausted'] } }],
    ['a connect-only health check and a split on a TCP dependency', { service: 'ledger', healthCheck: {}, split: { subsets: [{ labels: { v: '1' }, weight: 100 }] } }],
    ['every HTTP option on an HTTP dependency', { service: 'orders', timeoutMs: 100, retries: { retryOn: ['5xx'] }, healthCheck: { path: '/h' } }],
  ])('accepts %s', (_what, dep) => {
    expect(analyzeSpec(caller(dep), catalog)).toEqual([]);
  });
});

describe('analyzeDependents', () => {
  it('reports callers whose policy a protocol change would strand, on the protocol field', () => {
    const web = caller({ service: 'orders', retries: { numRetries: 1 } });
    expect(analyzeDependents(svc('orders', 'tcp'), [web])).toEqual([
      { path: 'protocol', message: 'service "web" calls this one with dependencies.0.retries: request retries need HTTP; "orders" speaks tcp' },
    ]);
    expect(analyzeDependents(svc('orders', 'http2'), [web])).toEqual([]);
  });
});

describe('declareService with traffic policy', () => {
  const { newStore } = useDynalite();
  const settings = defaultRenderSettings;
  const spec = (name: string, protocol: string, extra: Record<string, unknown> = {}) => ({
    name,
    inboundPort: 15000,
    appPort: 8080,
    protocol,
    ...extra,
  });

  it('rejects a spec whose policy its dependency cannot carry out, and writes nothing', async () => {
    const store = await newStore();
    await declareService(store, spec('ledger', 'tcp'), settings);
    const attempt = declareService(
      store,
      spec('web', 'http', { dependencies: [{ service: 'ledger', localPort: 7000, retries: { numRetries: 1 } }] }),
      settings,
    );
    await expect(attempt).rejects.toThrow(ValidationError);
    await expect(attempt).rejects.toThrow('dependencies.0.retries: request retries need HTTP; "ledger" speaks tcp');
    expect(await store.getService('web')).toBeUndefined();
    expect(await store.getSnapshot('web')).toBeUndefined();
  });

  it('rejects a protocol change that strands a caller’s policy, and keeps the old spec', async () => {
    const store = await newStore();
    await declareService(store, spec('orders', 'http'), settings);
    await declareService(store, spec('web', 'http', { dependencies: [{ service: 'orders', localPort: 7000, timeoutMs: 500 }] }), settings);
    await expect(declareService(store, spec('orders', 'tcp'), settings)).rejects.toThrow(
      'protocol: service "web" calls this one with dependencies.0.timeoutMs: a request timeout needs HTTP; "orders" speaks tcp',
    );
    expect((await store.getService('orders'))?.spec.protocol).toBe('http');
  });

  it('accepts a dependency cycle: each hop renders on its own', async () => {
    const store = await newStore();
    await declareService(store, spec('a', 'http'), settings);
    await declareService(store, spec('b', 'http', { dependencies: [{ service: 'a', localPort: 7000 }] }), settings);
    const result = await declareService(store, spec('a', 'http', { dependencies: [{ service: 'b', localPort: 7000 }] }), settings);
    expect(result.rendered).toEqual(['a', 'b']);
  });

  it('stores a snapshot whose route carries the declared retries and timeouts', async () => {
    const store = await newStore();
    await declareService(store, spec('orders', 'http'), settings);
    await declareService(
      store,
      spec('web', 'http', {
        dependencies: [{ service: 'orders', localPort: 7000, timeoutMs: 1_500, retries: { numRetries: 4, perTryTimeoutMs: 500 } }],
      }),
      settings,
    );
    const snapshot = await store.getSnapshot('web');
    const route = snapshot?.resources.routes?.find((r) => r.name === 'outbound_orders') as
      | { virtual_hosts: { routes: { route: Record<string, unknown> }[] }[] }
      | undefined;
    expect(route?.virtual_hosts[0]?.routes[0]?.route).toMatchObject({
      cluster: 'orders',
      timeout: '1.5s',
      retry_policy: { num_retries: 4, per_try_timeout: '0.5s' },
    });
  });
});
