import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { ValidationError } from '../../../shared/errors';
import { parseServiceSpec } from '../../../shared/model/parse-spec';
import { defaultRenderSettings } from '../../../shared/render/settings';
import { secretNamesOf } from '../../../shared/render/snapshot';
import { analyzeDependents, analyzeSpec, declareService, removeService } from '../../../shared/state/catalog';
import { keys } from '../../../shared/store/layout';
import { MeshStore } from '../../../shared/store/mesh-store';
import { useDynalite } from '../../support/dynamo';

const settings = defaultRenderSettings;
const spec = (name: string, extra: Record<string, unknown> = {}) => ({ name, inboundPort: 15000, appPort: 8080, protocol: 'http', ...extra });
const calls = (...services: string[]) => ({ dependencies: services.map((service, i) => ({ service, localPort: 7000 + i })) });

type Rules = { rules: { policies: Record<string, { principals: { authenticated: { principal_name: { exact: string } } }[] }> } };

/**
 * allowedOf reads the identities the stored inbound RBAC of a service lets in; undefined: no
 * RBAC. The listener's filter denies all; the allow-list is the inbound route's override.
 */
async function allowedOf(store: MeshStore, service: string): Promise<string[] | undefined> {
  const resources = (await store.getSnapshot(service))?.resources;
  const inbound = resources?.listeners?.find((l) => l.name === 'inbound');
  const chain = (inbound?.filter_chains as { filters: { name: string; typed_config: { http_filters?: { name: string; typed_config: unknown }[] } }[] }[])[0]!;
  const inListener = chain.filters.at(-1)!.typed_config.http_filters?.some((f) => f.name === 'envoy.filters.http.rbac');
  if (!inListener) return undefined;
  const route = resources?.routes?.find((r) => r.name === 'inbound') as { virtual_hosts: { typed_per_filter_config: Record<string, { rbac: Rules }> }[] };
  const rbac = route.virtual_hosts[0]!.typed_per_filter_config['envoy.filters.http.rbac']!.rbac;
  return Object.values(rbac.rules.policies).flatMap((p) => p.principals.map((x) => x.authenticated.principal_name.exact));
}

async function rejection(attempt: Promise<unknown>): Promise<ValidationError> {
  const error = await attempt.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(ValidationError);
  return error as ValidationError;
}

describe('allowed callers follow the dependency graph', () => {
  const { db, newStore } = useDynalite();

  it('lets exactly orders call payments once orders depends on it', async () => {
    const store = await newStore();
    await declareService(store, spec('payments'), settings);
    expect(await allowedOf(store, 'payments')).toEqual([]);
    const result = await declareService(store, spec('orders', calls('payments')), settings);
    expect(result.rendered).toEqual(['orders', 'payments']);
    expect(await allowedOf(store, 'payments')).toEqual(['spiffe://mesh.local/service/orders']);
  });

  it('no longer lets a caller in once it drops the dependency', async () => {
    const store = await newStore();
    await declareService(store, spec('payments'), settings);
    await declareService(store, spec('ledger'), settings);
    await declareService(store, spec('web', calls('payments')), settings);
    await declareService(store, spec('orders', calls('payments')), settings);
    expect(await allowedOf(store, 'payments')).toEqual(['spiffe://mesh.local/service/orders', 'spiffe://mesh.local/service/web']);

    const result = await declareService(store, spec('orders', calls('ledger')), settings);
    expect(result.rendered).toEqual(['ledger', 'orders', 'payments']);
    expect(await allowedOf(store, 'payments')).toEqual(['spiffe://mesh.local/service/web']);
    expect(await allowedOf(store, 'ledger')).toEqual(['spiffe://mesh.local/service/orders']);
  });

  it('no longer lets a removed caller in', async () => {
    const store = await newStore();
    await declareService(store, spec('payments'), settings);
    await declareService(store, spec('orders', calls('payments')), settings);
    await removeService(store, 'orders', settings);
    expect(await allowedOf(store, 'payments')).toEqual([]);
  });

  it('ignores a dependents index entry whose caller’s spec does not declare the dependency', async () => {
    const store = await newStore();
    await declareService(store, spec('payments'), settings);
    await declareService(store, spec('orders'), settings);
    // What a crash between putService's index write and its spec write leaves behind.
    await db().doc.send(
      new PutCommand({
        TableName: store.tableName,
        Item: { ...keys.dependent('payments', 'orders'), kind: 'dependent', service: 'payments', caller: 'orders' },
      }),
    );
    expect(await store.listDependents('payments')).toEqual(['orders']);
    await declareService(store, spec('payments', { accessLog: { enabled: false } }), settings);
    expect(await allowedOf(store, 'payments')).toEqual([]);
  });

  it('keeps an explicit allow-list whoever depends on the service', async () => {
    const store = await newStore();
    await declareService(store, spec('payments', { inbound: { allowedCallers: ['batch'] } }), settings);
    await declareService(store, spec('orders', calls('payments')), settings);
    expect(await allowedOf(store, 'payments')).toEqual(['spiffe://mesh.local/service/batch']);
  });

  it('stores snapshots that reference only the service’s own certificate and the trust bundle', async () => {
    const store = await newStore();
    await declareService(store, spec('payments'), settings);
    await declareService(store, spec('orders', calls('payments')), settings);
    for (const name of ['orders', 'payments']) {
      expect(secretNamesOf((await store.getSnapshot(name))!.resources)).toEqual(['mesh_trust_bundle', `service_certificate_${name}`]);
    }
  });
});

