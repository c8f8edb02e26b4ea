import { duration } from '../../../shared/render/policy';
import { checkSnapshotConsistency, renderSnapshot, snapshotVersions } from '../../../shared/render/snapshot';
import { fullPolicy, protocols, settings, spec, world } from './fixtures';

const deps = protocols.map((protocol, i) => spec({ name: `dep-${protocol}`, protocol, inboundPort: 15000 + i }));
const entries = deps.map((d, i) => fullPolicy(d.name, d.protocol, 7000 + i));

describe('renderSnapshot', () => {
  it('gives byte-identical output for the same world, whatever the order of dependencies', () => {
    const forward = renderSnapshot(world(spec({ name: 'web', dependencies: entries }), deps), settings);
    const backward = renderSnapshot(world(spec({ name: 'web', dependencies: [...entries].reverse() }), [...deps].reverse()), settings);
    expect(JSON.stringify(backward)).toBe(JSON.stringify(forward));
    expect(snapshotVersions(backward)).toEqual(snapshotVersions(forward));
  });

  it('sorts every resource list by name', () => {
    const resources = renderSnapshot(world(spec({ name: 'web', dependencies: [...entries].reverse() }), deps), settings);
    for (const list of Object.values(resources)) {
      const namesInOrder = list.map((r) => String(r.name));
      expect(namesInOrder).toEqual([...namesInOrder].sort());
    }
  });

  it('changes only the versions of the types a policy change touches', () => {
    const before = renderSnapshot(world(spec({ name: 'web', dependencies: [{ service: 'dep-http', localPort: 7000 }] }), deps), settings);
    const after = renderSnapshot(
      world(spec({ name: 'web', dependencies: [{ service: 'dep-http', localPort: 7000, timeoutMs: 2_000 }] }), deps),
      settings,
    );
    const [v1, v2] = [snapshotVersions(before), snapshotVersions(after)];
    expect(v2.routes).not.toBe(v1.routes);
    expect(v2.listeners).toBe(v1.listeners);
    expect(v2.clusters).toBe(v1.clusters);
  });

  it('versions by content alone: the same resources with keys in another order have the same versions', () => {
    const resources = renderSnapshot(world(spec({ name: 'web', dependencies: entries }), deps), settings);
    const reordered = JSON.parse(JSON.stringify(resources), (_k, v: unknown) =>
      v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).reverse()) : v,
    ) as typeof resources;
    expect(JSON.stringify(reordered)).not.toBe(JSON.stringify(resources));
    expect(snapshotVersions(reordered)).toEqual(snapshotVersions(resources));
    expect(snapshotVersions(resources).clusters).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('renders only references that resolve within the snapshot', () => {
    expect(checkSnapshotConsistency(renderSnapshot(world(spec({ name: 'web', dependencies: entries }), deps), settings))).toEqual([]);
  });

  it('refuses a world that lacks a dependency’s spec', () => {
    expect(() => renderSnapshot(world(spec({ name: 'web', dependencies: entries }), deps.slice(1)), settings)).toThrow(
      'dependency "dep-http" of "web" is not declared',
    );
  });
});

describe('duration', () => {
  it.each([
    [0, '0s'],
    [1, '0.001s'],
    [25, '0.025s'],
    [250, '0.25s'],
    [2_500, '2.5s'],
    [15_000, '15s'],
    [86_400_000, '86400s'],
  ])('renders %i ms as %s', (ms, text) => {
    expect(duration(ms)).toBe(text);
  });
});

describe('checkSnapshotConsistency', () => {
  const caller = spec({ name: 'web', dependencies: entries });
  const resources = renderSnapshot(world(caller, deps), settings);
  const without = (name: string) => ({ ...resources, clusters: (resources.clusters ?? []).filter((c) => c.name !== name) });

  it.each([
    ['an HTTP dependency', 'dep-http', 'route configuration "outbound_dep-http" sends to cluster "dep-http", which is not in CDS'],
    ['a TCP dependency split by weight', 'dep-tcp', 'listener "outbound_dep-tcp" sends to cluster "dep-tcp", which is not in CDS'],
  ])('finds the missing cluster of %s, weighted targets included', (_what, name, problem) => {
    expect(checkSnapshotConsistency(without(name))).toContain(problem);
  });

  it('finds a listener whose route configuration is missing', () => {
    const routes = (resources.routes ?? []).filter((r) => r.name !== 'inbound');
    expect(checkSnapshotConsistency({ ...resources, routes })).toEqual([
      'listener "inbound" uses route configuration "inbound", which is not in RDS',
    ]);
  });
});
