import * as z from '../model/zod';
import { NodeStatus } from '../model/node-status';
import { NodeStatusRepository } from '../store/repositories';
import { applyEndpointChanges, EndpointStore } from '../state/endpoints';
import { drainCompletionSchema } from './drain';
import { instanceOrderingKey, instanceStateRank } from './ec2-instance';
import { LifecycleActions, LifecycleHookRef } from './ports';

/** ReadinessStore is what readiness reads (the node's status) and writes (its endpoint). */
export type ReadinessStore = EndpointStore & Pick<NodeStatusRepository, 'getNodeStatus'>;

/**
 * LaunchReadiness is a launching instance waiting in the Auto Scaling launch hook until its
 * Envoy has configuration from the control plane. Auto Scaling puts an instance in service
 * (and in its load balancers' target groups) when the hook completes; completing it before
 * user data has started Envoy sends traffic to a node without its sidecar.
 */
export interface LaunchReadiness {
  readonly kind: 'launch-readiness';
  readonly eventId: string;
  readonly service: string;
  readonly hook: LifecycleHookRef;
  /** When to give up: the hook is then completed with ABANDON (ISO time). */
  readonly deadline: string;
}

/** launchReadinessSchema checks a LaunchReadiness read back from a queue message. */
export const launchReadinessSchema = z.strictObject({
  kind: z.literal('launch-readiness'),
  eventId: z.string().check(z.minLength(1)),
  service: z.string().check(z.minLength(1)),
  hook: drainCompletionSchema.shape.hook,
  deadline: z.iso.datetime(),
});

/** ReadinessScheduler checks a launching instance again after a delay (a delayed SQS message in AWS). */
export interface ReadinessScheduler {
  scheduleCheck(check: LaunchReadiness, delaySeconds: number): Promise<void>;
}

/** How often a launching instance is checked: Envoy's first CDS and LDS answers take a few polls. */
export const readinessRecheckSeconds = 15;

/**
 * nodeHasConfig tells whether an Envoy has applied configuration from the control plane: its
 * CDS and LDS subscriptions each report a version (Envoy's REST client sends `version_info`
 * only once it has accepted an update). A node whose polls are refused never gets here.
 */
export function nodeHasConfig(status: NodeStatus | undefined): boolean {
  if (!status) return false;
  const applied = (type: string) => Object.values(status.subscriptions).some((s) => s.type === type && s.appliedVersion !== '');
  return applied('clusters') && applied('listeners');
}

export type ReadinessResult =
  | { readonly state: 'ready'; readonly action: 'completed' | 'expired' }
  | { readonly state: 'waiting'; readonly nextCheckSeconds: number }
  | { readonly state: 'timed-out'; readonly action: 'completed' | 'expired'; readonly reason: string };

export interface ReadinessDeps {
  readonly store: ReadinessStore;
  readonly lifecycleActions: LifecycleActions;
  readonly scheduler: ReadinessScheduler;
  readonly now: () => Date;
  /** @default readinessRecheckSeconds */
  readonly recheckSeconds?: number;
}

/**
 * checkLaunchReadiness lets a launching instance go in service once its Envoy has config
 * (CONTINUE), checks again later while it has not, and past the deadline gives up with
 * ABANDON and a reason that says what to look at: Auto Scaling then replaces the instance
 * instead of sending traffic to a node without config. The node id of an instance is its
 * instance id (the EC2 user data sets it so).
 */
export async function checkLaunchReadiness(deps: ReadinessDeps, check: LaunchReadiness): Promise<ReadinessResult> {
  const status = await deps.store.getNodeStatus(check.service, check.hook.instanceId);
  const now = deps.now();
  if (nodeHasConfig(status)) {
    // Callers first, then Auto Scaling: a retried check repeats both harmlessly.
    await markHealthy(deps.store, check, now);
    return { state: 'ready', action: await deps.lifecycleActions.complete(check.hook, 'CONTINUE') };
  }
  const left = Math.ceil((Date.parse(check.deadline) - now.getTime()) / 1000);
  if (left <= 0) {
    const seen = status
      ? `it polled (last at ${status.lastPollAt}) but has not applied clusters and listeners: look for NACKs in GET /nodes?service=${check.service}`
      : `no poll from it was ever accepted: is its role bound to "${check.service}" (PollsRefused, the xds log's "poll refused"), and did its user data start Envoy (the instance's Envoy log)?`;
    return {
      state: 'timed-out',
      action: await deps.lifecycleActions.complete(check.hook, 'ABANDON'),
      reason: `instance ${check.hook.instanceId} of "${check.service}" has no configuration from the control plane by ${check.deadline}: ${seen}`,
    };
  }
  const nextCheckSeconds = Math.min(deps.recheckSeconds ?? readinessRecheckSeconds, left);
  await deps.scheduler.scheduleCheck(check, nextCheckSeconds);
  return { state: 'waiting', nextCheckSeconds };
}

/**
 * markHealthy turns the launching instance's endpoint, registered unhealthy by the launch hook,
 * healthy: its Envoy has config, so callers may send it traffic. An endpoint already removed or
 * changed by a later event is left as it is (the ordering key decides).
 */
async function markHealthy(store: ReadinessStore, check: LaunchReadiness, now: Date): Promise<void> {
  const stored = await store.getEndpoint(check.service, check.hook.instanceId);
  if (!stored || stored.removed || stored.endpoint.health !== 'unhealthy') return;
  const orderingKey = instanceOrderingKey(now.getTime(), instanceStateRank('running'));
  await applyEndpointChanges(store, [
    {
      kind: 'upsert',
      endpoint: {
        ...stored.endpoint,
        health: 'healthy',
        source: { kind: 'ec2-instance', eventId: check.eventId, eventTime: now.toISOString(), orderingKey },
      },
    },
  ]);
}

/**
 * startLaunchReadiness is the launch hook's first check, when the lifecycle event arrives: the
 * deadline counts from the event's time, so a late delivery does not extend the wait.
 */
export async function startLaunchReadiness(
  deps: ReadinessDeps,
  launch: { readonly eventId: string; readonly eventTime: string; readonly service: string; readonly hook: LifecycleHookRef; readonly timeoutSeconds: number },
): Promise<ReadinessResult> {
  const deadline = new Date(Date.parse(launch.eventTime) + launch.timeoutSeconds * 1000).toISOString();
  return checkLaunchReadiness(deps, { kind: 'launch-readiness', eventId: launch.eventId, service: launch.service, hook: launch.hook, deadline });
}
