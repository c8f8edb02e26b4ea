import { parseServiceSpec } from '../../../shared/model/parse-spec';
import { analyzeDependents, analyzeSpec } from '../../../shared/state/catalog';
import { ServiceSpec } from '../../../shared/model/spec';
import { problemsOf } from '../../support/spec-problems';

/** Write-time validation of routes[], rateLimit, faults and mirror: every bad value is a path-located problem. */

const base = { name: 'web', inboundPort: 15000, appPort: 8080, protocol: 'http' };
const withDep = (dep: Record<string, unknown>, extra: Record<string, unknown>[] = []) => ({
  ...base,
  dependencies: [{ service: 'orders', localPort: 7000, ...dep }, ...extra],
});
const route = (r: Record<string, unknown>) => withDep({ routes: [r] });

describe('traffic fields of the spec', () => {
  it('accepts every traffic option at once', () => {
    const full = {
      ...base,
      rateLimit: { requestsPerSecond: 100, burst: 200 },
      dependencies: [
        {
          service: 'orders',
          localPort: 7000,
          routes: [
            {
              match: {
                pathPrefix: '/api/',
                method: 'GET',
                headers: [{ name: 'x-tier', exact: 'gold' }, { name: 'x-beta', present: true }, { name: 'x-user', regex: 'u-[0-9]+', invert: true }],
                queryParams: [{ name: 'debug', prefix: '1' }],
              },
              subset: { revision: '13' },
              timeoutMs: 500,
              retries: { numRetries: 1 },
              rewritePrefix: '/v2/',
              rateLimit: { requestsPerSecond: 10 },
            },
            { match: { regex: '/orders/[0-9]+' }, split: { subsets: [{ labels: { revision: '1' }, weight: 100 }] } },
            { match: { exactPath: '/healthz' } },
          ],
          faults: { delay: { percent: 12.5, fixedDelayMs: 100 }, abort: { percent: 0.0001, httpStatus: 503 } },
          mirror: { service: 'orders-next', percent: 10 },
        },
        { service: 'orders-next', localPort: 7001 },
      ],
    };
    expect(parseServiceSpec(full)).toEqual(full);
  });

  it.each([
    ['a regex RE2 cannot compile', route({ match: { regex: '/a/(?=b)' } }), 'dependencies.0.routes.0.match.regex', /^is not an RE2 regex: lookahead/],
    ['a header regex with a backreference', route({ match: { headers: [{ name: 'x-a', regex: '(a)\\1' }] } }), 'dependencies.0.routes.0.match.headers.0.regex', /backreferences/],
    ['a regex over the program size', route({ match: { regex: '/asdf/.*'.repeat(13) } }), 'dependencies.0.routes.0.match.regex', /program size is about \d+, over the limit of 100/],
    ['two path conditions', route({ match: { pathPrefix: '/a', exactPath: '/a' } }), 'dependencies.0.routes.0.match.exactPath', /set only one of pathPrefix, exactPath, regex/],
    ['a subset and a split', route({ match: {}, subset: { r: '1' }, split: { subsets: [{ labels: { r: '1' }, weight: 100 }] } }), 'dependencies.0.routes.0.split', /set only one of subset, split/],
    ['a header with two value conditions', route({ match: { headers: [{ name: 'x-a', exact: '1', prefix: '2' }] } }), 'dependencies.0.routes.0.match.headers.0.prefix', /set only one of exact, prefix, regex, present/],
    ['a header without a condition', route({ match: { headers: [{ name: 'x-a' }] } }), 'dependencies.0.routes.0.match.headers.0', /set one of exact, prefix, regex, present/],
    ['an upper-case header name', route({ match: { headers: [{ name: 'X-A', present: true }] } }), 'dependencies.0.routes.0.match.headers.0.name', /lowercase HTTP header name/],
    ['a relative path prefix', route({ match: { pathPrefix: 'api' } }), 'dependencies.0.routes.0.match.pathPrefix', /absolute path/],
    ['a path with a query', route({ match: { exactPath: '/a?b=1' } }), 'dependencies.0.routes.0.match.exactPath', /without "\?"/],
    ['an unknown method', route({ match: { method: 'FETCH' } }), 'dependencies.0.routes.0.match.method', /GET/],
    ['a rewrite of a regex match', route({ match: { regex: '/a.*' }, rewritePrefix: '/b' }), 'dependencies.0.routes.0.rewritePrefix', /needs match.pathPrefix or match.exactPath/],
    ['a route split that does not add up', route({ match: {}, split: { subsets: [{ labels: { r: '1' }, weight: 60 }] } }), 'dependencies.0.routes.0.split.subsets', /weights add up to 60, not 100/],
    ['a per-try timeout longer than the route timeout', route({ match: {}, timeoutMs: 100, retries: { perTryTimeoutMs: 200 } }), 'dependencies.0.routes.0.retries.perTryTimeoutMs', /200 is longer than the route's timeout 100/],
    ['a burst below the rate', { ...base, rateLimit: { requestsPerSecond: 10, burst: 5 } }, 'rateLimit.burst', /5 is below requestsPerSecond 10/],
    ['a zero rate', { ...base, rateLimit: { requestsPerSecond: 0 } }, 'rateLimit.requestsPerSecond', /./],
    ['a route rate limit without a rate', route({ match: {}, rateLimit: { burst: 5 } }), 'dependencies.0.routes.0.rateLimit.requestsPerSecond', /./],
    ['a rate limit on a TCP service', { ...base, protocol: 'tcp', rateLimit: { requestsPerSecond: 10 } }, 'rateLimit', /counts HTTP requests; this service speaks tcp/],
    ['faults with neither delay nor abort', withDep({ faults: {} }), 'dependencies.0.faults', /set delay, abort or both/],
    ['an abort with two statuses', withDep({ faults: { abort: { percent: 1, httpStatus: 503, grpcStatus: 14 } } }), 'dependencies.0.faults.abort.grpcStatus', /set only one of httpStatus, grpcStatus/],
    ['an abort without a status', withDep({ faults: { abort: { percent: 1 } } }), 'dependencies.0.faults.abort', /set one of httpStatus, grpcStatus/],
    ['an HTTP status outside Envoy\'s range', withDep({ faults: { abort: { percent: 1, httpStatus: 100 } } }), 'dependencies.0.faults.abort.httpStatus', /./],
    ['gRPC status OK (0), which aborts nothing', withDep({ faults: { abort: { percent: 1, grpcStatus: 0 } } }), 'dependencies.0.faults.abort.grpcStatus', /./],
    ['a percentage above 100', withDep({ faults: { delay: { percent: 101, fixedDelayMs: 10 } } }), 'dependencies.0.faults.delay.percent', /percentage from 0 to 100/],
    ['a percentage with five decimals', withDep({ mirror: { service: 'orders-next', percent: 0.00001 } }, [{ service: 'orders-next', localPort: 7001 }]), 'dependencies.0.mirror.percent', /at most four decimals/],
    ['a zero delay', withDep({ faults: { delay: { percent: 1, fixedDelayMs: 0 } } }), 'dependencies.0.faults.delay.fixedDelayMs', /at least 1 ms/],
    ['a mirror to a service that is not a dependency', withDep({ mirror: { service: 'audit', percent: 5 } }), 'dependencies.0.mirror.service', /"audit" must also be declared in dependencies/],
    ['a mirror to the dependency itself', withDep({ mirror: { service: 'orders', percent: 5 } }), 'dependencies.0.mirror.service', /to itself/],
    ['an unknown route field', route({ match: {}, weight: 3 }), 'dependencies.0.routes.0', /unknown field "weight"/],
  ])('refuses %s', (_name, input, path, message) => {
    const problems = problemsOf(input);
    expect(problems.map((p) => p.path)).toContain(path);
    expect(problems.find((p) => p.path === path)!.message).toMatch(message);
  });
});

describe('the import cycle between spec.ts and spec-traffic.ts', () => {
  it.each(['spec-traffic', 'spec'])('parses traffic fields whichever module loads first (%s)', (first) => {
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require(`../../../shared/model/${first}`);
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const fresh = require('../../../shared/model/parse-spec') as typeof import('../../../shared/model/parse-spec');
      const input = { ...route({ match: { regex: '/a.*' }, rateLimit: { requestsPerSecond: 1 } }), rateLimit: { requestsPerSecond: 2 } };
      expect(fresh.parseServiceSpec(input)).toEqual(input);
      expect(() => fresh.parseServiceSpec(route({ match: { regex: '(?=a)' } }))).toThrow('invalid service spec');
    });
  });
});

