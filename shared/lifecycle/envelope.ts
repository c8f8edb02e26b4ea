import * as z from 'zod';

/**
 * The EventBridge envelope every AWS event arrives in. AWS adds fields over time, so unknown
 * properties are tolerated everywhere; what we rely on is checked.
 */
export const eventEnvelopeSchema = z
  .object({
    version: z.literal('0'),
    id: z.string().min(1),
    'detail-type': z.string().min(1),
    source: z.string().min(1),
    account: z.string().optional(),
    time: z.iso.datetime({ offset: true }),
    region: z.string().optional(),
    resources: z.array(z.string()).optional(),
    detail: z.record(z.string(), z.unknown()),
  })
  .loose();

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
