import { arrayOf, bytes, check, integer, literal, looseObject, number, object, oneOf, optional, recordOf, string, unknown } from '../../shared/shape';

describe('shapes', () => {
  const row = object({
    name: string(8),
    count: integer,
    weight: optional(number),
    kind: oneOf(['a', 'b']),
    removed: literal(false),
    body: bytes,
    tags: optional(arrayOf(string(), 2)),
    versions: recordOf(string()),
    meta: looseObject({ id: string() }),
    anything: optional(unknown),
  });
  const good = { name: 'orders', count: 3, kind: 'a', removed: false, body: new Uint8Array([1]), versions: { x: 'v' }, meta: { id: 'm', extra: 1 } };

  it('read an object: named fields only, loose objects whole, an absent optional field absent', () => {
    expect(check(row, { ...good, pk: 'SVC#a', sk: 'X' })).toEqual({ ok: true, value: { ...good, meta: { id: 'm', extra: 1 } } });
    const read = check(row, good);
    expect(read.ok && 'weight' in read.value).toBe(false);
  });

  it.each<[string, Record<string, unknown>, string, RegExp]>([
    ['a missing field', { count: undefined, ...{ name: undefined } }, 'name', /expected a string, got undefined/],
    ['a string too long', { name: 'a-very-long-name' }, 'name', /at most 8 characters/],
    ['a fraction for an integer', { count: 1.5 }, 'count', /expected an integer/],
    ['a value not in the list', { kind: 'c' }, 'kind', /one of "a", "b"/],
    ['the other literal', { removed: true }, 'removed', /expected false/],
    ['text for bytes', { body: 'x' }, 'body', /expected bytes, got string/],
    ['too many items', { tags: ['a', 'b', 'c'] }, 'tags', /at most 2 items/],
    ['a wrong item, by index', { tags: ['a', 1] }, 'tags.1', /expected a string, got number/],
    ['an array for a record', { versions: ['v'] }, 'versions', /expected an object, got array/],
    ['a wrong field of a loose object', { meta: { id: 7 } }, 'meta.id', /expected a string/],
    ['NaN for a number', { weight: Number.NaN }, 'weight', /expected a number/],
  ])('say where it is wrong: %s', (_what, change, path, message) => {
    const read = check(row, { ...good, ...change });
    expect(read.ok).toBe(false);
    expect(read.ok ? [] : read.problems).toEqual(expect.arrayContaining([{ path, message: expect.stringMatching(message) }]));
  });

  it('reports a required field that is absent, and every problem at once', () => {
    const { name: _name, ...withoutName } = good;
    const read = check(row, { ...withoutName, count: 'x' });
    expect(read.ok ? [] : read.problems.map((p) => p.path)).toEqual(['name', 'count']);
    expect(read.ok ? undefined : read.problems[0]).toEqual({ path: 'name', message: 'is required' });
  });
});
