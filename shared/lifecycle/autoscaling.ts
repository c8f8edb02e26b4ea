import * as z from '../model/zod';
import { toProblems } from '../model/spec';
import { EventEnvelope, LifecycleEventError } from './envelope';
import { LifecycleHookRef } from './ports';

export const autoScalingSource = 'aws.autoscaling';
export const launchLifecycleAction = 'EC2 Instance-launch Lifecycle Action';
export const terminateLifecycleAction = 'EC2 Instance-terminate Lifecycle Action';

const transitions = {
  [launchLifecycleAction]: 'autoscaling:EC2_INSTANCE_LAUNCHING',
  [terminateLifecycleAction]: 'autoscaling:EC2_INSTANCE_TERMINATING',
} as const;

/** The detail of an Auto Scaling lifecycle action event (EC2 Auto Scaling user guide, "lifecycle hooks"). */
export const lifecycleActionDetailSchema = z.looseObject({
  LifecycleActionToken: z.string().check(z.minLength(1)),
  AutoScalingGroupName: z.string().check(z.minLength(1)),
  LifecycleHookName: z.string().check(z.minLength(1)),
  EC2InstanceId: z.string().check(z.regex(/^i-[0-9a-f]{8,32}$/, 'must be an EC2 instance id (i-…)')),
  LifecycleTransition: z.enum(['autoscaling:EC2_INSTANCE_LAUNCHING', 'autoscaling:EC2_INSTANCE_TERMINATING']),
  NotificationMetadata: z.optional(z.string()),
});

export interface LifecycleAction {
  readonly transition: 'launch' | 'terminate';
  readonly hook: LifecycleHookRef;
  /**
   * How long a launching instance may take to get its Envoy configured, from the hook's
   * notification metadata (`readyTimeoutSeconds`, set by attachAutoScalingGroup). Absent: the
   * launch hook is completed at once.
   */
  readonly readyTimeoutSeconds?: number;
}

/** readyTimeoutOf reads `readyTimeoutSeconds` from a hook's notification metadata (JSON), if it holds a sane one. */
function readyTimeoutOf(metadata: string | undefined): number | undefined {
  if (!metadata) return undefined;
  try {
    const value = (JSON.parse(metadata) as { readyTimeoutSeconds?: unknown }).readyTimeoutSeconds;
    return Number.isInteger(value) && (value as number) > 0 && (value as number) <= 7200 ? (value as number) : undefined;
  } catch {
    return undefined;
  }
}

export function isLifecycleActionEvent(event: EventEnvelope): boolean {
  return event.source === autoScalingSource && event['detail-type'] in transitions;
}

/** parseLifecycleAction checks a lifecycle action event, including that its transition matches its detail-type. */
export function parseLifecycleAction(event: EventEnvelope): LifecycleAction {
  const parsed = lifecycleActionDetailSchema.safeParse(event.detail);
  if (!parsed.success) {
    const problems = toProblems(parsed.error).map((p) => `detail.${p.path}: ${p.message}`);
    throw new LifecycleEventError(event.id, `invalid Auto Scaling lifecycle action: ${problems.join('; ')}`);
  }
  const detailType = event['detail-type'] as keyof typeof transitions;
  const d = parsed.data;
  if (d.LifecycleTransition !== transitions[detailType]) {
    throw new LifecycleEventError(
      event.id,
      `detail.LifecycleTransition: "${d.LifecycleTransition}" does not match detail-type "${detailType}"`,
    );
  }
  return {
    transition: detailType === launchLifecycleAction ? 'launch' : 'terminate',
    hook: {
      autoScalingGroupName: d.AutoScalingGroupName,
      lifecycleHookName: d.LifecycleHookName,
      lifecycleActionToken: d.LifecycleActionToken,
      instanceId: d.EC2InstanceId,
    },
    ...(readyTimeoutOf(d.NotificationMetadata) !== undefined ? { readyTimeoutSeconds: readyTimeoutOf(d.NotificationMetadata) } : {}),
  };
}
