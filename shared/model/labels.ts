import * as z from './zod';

/** Endpoint labels that select a subset of a dependency's endpoints, e.g. `{ revision: "13" }`. */
export const subsetLabels = z
  .record(z.string().check(z.minLength(1), z.maxLength(128)), z.string().check(z.maxLength(256)))
  .check(z.refine((labels) => Object.keys(labels).length > 0, 'must name at least one label'));
