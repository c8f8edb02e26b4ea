import { BoundedCache } from '../../../shared/lifecycle/bounded-cache';

describe('BoundedCache', () => {
  it('keeps at most its capacity, dropping the least recently used entry', () => {
    const cache = new BoundedCache<string, number>(2);
    cache.set('a', 1);
    cache.set('b', 2);
    expect(cache.get('a')).toBe(1); // a is now the most recently used
    cache.set('c', 3);
    expect([cache.get('a'), cache.get('b'), cache.get('c'), cache.size]).toEqual([1, undefined, 3, 2]);
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new BoundedCache(0)).toThrow('cache capacity must be a positive integer, got 0');
  });
});
