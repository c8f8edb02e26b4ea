import { ValidationError } from '../../shared/errors';
import { parseServiceSpec } from '../../shared/model/parse-spec';

/** problemsOf parses a spec input as the API does and returns the problems it is refused for ([] when it is accepted). */
export function problemsOf(input: unknown): { path: string; message: string }[] {
  try {
    parseServiceSpec(input);
  } catch (err) {
    if (err instanceof ValidationError) return [...err.problems];
    throw err;
  }
  return [];
}
