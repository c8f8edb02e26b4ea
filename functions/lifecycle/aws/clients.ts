import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { fromEnv } from '@aws-sdk/credential-provider-env';
import { ECSClient } from '@aws-sdk/client-ecs';
import { SQSClient } from '@aws-sdk/client-sqs';
import { LifecycleDeps } from '../../../shared/lifecycle/handle';
import { AutoScalingLifecycleActions } from './autoscaling';
import { DescribeInstancesApi, Ec2Instances } from './ec2';
import { ec2DescribeInstances } from './ec2-describe-instances';
import { EcsContainerInstances } from './ecs';
import { SqsDrainScheduler } from './sqs';

/** LifecycleEnvironment is the part of a function's environment the lifecycle ports read. */
export interface LifecycleEnvironment {
  readonly region: string;
  readonly meshTagKey: string;
  /** The queue of delayed drain completions (DRAIN_QUEUE_URL); without it terminate hooks are rejected. */
  readonly drainQueueUrl?: string;
  /** The hooks that are ours (LIFECYCLE_HOOK_NAMES, comma-separated); unset: every hook the rule delivers. */
  readonly lifecycleHookNames?: ReadonlySet<string>;
}

export function readLifecycleEnvironment(env: NodeJS.ProcessEnv, region: string, meshTagKey: string): LifecycleEnvironment {
  const names = (env.LIFECYCLE_HOOK_NAMES ?? '')
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  return {
    region,
    meshTagKey,
    ...(env.DRAIN_QUEUE_URL ? { drainQueueUrl: env.DRAIN_QUEUE_URL } : {}),
    ...(names.length > 0 ? { lifecycleHookNames: new Set(names) } : {}),
  };
}

/**
 * awsLifecycleDeps wires the AWS adapters of every lifecycle port: one client per service, per
 * container. EC2 is the signed DescribeInstances of ec2-describe-instances.ts unless one is given
 * (tests pass the SDK's client, mocked).
 */
export function awsLifecycleDeps(
  store: LifecycleDeps['store'],
  env: LifecycleEnvironment,
  ec2: DescribeInstancesApi = ec2DescribeInstances({ region: env.region, credentials: fromEnv() }),
): LifecycleDeps {
  const ecs = new ECSClient({ region: env.region });
  const autoScaling = new AutoScalingClient({ region: env.region });
  return {
    store,
    containerInstances: new EcsContainerInstances(ecs, ec2),
    instances: new Ec2Instances(ec2, autoScaling),
    lifecycleActions: new AutoScalingLifecycleActions(autoScaling),
    ...(env.drainQueueUrl ? queueSchedulers(new SqsDrainScheduler(new SQSClient({ region: env.region }), env.drainQueueUrl)) : {}),
    meshTagKey: env.meshTagKey,
    // The account is read from the function's own ARN at the first invocation (createLifecycleHandler).
    deployment: { region: env.region },
    ...(env.lifecycleHookNames ? { lifecycleHookNames: env.lifecycleHookNames } : {}),
  };
}

/** The drain queue carries both delayed drain completions and launch readiness checks. */
function queueSchedulers(scheduler: SqsDrainScheduler): Pick<LifecycleDeps, 'drainScheduler' | 'readinessScheduler'> {
  return { drainScheduler: scheduler, readinessScheduler: scheduler };
}