describe('traffic fields against the catalog', () => {
  const svc = (name: string, protocol: string, extra: Record<string, unknown> = {}): ServiceSpec =>
    parseServiceSpec({ name, inboundPort: 15000, appPort: 8080, protocol, ...extra });
  const catalog = new Map([
    ['orders', svc('orders', 'http')],
    ['ledger', svc('ledger', 'tcp')],
    ['payments', svc('payments', 'grpc')],
    ['payments-next', svc('payments-next', 'grpc')],
  ]);

  it('refuses routes, faults and mirroring towards a TCP dependency, a gRPC status towards HTTP, and a mirror of another protocol', () => {
    const caller = svc('web', 'http', {
      dependencies: [
        { service: 'ledger', localPort: 7000, routes: [{ match: {} }], faults: { delay: { percent: 1, fixedDelayMs: 5 } }, mirror: { service: 'orders', percent: 1 } },
        { service: 'orders', localPort: 7001, faults: { abort: { percent: 1, grpcStatus: 14 } }, mirror: { service: 'payments', percent: 1 } },
        { service: 'payments', localPort: 7002, faults: { abort: { percent: 1, grpcStatus: 14 } }, mirror: { service: 'payments-next', percent: 50 } },
        { service: 'payments-next', localPort: 7003 },
      ],
    });
    expect(analyzeSpec(caller, catalog)).toEqual([
      { path: 'dependencies.0.routes', message: 'routes need HTTP; "ledger" speaks tcp' },
      { path: 'dependencies.0.faults', message: 'fault injection needs HTTP; "ledger" speaks tcp' },
      { path: 'dependencies.0.mirror', message: 'mirroring needs HTTP; "ledger" speaks tcp' },
      { path: 'dependencies.1.faults.abort.grpcStatus', message: 'a gRPC status needs a gRPC dependency; "orders" speaks http (use httpStatus)' },
      { path: 'dependencies.1.mirror.service', message: '"payments" speaks grpc, and the requests it would copy are http' },
    ]);
  });

  it('refuses a dependency turning TCP under a caller that routes its requests', () => {
    const caller = svc('web', 'http', { dependencies: [{ service: 'orders', localPort: 7001, routes: [{ match: { pathPrefix: '/a' } }] }] });
    expect(analyzeDependents(svc('orders', 'tcp'), [caller])).toEqual([
      { path: 'protocol', message: 'service "web" calls this one with dependencies.0.routes: routes need HTTP; "orders" speaks tcp' },
    ]);
  });
});
