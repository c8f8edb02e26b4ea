import { LifecycleActions, LifecycleHookRef } from '../../../shared/lifecycle/ports';

/**
 * AutoScalingApi is the two Auto Scaling calls the functions make. In the bundles they are the
 * signed Query requests of autoscaling-query.ts (the SDK's client and the Query protocol it
 * alone needs are about 30 KB of each bundle); tests adapt the SDK's client to it
 * (test/support/sdk-lifecycle.ts) and mock that at the SDK boundary. Failures throw errors
 * named by Auto Scaling's error code, as the SDK's do.
 */
export interface AutoScalingApi {
  completeLifecycleAction(input: {
    AutoScalingGroupName: string;
    LifecycleHookName: string;
    LifecycleActionToken: string;
    LifecycleActionResult: string;
  }): Promise<unknown>;
  describeAutoScalingInstances(input: { InstanceIds: string[]; MaxRecords?: number; NextToken?: string }): Promise<{
    readonly AutoScalingInstances?: readonly { readonly InstanceId?: string; readonly LifecycleState?: string }[];
    readonly NextToken?: string;
  }>;
}

/**
 * AutoScalingLifecycleActions completes lifecycle actions by token. Auto Scaling answers a
 * token it no longer waits on (completed before, or the hook timed out) with a
 * ValidationError "No active Lifecycle Action found": the instance has moved on, so that
 * is reported as `expired`, not as a failure to retry.
 */
export class AutoScalingLifecycleActions implements LifecycleActions {
  constructor(private readonly autoScaling: Pick<AutoScalingApi, 'completeLifecycleAction'>) {}

  async complete(hook: LifecycleHookRef, result: 'CONTINUE' | 'ABANDON'): Promise<'completed' | 'expired'> {
    try {
      await this.autoScaling.completeLifecycleAction({
        AutoScalingGroupName: hook.autoScalingGroupName,
        LifecycleHookName: hook.lifecycleHookName,
        LifecycleActionToken: hook.lifecycleActionToken,
        LifecycleActionResult: result,
      });
      return 'completed';
    } catch (err) {
      if (err instanceof Error && err.name === 'ValidationError' && /no active lifecycle action found/i.test(err.message)) {
        return 'expired';
      }
      throw err;
    }
  }
}
