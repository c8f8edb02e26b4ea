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
  headerRoutes: [{ header: 'x-canary', exact: 'true', subset: { family: 'catalog-v2' } }],
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

  it('reports what has no equivalent, once, with where it was: path, method and regex header matches, gateways, discovery, TLS', () => {
    const { unsupported } = convertAppMesh(readAppMesh(fixture('describe-outputs.json')).resources);
    expect(unsupported.map((u) => u.at)).toEqual([
      '[1].virtualNode.spec.serviceDiscovery.dns',
      '[2].virtualNode.spec.listeners[0].tls',
      '[2].virtualNode.spec.serviceDiscovery.awsCloudMap',
      '[3].virtualNode.spec.listeners[0]',
      '[3].virtualNode.spec.serviceDiscovery.awsCloudMap',
      '[4].virtualNode.spec.backends[0].virtualService.clientPolicy',
      '[4].virtualNode.spec.serviceDiscovery.dns',
      '[8].route.spec.httpRoute.match',
      '[12].virtualGateway',
    ]);
    expect(unsupported.find((u) => u.at === '[8].route.spec.httpRoute.match')!.what).toBe(
      'route "catalog-admin" not imported: path match {"exact":"/admin/reindex"}, method POST, header match other than an exact value has no equivalent (routing is by header value and weights only)',
    );
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
            headerRoutes: [{ header: 'x-tester', exact: 'yes', subset: { family: 'payments-green' } }],
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
      'Resources.PaymentsRefundsRoute.spec.http2Route.match',
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
