import { parseServiceSpec } from '../../../shared/model/parse-spec';
import { dependencyNamesOf, kindOf, mtlsModeOf } from '../../../shared/model/spec-edges';
import { problemsOf } from '../../support/spec-problems';

const base = { name: 'web', inboundPort: 15000, appPort: 8080, protocol: 'http' };

describe('mtls.mode', () => {
  it.each([
    [undefined, 'strict'],
    [{ enabled: true }, 'strict'],
    [{ enabled: false }, 'off'],
    [{ mode: 'permissive' }, 'permissive'],
    [{ mode: 'off' }, 'off'],
    [{ enabled: true, mode: 'permissive' }, 'permissive'],
    [{ enabled: false, mode: 'off' }, 'off'],
  ])('reads %j as %s', (mtls, mode) => {
    expect(mtlsModeOf(parseServiceSpec({ ...base, ...(mtls ? { mtls } : {}) }))).toBe(mode);
  });

  it.each([
    [{ enabled: false, mode: 'strict' }, '"strict" contradicts mtls.enabled false; set only mode (enabled false is mode "off")'],
    [{ enabled: false, mode: 'permissive' }, '"permissive" contradicts mtls.enabled false; set only mode (enabled false is mode "off")'],
    [{ enabled: true, mode: 'off' }, '"off" contradicts mtls.enabled true; set only mode (enabled false is mode "off")'],
  ])('rejects %j at mtls.mode', (mtls, message) => {
    expect(problemsOf({ ...base, mtls })).toEqual([{ path: 'mtls.mode', message }]);
  });

  it('rejects an unknown mode at mtls.mode', () => {
    expect(problemsOf({ ...base, mtls: { mode: 'lenient' } }).map((p) => p.path)).toEqual(['mtls.mode']);
  });

  it('lets a permissive service name its callers (the mTLS chain identifies them), but not one with mode off', () => {
    expect(problemsOf({ ...base, mtls: { mode: 'permissive' }, inbound: { allowedCallers: ['orders'] } })).toEqual([]);
    expect(problemsOf({ ...base, mtls: { mode: 'off' }, inbound: { allowedCallers: ['orders'] } }).map((p) => p.path)).toEqual(['inbound.allowedCallers']);
  });
});

describe('kind', () => {
  it('is "service" unless the spec says otherwise, and a plain spec is unchanged by parsing', () => {
    expect(kindOf(parseServiceSpec(base))).toBe('service');
    expect(parseServiceSpec(base)).toEqual({ ...base, dependencies: [] });
  });

  it('lists a gateway’s routed services among what it depends on', () => {
    const gateway = parseServiceSpec({
      name: 'edge',
      kind: 'gateway',
      listeners: [{ port: 8443, protocol: 'http' }],
      routes: [{ pathPrefix: '/b', service: 'web' }, { pathPrefix: '/a', service: 'orders' }, { exactPath: '/x', service: 'web' }],
    });
    expect(dependencyNamesOf(gateway)).toEqual(['orders', 'web']);
  });

  it.each([
    ['hosts on a mesh service', { ...base, hosts: ['api.example.com'] }, [['hosts', 'is for kind "external"; this is kind "service"']]],
    ['listeners on a mesh service', { ...base, listeners: [{ port: 8443, protocol: 'http' }] }, [['listeners', 'is for kind "gateway"; this is kind "service"']]],
    ['an unknown kind', { ...base, kind: 'sidecar' }, [['kind', 'Invalid option: expected one of "service"|"gateway"|"external"']]],
  ])('rejects %s with a path-located problem', (_, input, expected) => {
    expect(problemsOf(input).map((p) => [p.path, p.message])).toEqual(expected);
  });
});

