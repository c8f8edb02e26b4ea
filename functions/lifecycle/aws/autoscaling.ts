import { AutoScalingClient, CompleteLifecycleActionCommand } from '@aws-sdk/client-auto-scaling';
import { LifecycleActions, LifecycleHookRef } from '../../../shared/lifecycle/ports';

/**
 * AutoScalingLifecycleActions completes lifecycle actions by token. Auto Scaling answers a
 * token it no longer waits on (completed before, or the hook timed out) with a
 * ValidationError "No active Lifecycle Action found": the instance has moved on, so that
 * is reported as `expired`, not as a failure to retry.
 */
export class AutoScalingLifecycleActions implements LifecycleActions {
  constructor(private readonly autoScaling: AutoScalingClient) {}

  async complete(hook: LifecycleHookRef, result: 'CONTINUE' | 'ABANDON'): Promise<'completed' | 'expired'> {
    try {
      await this.autoScaling.send(
        new CompleteLifecycleActionCommand({
          AutoScalingGroupName: hook.autoScalingGroupName,
          LifecycleHookName: hook.lifecycleHookName,
          LifecycleActionToken: hook.lifecycleActionToken,
          LifecycleActionResult: result,
        }),
      );
      return 'completed';
    } catch (err) {
      if (err instanceof Error && err.name === 'ValidationError' && /no active lifecycle action found/i.test(err.message)) {
        return 'expired';
      }
      throw err;
    }
  }
}
