import { parseServiceSpec } from '../../../shared/model/parse-spec';
import { problemsOf } from '../../support/spec-problems';

const base = { name: 'web', inboundPort: 15000, appPort: 8080, protocol: 'http' };
const withDep = (dep: Record<string, unknown>) => ({ ...base, dependencies: [{ service: 'orders', localPort: 7000, ...dep }] });

describe('parseServiceSpec', () => {
  it('accepts a minimal spec and leaves every policy field unset', () => {
    expect(parseServiceSpec({ ...base, dependencies: [{ service: 'orders', localPort: 7000 }] })).toEqual({
      ...base,
      dependencies: [{ service: 'orders', localPort: 7000 }],
    });
  });

  it('accepts a spec that uses every option', () => {
    const full = {
      ...base,
      accessLog: { enabled: true },
      statsPrefix: 'web_in',
      requestId: { generate: true, preserveExternal: false },
      inbound: { timeoutMs: 0, idleTimeoutMs: 60_000 },
      drainSeconds: 30,
      ecs: { serviceName: 'web-svc', cluster: 'prod' },
      dependencies: [
        {
          service: 'orders',
          localPort: 7000,
          connectTimeoutMs: 500,
          timeoutMs: 2_000,
          idleTimeoutMs: 10_000,
          retries: { retryOn: ['5xx', 'retriable-status-codes'], statusCodes: [503], numRetries: 3, perTryTimeoutMs: 500, backOff: { baseIntervalMs: 20, maxIntervalMs: 200 } },
          circuitBreakers: { maxConnections: 10, maxPendingRequests: 10, maxRequests: 10, maxRetries: 1 },
          outlierDetection: { enabled: true, consecutive5xx: 2, consecutiveGatewayErrors: 2, intervalMs: 1_000, baseEjectionTimeMs: 1_000, maxEjectionPercent: 100 },
          healthCheck: { path: '/ready', intervalMs: 1_000, timeoutMs: 500, unhealthyThreshold: 1, healthyThreshold: 1 },
          split: { total: 1000, subsets: [{ labels: { revision: '12' }, weight: 900 }, { labels: { revision: '13' }, weight: 100 }] },
          headerRoutes: [{ header: 'x-canary', exact: 'yes', subset: { revision: '13' } }],
          zoneAware: { enabled: true, minClusterSize: 2, routingEnabledPercent: 50 },
        },
      ],
    };
    expect(parseServiceSpec(full)).toEqual(full);
  });

  it.each([
    [
      'a per-try timeout longer than the request timeout',
      withDep({ timeoutMs: 2_000, retries: { perTryTimeoutMs: 3_000 } }),
      { path: 'dependencies.0.retries.perTryTimeoutMs', message: '3000 is longer than dependencies.0.timeoutMs 2000' },
    ],
    [
      'a per-try timeout longer than the default request timeout',
      withDep({ retries: { perTryTimeoutMs: 20_000 } }),
      { path: 'dependencies.0.retries.perTryTimeoutMs', message: '20000 is longer than dependencies.0.timeoutMs (default) 15000' },
    ],
    [
      'a back-off whose maximum is below its base',
      withDep({ retries: { backOff: { baseIntervalMs: 100, maxIntervalMs: 50 } } }),
      { path: 'dependencies.0.retries.backOff.maxIntervalMs', message: '50 is shorter than dependencies.0.retries.backOff.baseIntervalMs 100' },
    ],
    [
      'split weights that do not add up to 100',
      withDep({ split: { subsets: [{ labels: { revision: '12' }, weight: 90 }, { labels: { revision: '13' }, weight: 20 }] } }),
      { path: 'dependencies.0.split.subsets', message: 'weights add up to 110, not the default total 100' },
    ],
    [
      'split weights that do not add up to the declared total',
      withDep({ split: { total: 10, subsets: [{ labels: { revision: '12' }, weight: 9 }] } }),
      { path: 'dependencies.0.split.subsets', message: 'weights add up to 9, not dependencies.0.split.total 10' },
    ],
    [
      'a split naming the same subset twice',
      withDep({ split: { subsets: [{ labels: { a: '1', b: '2' }, weight: 50 }, { labels: { b: '2', a: '1' }, weight: 50 }] } }),
      { path: 'dependencies.0.split.subsets.1.labels', message: 'selects the same subset as dependencies.0.split.subsets.0.labels' },
    ],
    [
      'a subset with no labels',
      withDep({ split: { subsets: [{ labels: {}, weight: 100 }] } }),
      { path: 'dependencies.0.split.subsets.0.labels', message: 'must name at least one label' },
    ],
    [
      'retriable-status-codes without status codes',
      withDep({ retries: { retryOn: ['retriable-status-codes'] } }),
      { path: 'dependencies.0.retries.statusCodes', message: 'is required by retryOn "retriable-status-codes"' },
    ],
    [
      'status codes that no retry condition uses',
      withDep({ retries: { retryOn: ['5xx'], statusCodes: [503] } }),
      { path: 'dependencies.0.retries.statusCodes', message: 'has no effect unless retryOn includes "retriable-status-codes"' },
    ],
    [
      'a retry condition listed twice',
      withDep({ retries: { retryOn: ['5xx', '5xx'] } }),
      { path: 'dependencies.0.retries.retryOn.1', message: '"5xx" is listed twice' },
    ],
    [
      'two header routes that match the same requests',
      withDep({ headerRoutes: [{ header: 'x-canary', subset: { revision: '13' } }, { header: 'x-canary', subset: { revision: '14' } }] }),
      { path: 'dependencies.0.headerRoutes.1', message: 'matches only requests that dependencies.0.headerRoutes.0 already takes, so it is never used' },
    ],
    [
      'a header route on a value after one on any value of the same header',
      withDep({ headerRoutes: [{ header: 'x-canary', subset: { revision: '13' } }, { header: 'x-canary', exact: '1', subset: { revision: '14' } }] }),
      { path: 'dependencies.0.headerRoutes.1', message: 'matches only requests that dependencies.0.headerRoutes.0 already takes, so it is never used' },
    ],
    [
      'an unknown retry condition',
      withDep({ retries: { retryOn: ['sometimes'] } }),
      { path: 'dependencies.0.retries.retryOn.0', message: expect.stringContaining('Invalid option') },
    ],
    [
      'an unknown policy field',
      withDep({ retry: { numRetries: 2 } }),
      { path: 'dependencies.0', message: 'unknown field "retry"' },
    ],
    [
      'a header name with upper case',
      withDep({ headerRoutes: [{ header: 'X-Canary', subset: { revision: '13' } }] }),
      { path: 'dependencies.0.headerRoutes.0.header', message: 'must be a lowercase HTTP header name' },
    ],
    [
      'a fractional duration',
      withDep({ timeoutMs: 2.5 }),
      { path: 'dependencies.0.timeoutMs', message: expect.any(String) },
    ],
    [
      'a stats prefix with dots',
      { ...base, statsPrefix: 'web.in' },
      { path: 'statsPrefix', message: 'must be letters, digits or "_" (it becomes part of stat names)' },
    ],
    [
      'a health-check path that is not absolute',
      withDep({ healthCheck: { path: 'healthz' } }),
      { path: 'dependencies.0.healthCheck.path', message: 'must be an absolute path of printable characters' },
    ],
    [
      'a dependency port that clashes with the inbound port',
      withDep({ localPort: 15000 }),
      { path: 'dependencies.0.localPort', message: '15000 clashes with inboundPort' },
    ],
    [
      'an external listener port that clashes with the app port',
      { ...withDep({}), inbound: { external: { port: 8080 } } },
      { path: 'inbound.external.port', message: '8080 clashes with appPort' },
    ],
  ])('rejects %s, naming the field', (_what, input, problem) => {
    expect(problemsOf(input)).toEqual([problem]);
  });

  it('accepts a per-try timeout under a disabled request timeout', () => {
    expect(problemsOf(withDep({ timeoutMs: 0, retries: { perTryTimeoutMs: 60_000 } }))).toEqual([]);
  });

  it('accepts a header route on any value after routes on given values of the same header', () => {
    const routes = [
      { header: 'x-canary', exact: '1', subset: { revision: '13' } },
      { header: 'x-canary', subset: { revision: '14' } },
    ];
    expect(problemsOf(withDep({ headerRoutes: routes }))).toEqual([]);
  });

  it('accepts a per-try timeout equal to the request timeout', () => {
    expect(problemsOf(withDep({ timeoutMs: 2_000, retries: { perTryTimeoutMs: 2_000 } }))).toEqual([]);
  });

  it('reports every problem of a spec at once', () => {
    const problems = problemsOf(
      withDep({
        timeoutMs: 1_000,
        retries: { perTryTimeoutMs: 2_000, backOff: { baseIntervalMs: 100, maxIntervalMs: 10 } },
        split: { subsets: [{ labels: { revision: '1' }, weight: 1 }] },
      }),
    );
    expect(problems.map((p) => p.path)).toEqual([
      'dependencies.0.retries.perTryTimeoutMs',
      'dependencies.0.retries.backOff.maxIntervalMs',
      'dependencies.0.split.subsets',
    ]);
  });
});

