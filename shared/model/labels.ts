import * as z from 'zod';

/** Endpoint labels that select a subset of a dependency's endpoints, e.g. `{ revision: "13" }`. */
export const subsetLabels = z
  .record(z.string().min(1).max(128), z.string().max(256))
  .refine((labels) => Object.keys(labels).length > 0, 'must name at least one label');