describe('mTLS and inbound security rejected on write, naming the field', () => {
  const { newStore } = useDynalite();

  it('rejects a caller without mTLS that calls a service requiring it, and writes nothing', async () => {
    const store = await newStore();
    await declareService(store, spec('payments'), settings);
    const error = await rejection(declareService(store, spec('orders', { mtls: { enabled: false }, ...calls('payments') }), settings));
    expect(error.problems).toEqual([
      {
        path: 'dependencies.0.service',
        message: '"payments" requires mTLS, and this service has mtls.enabled false: it has no certificate to present',
      },
    ]);
    expect(await store.getService('orders')).toBeUndefined();
  });

  it('accepts a caller without mTLS whose dependency has it off too, and renders its cluster plaintext', async () => {
    const store = await newStore();
    await declareService(store, spec('payments', { mtls: { enabled: false } }), settings);
    await declareService(store, spec('orders', { mtls: { enabled: false }, ...calls('payments') }), settings);
    const cluster = (await store.getSnapshot('orders'))?.resources.clusters?.find((c) => c.name === 'payments');
    expect(cluster).toBeDefined();
    expect(cluster).not.toHaveProperty('transport_socket');
  });

  it('rejects turning mTLS on while a caller without it depends on the service, and keeps the old spec', async () => {
    const store = await newStore();
    await declareService(store, spec('payments', { mtls: { enabled: false } }), settings);
    await declareService(store, spec('orders', { mtls: { enabled: false }, ...calls('payments') }), settings);
    const error = await rejection(declareService(store, spec('payments'), settings));
    expect(error.problems).toEqual([
      {
        path: 'mtls.enabled',
        message: 'service "orders" calls this one (dependencies.0) and has mtls.enabled false: it has no certificate to present',
      },
    ]);
    expect((await store.getService('payments'))?.spec.mtls).toEqual({ enabled: false });
  });

  it('accepts turning mTLS off on a service with callers, and their clusters to it turn plaintext', async () => {
    const store = await newStore();
    await declareService(store, spec('payments'), settings);
    await declareService(store, spec('orders', calls('payments')), settings);
    const result = await declareService(store, spec('payments', { mtls: { enabled: false } }), settings);
    expect(result.rendered).toEqual(['orders', 'payments']);
    const cluster = (await store.getSnapshot('orders'))?.resources.clusters?.find((c) => c.name === 'payments');
    expect(cluster).not.toHaveProperty('transport_socket');
    expect(await allowedOf(store, 'payments')).toBeUndefined();
  });

  it.each([
    [
      'named callers without mTLS',
      { mtls: { enabled: false }, inbound: { allowedCallers: ['orders'] } },
      [{ path: 'inbound.allowedCallers', message: 'naming callers needs mTLS, which proves who they are; mtls.enabled is false (use ["*"] or enable mTLS)' }],
    ],
    [
      '"*" next to named callers',
      { inbound: { allowedCallers: ['*', 'orders'] } },
      [{ path: 'inbound.allowedCallers', message: '"*" already allows every mesh service; list it alone' }],
    ],
    [
      'a caller listed twice',
      { inbound: { allowedCallers: ['orders', 'web', 'orders'] } },
      [{ path: 'inbound.allowedCallers.2', message: '"orders" is already listed at inbound.allowedCallers.0' }],
    ],
    [
      'a JWT check on a TCP service',
      { protocol: 'tcp', inbound: { jwt: { issuer: 'https://auth.example.com/', audiences: ['a'], jwksUri: 'https://auth.example.com/jwks' } } },
      [{ path: 'inbound.jwt', message: 'a JWT is checked on HTTP requests; this service speaks tcp' }],
    ],
    [
      'an audience listed twice',
      { inbound: { jwt: { issuer: 'https://auth.example.com/', audiences: ['a', 'a'], jwksUri: 'https://auth.example.com/jwks' } } },
      [{ path: 'inbound.jwt.audiences.1', message: '"a" is already listed at inbound.jwt.audiences.0' }],
    ],
  ])('rejects %s', async (_what, extra, problems) => {
    const store = await newStore();
    const error = await rejection(declareService(store, spec('payments', extra), settings));
    expect(error.problems).toEqual(problems);
    expect(await store.getService('payments')).toBeUndefined();
  });

  it.each([
    ['a JWKS URI over plain http', { jwksUri: 'http://auth.example.com/jwks' }, 'inbound.jwt.jwksUri'],
    ['a JWKS URI on an IP address', { jwksUri: 'https://10.0.0.1/jwks' }, 'inbound.jwt.jwksUri'],
    ['an issuer that is no URL', { issuer: 'auth' }, 'inbound.jwt.issuer'],
    ['no audience', { audiences: [] }, 'inbound.jwt.audiences'],
    ['a forwarded payload header that is no header name', { forwardPayloadHeader: 'X Payload' }, 'inbound.jwt.forwardPayloadHeader'],
  ])('rejects a JWT check with %s', async (_what, override, path) => {
    const store = await newStore();
    const jwt = { issuer: 'https://auth.example.com/', audiences: ['a'], jwksUri: 'https://auth.example.com/jwks', ...override };
    const error = await rejection(declareService(store, spec('payments', { inbound: { jwt } }), settings));
    expect(error.problems.map((p) => p.path)).toEqual([path]);
  });
});

