import { analyzeMesh, SpecSource } from '../../../shared/state/mesh-analysis';

const spec = (name: string, extra: Record<string, unknown> = {}) => ({ name, inboundPort: 15000, appPort: 8080, protocol: 'http', ...extra });
const dep = (service: string, localPort = 9001) => ({ service, localPort });
const sources = (...inputs: Record<string, unknown>[]): SpecSource[] => inputs.map((input) => ({ file: `${String(input.name)}.json`, input }));
const brief = (s: SpecSource[]) => analyzeMesh(s).findings.map((f) => `${f.severity} ${f.file}${f.index !== undefined ? `[${f.index}]` : ''}:${f.path}: ${f.message}`);

describe('analyzing a set of specs', () => {
  it.each<[string, SpecSource[], string[]]>([
    ['a caller and the service it calls, which admits it by default', sources(spec('a', { dependencies: [dep('b')], inbound: { allowedCallers: ['*'] } }), spec('b')), []],
    [
      'a name declared in two files',
      [
        { file: 'one.json', input: spec('a', { inbound: { allowedCallers: ['*'] } }) },
        { file: 'two.json', index: 3, input: spec('a') },
      ],
      ['error two.json[3]:name: "a" is already declared in one.json'],
    ],
    [
      'a caller the dependency allow-list leaves out',
      sources(spec('a', { dependencies: [dep('b')], inbound: { allowedCallers: ['*'] } }), spec('b', { inbound: { allowedCallers: ['c'] } }), spec('c', { dependencies: [dep('b')], inbound: { allowedCallers: ['*'] } })),
      ['error a.json:dependencies.0.service: "b" does not allow this service to call it: its inbound.allowedCallers is [c]'],
    ],
    [
      'an allowed caller that is not declared',
      sources(spec('b', { inbound: { allowedCallers: ['ghost'] } })),
      ['warning b.json:inbound.allowedCallers.0: "ghost" is not a declared service'],
    ],
    [
      'a service nothing calls and nothing is allowed to',
      sources(spec('lonely')),
      ['warning lonely.json:inbound.allowedCallers: is unreachable: no service depends on it and inbound.allowedCallers is not set, so its listener admits no caller'],
    ],
    [
      'the API checks of each spec against the others',
      sources(spec('a', { dependencies: [dep('b')], inbound: { allowedCallers: ['*'] } }), spec('b', { mtls: { enabled: false }, inbound: { allowedCallers: ['*'] }, dependencies: [dep('c')] }), spec('c')),
      ['error b.json:dependencies.0.service: "c" requires mTLS, and this service has mtls.enabled false: it has no certificate to present'],
    ],
    [
      'a permissive service that a caller without mTLS still reaches in plaintext',
      sources(
        spec('a', { mtls: { mode: 'off' }, dependencies: [dep('c')], inbound: { allowedCallers: ['*'] } }),
        spec('b', { dependencies: [dep('c')], inbound: { allowedCallers: ['*'] } }),
        spec('c', { mtls: { mode: 'permissive' } }),
      ),
      ['warning c.json:mtls.mode: is permissive and "a" still calls it in plaintext (its mTLS is off); turn mTLS on there before going strict'],
    ],
    [
      'a permissive service whose callers all send mTLS',
      sources(spec('b', { dependencies: [dep('c')], inbound: { allowedCallers: ['*'] } }), spec('c', { mtls: { mode: 'permissive' } })),
      [],
    ],
  ])('reports %s', (_, input, expected) => {
    expect(brief(input)).toEqual(expected);
  });

  it('keeps the specs valid on their own, by name, for diff and apply', () => {
    const { specs } = analyzeMesh(sources(spec('a', { inbound: { allowedCallers: ['*'] } }), { name: 'Bad' }));
    expect([...specs.keys()]).toEqual(['a']);
    expect(specs.get('a')!.spec.dependencies).toEqual([]);
  });
});