describe('JWKS URIs: only a public identity provider unless the operator allows another', () => {
  const withJwks = (jwksUri: string, allowPrivateJwksUri?: boolean) => () =>
    parseServiceSpec({
      name: 'payments',
      inboundPort: 15000,
      appPort: 8080,
      protocol: 'http',
      inbound: { jwt: { issuer: 'https://idp.example.com/', audiences: ['payments'], jwksUri, ...(allowPrivateJwksUri ? { allowPrivateJwksUri } : {}) } },
    });
  const refused: [string, string][] = [
    ['https://localhost/keys', 'host localhost is a single label'],
    ['https://auth.localhost/keys', 'host auth.localhost is private to a network'],
    ['https://instance-data.ec2.internal/latest', 'host instance-data.ec2.internal is private to a network'],
    ['https://ip-10-0-0-1.eu-west-1.compute.internal/keys', 'is private to a network'],
    ['https://idp.corp/keys', 'host idp.corp is private to a network'],
    ['https://idp.example.com:8443/keys', 'port 8443 is not a public identity provider'],
    ['https://user:pass@idp.example.com/keys', 'must not carry credentials'],
  ];
  it.each(refused)('refuses %s, naming the problem at jwksUri', (uri, message) => {
    expect(withJwks(uri)).toThrow(expect.objectContaining({
      problems: [{ path: 'inbound.jwt.jwksUri', message: expect.stringContaining(message) }],
    }));
  });

  it.each([['https://idp.example.com/.well-known/jwks.json'], ['https://idp.example.com:443/keys'], ['https://cognito-idp.eu-west-1.amazonaws.com/pool/.well-known/jwks.json']])(
    'accepts %s',
    (uri) => expect(withJwks(uri)).not.toThrow(),
  );

  it('accepts a private identity provider when the operator says so', () => {
    expect(withJwks('https://idp.corp:8443/keys', true)().inbound?.jwt?.allowPrivateJwksUri).toBe(true);
  });
});
