import * as z from '../model/zod';
import { EndpointChange } from '../model/endpoint';
import { applyEndpointChanges } from '../state/endpoints';
import { EndpointStore } from '../state/endpoints';
import { terminalOrderingKey } from './ec2-instance';
import { DrainCompletion, LifecycleActions } from './ports';

/** drainCompletionSchema checks a DrainCompletion read back from a queue message. */
export const drainCompletionSchema = z.strictObject({
  eventId: z.string().check(z.minLength(1)),
  service: z.string().check(z.minLength(1)),
  hook: z.strictObject({
    autoScalingGroupName: z.string().check(z.minLength(1)),
    lifecycleHookName: z.string().check(z.minLength(1)),
    lifecycleActionToken: z.string().check(z.minLength(1)),
    instanceId: z.string().check(z.regex(/^i-[0-9a-f]{8,32}$/)),
  }),
});

export interface DrainCompletionResult {
  readonly action: 'completed' | 'expired';
  readonly endpoint: 'applied' | 'stale';
}

/**
 * completeDrain is the end of a terminate hook, once the drain period is over: it lets Auto
 * Scaling terminate the instance (CONTINUE), then removes its endpoint for good (a terminal
 * tombstone). Both steps are idempotent, so a retried message repeats them harmlessly; an
 * action Auto Scaling no longer waits on is already done.
 */
export async function completeDrain(
  deps: { readonly store: EndpointStore; readonly lifecycleActions: LifecycleActions; readonly now?: () => Date },
  completion: DrainCompletion,
): Promise<DrainCompletionResult> {
  const action = await deps.lifecycleActions.complete(completion.hook, 'CONTINUE');
  const change: EndpointChange = {
    kind: 'remove',
    service: completion.service,
    id: completion.hook.instanceId,
    source: {
      kind: 'ec2-instance',
      eventId: completion.eventId,
      eventTime: (deps.now?.() ?? new Date()).toISOString(),
      orderingKey: terminalOrderingKey,
    },
  };
  const [outcome] = await applyEndpointChanges(deps.store, [change]);
  return { action, endpoint: outcome!.result };
}
