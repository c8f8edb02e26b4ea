/**
 * DynamoDB's capacity rules, in one place: how large an item is, and what reading or writing
 * it costs. The assignment shards (assignment-shards.ts) are kept within one write unit with
 * them, so an endpoint change costs the same units whatever the size of its service. The bench
 * measures units with ReturnConsumedCapacity (dynalite reports it with these same rules for
 * GetItem, PutItem, UpdateItem, DeleteItem, Query and the batch operations).
 *
 * Sizes (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html):
 * an item is the sum of its attribute names' UTF-8 lengths and its values' sizes; a string is
 * its UTF-8 length, a binary its byte length, a number about one byte per two significant
 * digits plus one, a boolean or null one byte, a list or map 3 bytes plus one per element plus
 * its elements (a map's keys count as names).
 */

/** writeUnitBytes is what one write unit covers: an item up to 1 KB. */
export const writeUnitBytes = 1024;
/** readUnitBytes is what one strongly consistent read unit covers: 4 KB (half a unit eventually consistent). */
export const readUnitBytes = 4096;

/** itemBytes is the size DynamoDB bills an item (as the document client holds it) by. */
export function itemBytes(item: Readonly<Record<string, unknown>>): number {
  let size = 0;
  for (const [name, value] of Object.entries(item)) {
    if (value === undefined) continue;
    size += Buffer.byteLength(name) + valueBytes(value);
  }
  return size;
}

function valueBytes(value: unknown): number {
  if (typeof value === 'string') return Buffer.byteLength(value);
  if (value instanceof Uint8Array) return value.byteLength;
  if (typeof value === 'number' || typeof value === 'bigint') return numberBytes(String(value));
  if (typeof value === 'boolean' || value === null) return 1;
  if (Array.isArray(value)) return 3 + value.reduce<number>((s, v) => s + 1 + valueBytes(v), 0);
  if (value instanceof Set) return [...value].reduce<number>((s, v) => s + valueBytes(v), 0);
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return 3 + entries.length + entries.reduce((s, [k, v]) => s + Buffer.byteLength(k) + valueBytes(v), 0);
  }
  return 0;
}

/** numberBytes: one byte per two significant digits, plus one. */
function numberBytes(text: string): number {
  const digits = text.replace(/^-/, '').replace(/e.*$/i, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(Math.max(1, digits.length) / 2) + 1;
}

/** writeUnits is what writing an item costs: its size (the larger of before and after, for an update) in 1 KB units. */
export const writeUnits = (bytes: number): number => Math.max(1, Math.ceil(bytes / writeUnitBytes));

/** readUnits is what reading `bytes` in one request costs: 4 KB units, halved when eventually consistent. */
export const readUnits = (bytes: number, consistent: boolean): number =>
  Math.max(1, Math.ceil(bytes / readUnitBytes)) * (consistent ? 1 : 0.5);
