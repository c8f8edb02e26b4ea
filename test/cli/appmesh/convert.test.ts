import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { convertAppMesh, serviceNameOf } from '../../../cli/appmesh/convert';
import { readAppMesh } from '../../../cli/appmesh/read';
import { parseServiceSpec } from '../../../shared/model/parse-spec';

const fixture = (name: string) => JSON.parse(readFileSync(join(__dirname, 'fixtures', name), 'utf8')) as unknown;

/** The policy every caller of catalog gets: catalog-v1's listener, and the router's routes. */
const towardsCatalog = {
  service: 'catalog',
  healthCheck: { path: '/ping', intervalMs: 5000, timeoutMs: 2000, healthyThreshold: 2, unhealthyThreshold: 2 },
  outlierDetection: { consecutive5xx: 5, intervalMs: 10000, baseEjectionTimeMs: 30000, maxEjectionPercent: 50 },
  circuitBreakers: { maxConnections: 100, maxPendingRequests: 50 },
  split: {
    subsets: [
      { labels: { family: 'catalog-v1' }, weight: 90 },
      { labels: { family: 'catalog-v2' }, weight: 10 },
    ],
  },
  retries: { retryOn: ['5xx', 'gateway-error', 'connect-failure'], numRetries: 3, perTryTimeoutMs: 2000 },
  timeoutMs: 10000,
  // catalog-admin (path, method and a regex header) needs routes[], so the x-canary header route goes there too, after it by priority.
  routes: [
    { match: { exactPath: '/admin/reindex', method: 'POST', headers: [{ name: 'x-user', regex: '^ops-.*' }] }, subset: { family: 'catalog-v1' } },
    { match: { headers: [{ name: 'x-canary', exact: 'true' }] }, subset: { family: 'catalog-v2' } },
  ],
};

