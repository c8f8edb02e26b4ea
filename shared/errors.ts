/**
 * Domain errors. Each carries what went wrong and where, so an adapter (HTTP, Lambda,
 * EventBridge) can turn it into the right status or dead-letter reason without parsing text.
 */

/** Problem is one thing wrong with an input, located by a dotted field path (like `istioctl analyze`). */
export interface Problem {
  readonly path: string;
  readonly message: string;
}

/** describeProblems joins problems into one line, each led by its path. */
export function describeProblems(problems: readonly Problem[]): string {
  return problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)).join('; ');
}

/** ValidationError says an input was rejected; nothing was written. Maps to HTTP 400. */
export class ValidationError extends Error {
  override readonly name = 'ValidationError';
  constructor(
    readonly subject: string,
    readonly problems: readonly Problem[],
  ) {
    super(`${subject}: ${describeProblems(problems)}`);
  }
}

/** NotFoundError says the named thing does not exist. Maps to HTTP 404. */
export class NotFoundError extends Error {
  override readonly name = 'NotFoundError';
  constructor(readonly what: string) {
    super(`${what} not found`);
  }
}

/** ConflictError says a conditional write lost to a concurrent or newer one. Maps to HTTP 409. */
export class ConflictError extends Error {
  override readonly name = 'ConflictError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** StoreUnavailableError wraps a failed read or write of the state table: retryable, never a client mistake. */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
  constructor(operation: string, options?: { cause?: unknown }) {
    super(`state store unavailable during ${operation}`, options);
  }
}

/**
 * ConditionFailedError says a conditional write found the item not as it expected, so nothing
 * was written. The store turns DynamoDB's ConditionalCheckFailedException into it in one place;
 * a caller either reads it as an answer ('stale') or turns it into a ConflictError.
 */
export class ConditionFailedError extends Error {
  override readonly name = 'ConditionFailedError';
  constructor(
    readonly operation: string,
    options?: { cause?: unknown },
  ) {
    super(`the condition of ${operation} did not hold; nothing was written`, options);
  }
}

/** CorruptItemError says a stored item is not what its key promises: it is never used half-read. */
export class CorruptItemError extends Error {
  override readonly name = 'CorruptItemError';
  constructor(
    readonly key: { readonly pk: unknown; readonly sk: unknown },
    readonly problems: readonly Problem[],
  ) {
    super(`stored item ${String(key.pk)} / ${String(key.sk)} is corrupt: ${describeProblems(problems)}`);
  }
}

/**
 * InconsistentSnapshotError says a rendered snapshot failed its consistency check (a reference
 * that does not resolve): it is never stored, and a spec change that would produce it is not
 * stored either. A renderer bug, not a client mistake.
 */
export class InconsistentSnapshotError extends Error {
  override readonly name = 'InconsistentSnapshotError';
  constructor(
    readonly service: string,
    readonly problems: readonly string[],
  ) {
    super(`inconsistent snapshot for "${service}": ${problems.join('; ')}`);
  }
}
