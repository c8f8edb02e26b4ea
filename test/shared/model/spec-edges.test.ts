import { ValidationError } from '../../../shared/errors';
import { parseServiceSpec } from '../../../shared/model/parse-spec';
import { dependencyNamesOf, kindOf, mtlsModeOf } from '../../../shared/model/spec-edges';

const base = { name: 'web', inboundPort: 15000, appPort: 8080, protocol: 'http' };

function problemsOf(input: unknown): { path: string; message: string }[] {
  try {
    parseServiceSpec(input);
  } catch (err) {
    if (err instanceof ValidationError) return [...err.problems];
    throw err;
  }
  return [];
}

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
