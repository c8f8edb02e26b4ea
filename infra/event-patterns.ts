import type * as events from 'aws-cdk-lib/aws-events';

/**
 * The lifecycle rules' event patterns, narrowed as far as EventBridge allows so the lifecycle
 * function is invoked (and paid for) only for events it can act on. Shapes: /work AWS-EVENTS
 * notes and the EventBridge pages of ECS, EC2 and EC2 Auto Scaling.
 */

/**
 * ecsTaskStatuses are the task states that change an endpoint: RUNNING (serve, or drain once
 * desiredStatus is STOPPED), the stopping states (drain) and STOPPED (remove). PROVISIONING,
 * PENDING and ACTIVATING change nothing a poll would see, so they are not delivered.
 */
export const ecsTaskStatuses = ['RUNNING', 'DEACTIVATING', 'STOPPING', 'DEPROVISIONING', 'STOPPED'] as const;

/** ecsTaskStatePattern matches service tasks (group `service:<name>`), optionally in the given clusters only. */
export function ecsTaskStatePattern(clusterArns: readonly string[]): events.EventPattern {
  return {
    source: ['aws.ecs'],
    detailType: ['ECS Task State Change'],
    detail: {
      group: [{ prefix: 'service:' }],
      lastStatus: [...ecsTaskStatuses],
      ...(clusterArns.length > 0 ? { clusterArn: [...clusterArns] } : {}),
    },
  };
}

/** ec2InstanceStates are the states that start or end an instance's endpoint; `pending` changes nothing. */
export const ec2InstanceStates = ['running', 'stopping', 'stopped', 'shutting-down', 'terminated'] as const;

export function ec2InstanceStatePattern(): events.EventPattern {
  return {
    source: ['aws.ec2'],
    detailType: ['EC2 Instance State-change Notification'],
    detail: { state: [...ec2InstanceStates] },
  };
}

export const autoScalingLifecycleDetailTypes = [
  'EC2 Instance-launch Lifecycle Action',
  'EC2 Instance-terminate Lifecycle Action',
] as const;

/**
 * autoScalingLifecyclePattern matches the actions of our own hooks (by hook name: hooks other
 * tools put on the same groups are not ours to complete) on the groups attached to the
 * control plane. The group names are only known at deploy time, so they arrive as tokens.
 */
export function autoScalingLifecyclePattern(hookNames: readonly string[], groupNames: readonly string[]): events.EventPattern {
  return {
    source: ['aws.autoscaling'],
    detailType: [...autoScalingLifecycleDetailTypes],
    detail: {
      LifecycleHookName: [...hookNames],
      ...(groupNames.length > 0 ? { AutoScalingGroupName: [...groupNames] } : {}),
    },
  };
}
