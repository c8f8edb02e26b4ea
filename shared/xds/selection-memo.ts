import { ServedForms } from '../model/node-status';
import { Selection } from './selection';

interface MemoEntry {
  readonly inputs: readonly unknown[];
  readonly selection: Selection;
}

/**
 * SelectionMemo keeps the last selection made per (service, type, sorted names, node form),
 * with the cached items it was made from. A push wakes every stream of a service at once, and
 * they all ask the core the same question: the first one selects (and hashes), the rest get the
 * very same Selection object back, so what is derived from it (the encoded response body, in
 * the push tier's codec) is derived once per change too.
 *
 * An entry holds while its inputs are the same objects the snapshot cache returns now: a read
 * of the table makes new objects, so a change (a new generation) is never answered from an
 * older one. The REST tier needs none of it; the push tier passes one in its DiscoveryDeps.
 */
export class SelectionMemo {
  private readonly entries = new Map<string, MemoEntry>();
  /** Counts, for tests and benchmarks. */
  readonly stats = { hits: 0, misses: 0 };

  /** @param maxEntries the most questions remembered (oldest forgotten first). */
  constructor(private readonly maxEntries = 10_000) {}

  /** select returns the remembered selection for `key` if it was made from exactly `inputs`, or makes and remembers it. */
  select(key: string, inputs: readonly unknown[], make: () => Selection): Selection {
    const entry = this.entries.get(key);
    if (entry && sameInputs(entry.inputs, inputs)) {
      this.stats.hits++;
      return entry.selection;
    }
    this.stats.misses++;
    const selection = make();
    this.entries.delete(key);
    this.entries.set(key, { inputs, selection });
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    return selection;
  }

  get size(): number {
    return this.entries.size;
  }
}

const sameInputs = (a: readonly unknown[], b: readonly unknown[]) => a.length === b.length && a.every((v, i) => v === b[i]);

/** selectionKey names one question: a service's resources of a type, by names, in a node form. */
export const selectionKey = (service: string, type: string, names: readonly string[], forms: ServedForms) =>
  `${service}\u0000${type}\u0000${forms}\u0000${names.join('\u0000')}`;
