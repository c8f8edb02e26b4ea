/**
 * What the bundles have in place of `mnemonist/lru-cache` (infra/mesh-function.ts aliases it
 * here): the DynamoDB client's endpoint-discovery cache (@aws-sdk/endpoint-cache) is its only
 * user, and calls only `get`, `set`, `has`, `peek` and `clear`. A Map keeps insertion order, so
 * a bounded least-recently-used cache is a few lines; mnemonist's, with its iterators and
 * typed-array pointers, is 7 KB of every bundle. Endpoint discovery is off for DynamoDB unless
 * a client enables it, so in practice the cache is made and never filled.
 */
class LRUCache<K, V> {
  private readonly items = new Map<K, V>();

  constructor(private readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`an LRU cache holds at least one item, got capacity ${capacity}`);
  }

  get size(): number {
    return this.items.size;
  }

  /** get returns the value and makes it the most recently used. */
  get(key: K): V | undefined {
    if (!this.items.has(key)) return undefined;
    const value = this.items.get(key) as V;
    this.items.delete(key);
    this.items.set(key, value);
    return value;
  }

  /** peek returns the value without changing the order of use. */
  peek(key: K): V | undefined {
    return this.items.get(key);
  }

  has(key: K): boolean {
    return this.items.has(key);
  }

  /** set stores the value as the most recently used, evicting the least recently used one when full. */
  set(key: K, value: V): this {
    this.items.delete(key);
    this.items.set(key, value);
    if (this.items.size > this.capacity) this.items.delete(this.items.keys().next().value as K);
    return this;
  }

  clear(): void {
    this.items.clear();
  }
}

// As mnemonist's module does (`module.exports = LRUCache`), so that both an ES import of its default
// (the SDK's dist-es) and a require (its dist-cjs) get the class.
export = LRUCache;
