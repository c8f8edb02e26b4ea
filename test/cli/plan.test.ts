import { parseServiceSpec } from '../../shared/model/parse-spec';
import { dependencyOrder, diffFields, planChanges } from '../../cli/plan';

const spec = (name: string, deps: string[] = [], extra: Record<string, unknown> = {}) =>
  parseServiceSpec({ name, inboundPort: 15000, appPort: 8080, protocol: 'http', dependencies: deps.map((service, i) => ({ service, localPort: 9001 + i })), ...extra });
const byName = (...specs: ReturnType<typeof spec>[]) => new Map(specs.map((s) => [s.name, s]));

describe('planning an apply', () => {
  it.each([
    ['a chain', byName(spec('a', ['b']), spec('b', ['c']), spec('c')), ['c', 'b', 'a']],
    ['independent services, by name', byName(spec('z'), spec('m'), spec('a')), ['a', 'm', 'z']],
    ['dependencies outside the set', byName(spec('a', ['external'])), ['a']],
    ['a cycle, last and by name', byName(spec('x', ['y']), spec('y', ['x']), spec('base')), ['base', 'x', 'y']],
  ])('puts each service after what it depends on: %s', (_, specs, expected) => {
    expect(dependencyOrder(specs).map((s) => s.name)).toEqual(expected);
  });

  it('compares specs canonically: key order and defaults are no difference, changed leaves are', () => {
    expect(diffFields({ a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1 })).toEqual([]);
    expect(diffFields({ a: 1, b: { c: [1, 2] } }, { a: 2, b: { c: [1] }, d: true })).toEqual([
      { path: 'a', before: 1, after: 2 },
      { path: 'b.c.1', before: 2 },
      { path: 'd', after: true },
    ]);
  });

  it('creates, updates, leaves alone and, with prune, deletes callers before what they call', () => {
    const declared = [spec('a'), spec('b', ['a']), spec('old', ['gone']), spec('gone')].map((s, i) => ({ spec: s, revision: i + 1, updatedAt: '' }));
    const desired = byName(spec('a'), spec('b', ['a'], { inbound: { timeoutMs: 100 } }), spec('c', ['b']));
    expect(planChanges(desired, declared, true).map((c) => `${c.action} ${c.service}`)).toEqual([
      'unchanged a',
      'update b',
      'create c',
      'delete old',
      'delete gone',
    ]);
    expect(planChanges(desired, declared, false).map((c) => c.action)).not.toContain('delete');
  });
});