describe('importing App Mesh', () => {
  it('reads describe-* outputs: virtual services become services, router targets their versions, backends dependencies', () => {
    const { resources, skipped } = readAppMesh(fixture('describe-outputs.json'));
    expect(skipped).toEqual([]);
    const { specs } = convertAppMesh(resources);
    expect(specs).toEqual([
      {
        name: 'cart',
        inboundPort: 15000,
        appPort: 50051,
        protocol: 'grpc',
        dependencies: [{ ...towardsCatalog, localPort: 9001 }],
      },
      { name: 'catalog', inboundPort: 15000, appPort: 9080, protocol: 'http' },
      {
        name: 'frontend',
        inboundPort: 15000,
        appPort: 8080,
        protocol: 'http',
        inbound: { timeoutMs: 15000, idleTimeoutMs: 300000 },
        dependencies: [
          {
            service: 'cart',
            localPort: 9001,
            healthCheck: { grpcServiceName: '', intervalMs: 10000, timeoutMs: 2000, healthyThreshold: 2, unhealthyThreshold: 2 },
            circuitBreakers: { maxRequests: 200 },
          },
          { ...towardsCatalog, localPort: 9002 },
        ],
      },
    ]);
  });

  it('reports what has no equivalent, once, with where it was: gateways, discovery, TLS', () => {
    const { unsupported } = convertAppMesh(readAppMesh(fixture('describe-outputs.json')).resources);
    expect(unsupported.map((u) => u.at)).toEqual([
      '[1].virtualNode.spec.serviceDiscovery.dns',
      '[2].virtualNode.spec.listeners[0].tls',
      '[2].virtualNode.spec.serviceDiscovery.awsCloudMap',
      '[3].virtualNode.spec.listeners[0]',
      '[3].virtualNode.spec.serviceDiscovery.awsCloudMap',
      '[4].virtualNode.spec.backends[0].virtualService.clientPolicy',
      '[4].virtualNode.spec.serviceDiscovery.dns',
      '[12].virtualGateway',
    ]);
  });

  it('imports route matches onto routes[], and reports the matches that have no equivalent', () => {
    const router = { kind: 'virtualRouter', name: 'r', at: '[1]', spec: { listeners: [{ portMapping: { port: 8080, protocol: 'grpc' } }] } };
    const node = (name: string) => ({ kind: 'virtualNode', name, at: `[${name}]`, spec: { listeners: [{ portMapping: { port: 8080, protocol: 'grpc' } }] } });
    const route = (name: string, priority: number, grpcRoute: Record<string, unknown>) => ({ kind: 'route', name, at: `[${name}]`, router: 'r', spec: { priority, grpcRoute } });
    const to = (...nodes: [string, number][]) => ({ weightedTargets: nodes.map(([virtualNode, weight]) => ({ virtualNode, weight })) });
    const resources = [
      router,
      node('pay-a'),
      node('pay-b'),
      node('shop'),
      { kind: 'virtualService', name: 'pay.local', at: '[vs]', spec: { provider: { virtualRouter: { virtualRouterName: 'r' } } } },
      { ...node('shop'), spec: { ...node('shop').spec, backends: [{ virtualService: { virtualServiceName: 'pay.local' } }] } },
      route('refund', 1, {
        match: { serviceName: 'pay.v1.Payments', methodName: 'Refund', metadata: [{ name: 'X-Tier', invert: true, match: { prefix: 'free' } }] },
        action: to(['pay-b', 1]),
        timeout: { perRequest: { unit: 'ms', value: 700 } },
        retryPolicy: { grpcRetryEvents: ['unavailable'], maxRetries: 2 },
      }),
      route('service', 2, { match: { serviceName: 'pay.v1.Payments' }, action: to(['pay-a', 3], ['pay-b', 1]) }),
      route('suffix', 3, { match: { metadata: [{ name: 'x-a', match: { suffix: '.internal' } }] }, action: to(['pay-a', 1]) }),
      route('lookahead', 4, { match: { metadata: [{ name: 'x-a', match: { regex: '(?=a)b' } }] }, action: to(['pay-a', 1]) }),
      route('default', 5, { action: to(['pay-a', 1], ['pay-b', 1]) }),
    ] as unknown as Parameters<typeof convertAppMesh>[0];
    const { specs, unsupported } = convertAppMesh(resources);
    const dep = specs.find((s) => s.name === 'shop')!.dependencies![0]!;
    expect(dep.routes).toEqual([
      {
        match: { exactPath: '/pay.v1.Payments/Refund', headers: [{ name: 'x-tier', prefix: 'free', invert: true }] },
        subset: { family: 'pay-b' },
        timeoutMs: 700,
        retries: { retryOn: ['unavailable'], numRetries: 2 },
      },
      { match: { pathPrefix: '/pay.v1.Payments/' }, split: { total: 4, subsets: [{ labels: { family: 'pay-a' }, weight: 3 }, { labels: { family: 'pay-b' }, weight: 1 }] } },
    ]);
    expect(unsupported.filter((u) => u.at.includes('grpcRoute')).map((u) => u.what)).toEqual([
      expect.stringMatching(/^route "lookahead" not imported: header regex "\(\?=a\)b" \(is not an RE2 regex: lookahead/),
      'route "suffix" not imported: header suffix match has no equivalent',
    ]);
  });

  it('reads a CloudFormation template: PascalCase properties, Ref-named meshes, http2 and tcp listeners, weights not out of 100', () => {
    const { resources, skipped } = readAppMesh(fixture('cloudformation.json'));
    expect(skipped).toEqual([]);
    expect(resources.map((r) => `${r.kind} ${r.name}`)).toEqual([
      'mesh (template mesh)',
      'virtualNode checkout',
      'virtualNode payments-blue',
      'virtualNode payments-green',
      'virtualNode ledger',
      'virtualRouter payments-router',
      'route blue-green',
      'route refunds-get',
      'route testers',
      'virtualService payments.internal.example.com',
      'virtualService ledger.internal.example.com',
      'virtualService checkout.internal.example.com',
      'virtualGateway edge',
      'gatewayRoute to-checkout',
    ]);
    const { specs, unsupported, notes } = convertAppMesh(resources);
    expect(specs).toEqual([
      {
        name: 'checkout',
        inboundPort: 15000,
        appPort: 8080,
        protocol: 'http',
        dependencies: [
          { service: 'ledger', localPort: 9001, healthCheck: { intervalMs: 5000, timeoutMs: 2000, healthyThreshold: 2, unhealthyThreshold: 2 }, circuitBreakers: { maxConnections: 64 } },
          {
            service: 'payments',
            localPort: 9002,
            healthCheck: { path: '/healthz', intervalMs: 3000, timeoutMs: 1000, healthyThreshold: 3, unhealthyThreshold: 2 },
            circuitBreakers: { maxRequests: 512 },
            split: {
              total: 4,
              subsets: [
                { labels: { family: 'payments-blue' }, weight: 3 },
                { labels: { family: 'payments-green' }, weight: 1 },
              ],
            },
            retries: { retryOn: ['refused-stream', '5xx'], numRetries: 2, perTryTimeoutMs: 1500 },
            routes: [
              { match: { headers: [{ name: 'x-tester', exact: 'yes' }] }, subset: { family: 'payments-green' } },
              { match: { pathPrefix: '/refunds', method: 'GET' }, subset: { family: 'payments-green' } },
            ],
          },
        ],
      },
      { name: 'ledger', inboundPort: 15000, appPort: 5432, protocol: 'tcp', inbound: { idleTimeoutMs: 600000 } },
      { name: 'payments', inboundPort: 15000, appPort: 9090, protocol: 'http2', inbound: { timeoutMs: 5000 } },
      {
        name: 'edge',
        kind: 'gateway',
        inboundPort: 443,
        appPort: 443,
        protocol: 'http',
        listeners: [{ port: 443, protocol: 'http' }],
        routes: [{ pathPrefix: '/shop/', hostnames: ['shop.example.com'], service: 'checkout', rewritePrefix: '/' }],
      },
    ]);
    expect(unsupported.map((u) => u.at)).toEqual([
      'Resources.CheckoutNode.spec.serviceDiscovery.awsCloudMap',
      'Resources.LedgerNode.spec.serviceDiscovery.dns',
      'Resources.PaymentsBlueNode.spec.serviceDiscovery.dns',
      'Resources.PaymentsGreenNode.spec.listeners[0]',
      'Resources.PaymentsGreenNode.spec.serviceDiscovery.dns',
    ]);
    expect(notes).toContain('the endpoints of virtual node "payments-blue" are assumed to be ECS tasks of task definition family "payments-blue" (label family=payments-blue)');
    expect(notes).toContain('egressFilter ALLOW_ALL: set egress "allow-all" on the ControlPlane; it acts only where sidecars intercept traffic (docs/rendering.md, "Egress")');
    expect(notes).toContain('virtual gateway "edge" is gateway "edge": run it with MeshGateway (infra/gateway.ts)');
    // What the importer writes is what the API accepts.
    for (const s of specs) expect(() => parseServiceSpec(s)).not.toThrow();
  });

  it('skips list-* outputs, which name resources without their specs, saying why', () => {
    const list = { virtualNodes: [{ meshName: 'shop', virtualNodeName: 'cart', arn: 'arn:aws:appmesh:us-east-1:111122223333:mesh/shop/virtualNode/cart', version: 2 }] };
    expect(readAppMesh(list)).toEqual({
      resources: [],
      skipped: [{ at: 'virtualNodes[0]', reason: 'virtualNode "cart" has no spec: a list-* output names resources only; use the describe-* output' }],
    });
  });

  it.each([
    ['serviceB.svc.cluster.local', 'serviceb'],
    ['payments_v2', 'payments-v2'],
    ['--x--', 'x'],
  ])('names %s as the service %s', (name, expected) => {
    expect(serviceNameOf(name)).toBe(expected);
  });
});