describe('health checks of a JWT-protected dependency', () => {
  const { newStore } = useDynalite();
  const jwt = { issuer: 'https://auth.example.com/', audiences: ['a'], jwksUri: 'https://auth.example.com/jwks' };

  it('rejects an HTTP health check on a dependency that requires a JWT', async () => {
    const store = await newStore();
    await declareService(store, spec('payments', { inbound: { jwt } }), settings);
    const error = await rejection(
      declareService(store, spec('orders', { dependencies: [{ service: 'payments', localPort: 7000, healthCheck: { path: '/healthz' } }] }), settings),
    );
    expect(error.problems).toEqual([
      {
        path: 'dependencies.0.healthCheck',
        message: '"payments" requires a JWT on every request, which a health check does not carry; rely on outlier detection',
      },
    ]);
  });

  it('rejects turning a JWT check on while a caller health-checks the service, and keeps the old spec', async () => {
    const store = await newStore();
    await declareService(store, spec('payments'), settings);
    await declareService(store, spec('orders', { dependencies: [{ service: 'payments', localPort: 7000, healthCheck: {} }] }), settings);
    const error = await rejection(declareService(store, spec('payments', { inbound: { jwt } }), settings));
    expect(error.problems).toEqual([
      {
        path: 'inbound.jwt',
        message:
          'service "orders" calls this one with dependencies.0.healthCheck: "payments" requires a JWT on every request, which a health check does not carry; rely on outlier detection',
      },
    ]);
    expect((await store.getService('payments'))?.spec.inbound).toBeUndefined();
  });
});

describe('analyzeSpec and analyzeDependents on mTLS', () => {
  const svc = (name: string, extra: Record<string, unknown> = {}) => parseServiceSpec(spec(name, extra));

  it('finds nothing wrong when both sides use mTLS, or only the caller does', () => {
    const declared = new Map([
      ['payments', svc('payments')],
      ['ledger', svc('ledger', { mtls: { enabled: false } })],
    ]);
    expect(analyzeSpec(svc('orders', calls('payments', 'ledger')), declared)).toEqual([]);
  });

  it('reports every non-mTLS caller of a service that turns mTLS on, in name order', () => {
    const callers = [svc('web', { mtls: { enabled: false }, ...calls('payments') }), svc('batch', { mtls: { enabled: false }, ...calls('x', 'payments') })];
    expect(analyzeDependents(svc('payments'), callers).map((p) => p.message)).toEqual([
      'service "batch" calls this one (dependencies.1) and has mtls.enabled false: it has no certificate to present',
      'service "web" calls this one (dependencies.0) and has mtls.enabled false: it has no certificate to present',
    ]);
  });
});
