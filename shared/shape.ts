import { Problem } from './errors';

/**
 * Shapes check plain data that our own code wrote or that a protocol defines (table rows,
 * DiscoveryRequests) and say where it is wrong, as path-located problems. They are for the read
 * paths the xds function runs on every poll, which must not load zod (about 32 KB of its
 * bundle and of every cold start: docs/deploy.md, "Bundles and cold starts"); user input (specs,
 * lifecycle events) keeps its zod schemas in shared/model. A leaf: it imports only the Problem
 * type.
 *
 * `object` keeps only the fields it names (as zod's z.object does); `looseObject` keeps the
 * others too. An optional field that is absent stays absent.
 */
export interface Shape<T> {
  /** read returns the value as T, pushing a problem for each thing wrong (the value is then unusable). */
  readonly read: (value: unknown, path: string, problems: Problem[]) => T;
  readonly optional?: true;
}

/** OutputOf is the type a shape reads. */
export type OutputOf<S> = S extends Shape<infer T> ? T : never;

type Fields = Record<string, Shape<unknown>>;
type Optional<F extends Fields> = { [K in keyof F]: F[K] extends { optional: true } ? K : never }[keyof F];
type ObjectOf<F extends Fields> = { [K in Exclude<keyof F, Optional<F>>]: OutputOf<F[K]> } & {
  [K in Optional<F>]?: OutputOf<F[K]>;
};

const describe = (value: unknown): string =>
  value === null ? 'null' : Array.isArray(value) ? 'array' : value instanceof Uint8Array ? 'bytes' : typeof value;
const at = (path: string, key: string | number) => (path ? `${path}.${key}` : String(key));

function typed<T>(expected: string, test: (value: unknown) => boolean, more?: (value: T) => string | undefined): Shape<T> {
  return {
    read(value, path, problems) {
      if (!test(value)) problems.push({ path, message: `expected ${expected}, got ${describe(value)}` });
      else {
        const wrong = more?.(value as T);
        if (wrong) problems.push({ path, message: wrong });
      }
      return value as T;
    },
  };
}

/** string is any string, or one of at most `max` characters. */
export const string = (max?: number): Shape<string> =>
  typed<string>('a string', (v) => typeof v === 'string', (v) => (max !== undefined && v.length > max ? `must be at most ${max} characters` : undefined));

export const number: Shape<number> = typed<number>('a number', (v) => typeof v === 'number' && Number.isFinite(v));
export const integer: Shape<number> = typed<number>('an integer', (v) => Number.isSafeInteger(v));
export const bytes: Shape<Uint8Array> = typed<Uint8Array>('bytes', (v) => v instanceof Uint8Array);
/** unknown accepts anything (a field whose content is someone else's business). */
export const unknown: Shape<unknown> = { read: (value) => value };

export function literal<const T extends string | number | boolean>(expected: T): Shape<T> {
  return typed<T>(JSON.stringify(expected), (v) => v === expected);
}

export function oneOf<const T extends readonly string[]>(values: T): Shape<T[number]> {
  return typed<T[number]>(`one of ${values.map((v) => `"${v}"`).join(', ')}`, (v) => typeof v === 'string' && values.includes(v));
}

export function optional<T>(shape: Shape<T>): Shape<T | undefined> & { optional: true } {
  return { optional: true, read: (value, path, problems) => (value === undefined ? undefined : shape.read(value, path, problems)) };
}

/** arrayOf is an array of items of one shape, of at most `max` items when given. */
export function arrayOf<T>(item: Shape<T>, max?: number): Shape<T[]> {
  return {
    read(value, path, problems) {
      if (!Array.isArray(value)) {
        problems.push({ path, message: `expected an array, got ${describe(value)}` });
        return value as T[];
      }
      if (max !== undefined && value.length > max) problems.push({ path, message: `must have at most ${max} items` });
      return value.map((v, i) => item.read(v, at(path, i), problems));
    },
  };
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);

/** recordOf is an object used as a map from strings to values of one shape. */
export function recordOf<T>(entry: Shape<T>): Shape<Record<string, T>> {
  return {
    read(value, path, problems) {
      if (!isRecord(value)) {
        problems.push({ path, message: `expected an object, got ${describe(value)}` });
        return value as Record<string, T>;
      }
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, entry.read(v, at(path, k), problems)]));
    },
  };
}

function objectShape<F extends Fields, Extra>(fields: F, keepOthers: boolean): Shape<ObjectOf<F> & Extra> {
  return {
    read(value, path, problems) {
      if (!isRecord(value)) {
        problems.push({ path, message: `expected an object, got ${describe(value)}` });
        return value as ObjectOf<F> & Extra;
      }
      const out: Record<string, unknown> = keepOthers ? { ...value } : {};
      for (const [key, shape] of Object.entries(fields)) {
        if (!(key in value)) {
          if (!shape.optional) problems.push({ path: at(path, key), message: 'is required' });
          continue;
        }
        out[key] = shape.read(value[key], at(path, key), problems);
      }
      return out as ObjectOf<F> & Extra;
    },
  };
}

/** object reads the named fields and drops any others. */
export const object = <F extends Fields>(fields: F): Shape<ObjectOf<F>> => objectShape<F, unknown>(fields, false);

/** looseObject reads the named fields and keeps the others as they are. */
export const looseObject = <F extends Fields>(fields: F): Shape<ObjectOf<F> & Record<string, unknown>> =>
  objectShape<F, Record<string, unknown>>(fields, true);

/** check reads a value whole: the value and no problems, or the problems. */
export function check<T>(shape: Shape<T>, value: unknown): { ok: true; value: T } | { ok: false; problems: Problem[] } {
  const problems: Problem[] = [];
  const read = shape.read(value, '', problems);
  return problems.length ? { ok: false, problems } : { ok: true, value: read };
}