describe('kind "external"', () => {
  it('needs only its hosts, port and tls: the core fields it has no use for are filled in', () => {
    expect(parseServiceSpec({ name: 'github', kind: 'external', hosts: ['api.github.com'], port: 443, tls: true })).toEqual({
      name: 'github',
      kind: 'external',
      hosts: ['api.github.com'],
      port: 443,
      tls: true,
      inboundPort: 443,
      appPort: 443,
      protocol: 'tcp',
      dependencies: [],
    });
  });

  it('keeps a protocol that is written', () => {
    expect(parseServiceSpec({ name: 'github', kind: 'external', hosts: ['api.github.com'], port: 443, tls: true, protocol: 'http' }).protocol).toBe('http');
  });

  it.each([
    ['without hosts, port and tls', { name: 'x', kind: 'external' }, ['hosts', 'port', 'tls']],
    ['without tls', { name: 'x', kind: 'external', hosts: ['a.example.com'], port: 443 }, ['tls']],
    ['with a bad host', { name: 'x', kind: 'external', hosts: ['not a host'], port: 443, tls: true }, ['hosts.0']],
    ['with a single-label host', { name: 'x', kind: 'external', hosts: ['localhost'], port: 443, tls: true }, ['hosts.0']],
    ['with a host twice', { name: 'x', kind: 'external', hosts: ['a.example.com', 'a.example.com'], port: 443, tls: true }, ['hosts.1']],
    ['with dependencies', { name: 'x', kind: 'external', hosts: ['a.example.com'], port: 443, tls: true, dependencies: [{ service: 'y', localPort: 7000 }] }, ['dependencies']],
    ['with mtls', { name: 'x', kind: 'external', hosts: ['a.example.com'], port: 443, tls: true, mtls: { mode: 'strict' } }, ['mtls']],
    ['gRPC in plaintext', { name: 'x', kind: 'external', hosts: ['a.example.com'], port: 443, tls: false, protocol: 'grpc' }, ['tls']],
  ])('is rejected %s, at the field', (_, input, paths) => {
    expect(problemsOf(input).map((p) => p.path)).toEqual(paths);
  });
});

describe('kind "gateway"', () => {
  const gateway = (extra: Record<string, unknown> = {}) => ({
    name: 'edge',
    kind: 'gateway',
    listeners: [{ port: 8443, protocol: 'http' }],
    routes: [{ pathPrefix: '/', service: 'web' }],
    ...extra,
  });

  it('needs only listeners and routes: its inbound and app ports are its first listener’s', () => {
    const parsed = parseServiceSpec(gateway());
    expect([parsed.inboundPort, parsed.appPort, parsed.protocol]).toEqual([8443, 8443, 'http']);
  });

  it.each([
    ['a route with both pathPrefix and exactPath', { routes: [{ pathPrefix: '/', exactPath: '/a', service: 'web' }] }, [['routes.0.pathPrefix', 'set exactly one of pathPrefix and exactPath']]],
    ['a route with neither', { routes: [{ service: 'web' }] }, [['routes.0.pathPrefix', 'set exactly one of pathPrefix and exactPath']]],
    ['a rewrite of an exact path', { routes: [{ exactPath: '/a', rewritePrefix: '/b', service: 'web' }] }, [['routes.0.rewritePrefix', 'needs pathPrefix: only a matched prefix can be rewritten']]],
    ['a relative path', { routes: [{ pathPrefix: 'api', service: 'web' }] }, [['routes.0.pathPrefix', 'must be an absolute path of printable characters']]],
    ['a bad host name', { routes: [{ pathPrefix: '/', hostnames: ['Example.COM'], service: 'web' }] }, [['routes.0.hostnames.0', 'must be a lowercase host name, optionally starting with "*."']]],
    ['a route that can never match', { routes: [{ pathPrefix: '/', service: 'web' }, { pathPrefix: '/', service: 'orders' }] }, [['routes.1', 'matches the same requests as routes.0, which takes them all']]],
    ['a route to itself', { routes: [{ pathPrefix: '/', service: 'edge' }] }, [['routes.0.service', 'a gateway cannot route to itself']]],
    ['two listeners on one port', { listeners: [{ port: 8443, protocol: 'http' }, { port: 8443, protocol: 'grpc' }] }, [['listeners.1.port', '8443 is already used by listeners.0']]],
    ['a listener on the health port', { listeners: [{ port: 15021, protocol: 'http' }] }, [['listeners.0.port', "15021 is the gateway's health port (its load balancer's health checks)"]]],
    ['a TCP listener', { listeners: [{ port: 8443, protocol: 'tcp' }] }, [['listeners.0.protocol', 'Invalid option: expected one of "http"|"http2"|"grpc"']]],
    ['a TLS certificate that is not a Secrets Manager ARN', { listeners: [{ port: 8443, protocol: 'http', tls: { certificateSecretArn: 'arn:aws:acm:eu-west-1:111122223333:certificate/abc' } }] }, [['listeners.0.tls.certificateSecretArn', 'must be a Secrets Manager secret ARN']]],
    ['no routes', { routes: undefined }, [['routes', 'is required for kind "gateway"']]],
    ['no listeners', { listeners: undefined }, [['listeners', 'is required for kind "gateway"']]],
    ['an inbound side', { inbound: { timeoutMs: 10 } }, [['inbound', 'a gateway has no inbound side of a payload']]],
  ])('rejects %s, at the field', (_, extra, expected) => {
    expect(problemsOf(gateway(extra)).map((p) => [p.path, p.message])).toEqual(expected);
  });
});
