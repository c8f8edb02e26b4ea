import * as z from '../model/zod';

/**
 * The EventBridge envelope every AWS event arrives in. AWS adds fields over time, so unknown
 * properties are tolerated everywhere; what we rely on is checked.
 */
export const eventEnvelopeSchema = z.looseObject({
  version: z.literal('0'),
  id: z.string().check(z.minLength(1)),
  'detail-type': z.string().check(z.minLength(1)),
  source: z.string().check(z.minLength(1)),
  account: z.optional(z.string()),
  time: z.iso.datetime({ offset: true }),
  region: z.optional(z.string()),
  resources: z.optional(z.array(z.string())),
  detail: z.record(z.string(), z.unknown()),
});

export type EventEnvelope = z.output<typeof eventEnvelopeSchema>;

/** LifecycleEventError names the event and what is wrong with it; it is thrown so the platform retries and dead-letters. */
export class LifecycleEventError extends Error {
  override readonly name = 'LifecycleEventError';
  constructor(
    readonly eventId: string,
    problem: string,
    options?: { cause?: unknown },
  ) {
    super(`event ${eventId}: ${problem}`, options);
  }
}
