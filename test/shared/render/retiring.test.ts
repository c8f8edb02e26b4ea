import { EnvoyResource, RetiringResource } from '../../../shared/envoy/resources';
import { contentVersion } from '../../../shared/envoy/version';
import { retiringClusters } from '../../../shared/render/snapshot';

const cluster = (name: string, port = 15000): EnvoyResource => ({ name, type: 'EDS', connect_timeout: '1s', port });
const at = (ms: number) => new Date(ms).toISOString();
const retired = (c: EnvoyResource, ms: number): RetiringResource => ({ resource: c, version: contentVersion(c), retiredAt: at(ms) });

// A fixed origin only makes the numbers readable: every instant below is relative to it.
const t0 = Date.parse('2026-11-29T00:00:00Z');
const limits = { ttlMs: 60_000, max: 3 };

describe('retiringClusters (make before break for removals)', () => {
  it.each<[string, Parameters<typeof retiringClusters>[0], EnvoyResource[], number, RetiringResource[]]>([
    ['keeps nothing for a first render', undefined, [cluster('a')], t0, []],
    ['keeps nothing when no cluster is dropped', { clusters: [cluster('a')], retiring: [] }, [cluster('a'), cluster('b')], t0, []],
    ['retires a dropped cluster now, with its body and content version', { clusters: [cluster('a'), cluster('b')], retiring: [] }, [cluster('a')], t0, [retired(cluster('b'), t0)]],
    [
      'carries a retiring cluster forward with the time it was dropped',
      { clusters: [cluster('a')], retiring: [retired(cluster('b'), t0)] },
      [cluster('a')],
      t0 + 59_999,
      [retired(cluster('b'), t0)],
    ],
    ['lets a retiring cluster go once its time is up', { clusters: [cluster('a')], retiring: [retired(cluster('b'), t0)] }, [cluster('a')], t0 + 60_000, []],
    ['forgets a retiring cluster that is current again', { clusters: [cluster('a')], retiring: [retired(cluster('b'), t0)] }, [cluster('a'), cluster('b')], t0 + 1, []],
    [
      'replaces an older retiring body by the one just dropped',
      { clusters: [cluster('b', 16000)], retiring: [retired(cluster('b'), t0)] },
      [],
      t0 + 10,
      [retired(cluster('b', 16000), t0 + 10)],
    ],
    [
      'keeps the most recently dropped when there are more than the limit, sorted by name',
      { clusters: [cluster('z'), cluster('y')], retiring: [retired(cluster('a'), t0), retired(cluster('b'), t0 + 1), retired(cluster('c'), t0 + 2)] },
      [],
      t0 + 3,
      [retired(cluster('c'), t0 + 2), retired(cluster('y'), t0 + 3), retired(cluster('z'), t0 + 3)],
    ],
  ])('%s', (_what, previous, current, now, expected) => {
    expect(retiringClusters(previous, current, now, limits)).toEqual(expected);
  });
});
