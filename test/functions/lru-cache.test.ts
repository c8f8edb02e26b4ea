import LRUCache from '../../functions/lib/lru-cache';

describe('the bundles LRU cache (in place of mnemonist/lru-cache)', () => {
  it('evicts the least recently used item; get refreshes an item, peek and has do not', () => {
    const cache = new LRUCache<string, number>(2);
    cache.set('a', 1).set('b', 2);
    expect(cache.get('a')).toBe(1); // a is now the most recent
    cache.set('c', 3); // evicts b
    expect([cache.has('a'), cache.has('b'), cache.has('c')]).toEqual([true, false, true]);
    expect(cache.peek('a')).toBe(1); // a stays the older of the two
    cache.set('d', 4); // evicts a
    expect([cache.peek('a'), cache.peek('c'), cache.peek('d'), cache.size]).toEqual([undefined, 3, 4, 2]);
    cache.set('c', 30); // an update is a use
    cache.set('e', 5); // evicts d
    expect([cache.get('c'), cache.has('d'), cache.get('e')]).toEqual([30, false, 5]);
    cache.clear();
    expect(cache.size).toBe(0);
  });

  it('refuses a capacity below one', () => {
    expect(() => new LRUCache(0)).toThrow('at least one item');
  });
});
