import { fromEnv } from '@aws-sdk/credential-provider-env';
import { LifecycleDeps } from '../../../shared/lifecycle/handle';
import { AutoScalingApi, AutoScalingLifecycleActions } from './autoscaling';
import { autoScalingQuery } from './autoscaling-query';
import { DescribeInstancesApi, Ec2Instances } from './ec2';
import { ec2DescribeInstances } from './ec2-describe-instances';
import { EcsApi, EcsContainerInstances } from './ecs';
import { ecsJson } from './ecs-json';
import { SqsDrainScheduler, SqsSendMessageApi } from './sqs';
import { sqsSendMessage } from './sqs-send-message';

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

/** LeanAwsClients are the lifecycle ports' AWS calls. */
export interface LeanAwsClients {
  readonly ec2: DescribeInstancesApi;
  readonly ecs: Pick<EcsApi, 'describeContainerInstances'>;
  readonly autoScaling: AutoScalingApi;
  readonly sqs: SqsSendMessageApi;
}

/** leanAwsClients are the signed requests the bundles make instead of the SDK's EC2, ECS, Auto Scaling and SQS clients (docs/deploy.md). */
export function leanAwsClients(region: string): LeanAwsClients {
  const credentials = fromEnv();
  return {
    ec2: ec2DescribeInstances({ region, credentials }),
    ecs: ecsJson({ region, credentials }),
    autoScaling: autoScalingQuery({ region, credentials }),
    sqs: sqsSendMessage({ region, credentials }),
  };
}

/**
 * awsLifecycleDeps wires the AWS adapters of every lifecycle port: one client per service, per
 * container. EC2, ECS, Auto Scaling and SQS are the signed requests of leanAwsClients unless others
 * are given (tests pass the SDK's clients, mocked).
 */
export function awsLifecycleDeps(
  store: LifecycleDeps['store'],
  env: LifecycleEnvironment,
  clients: LeanAwsClients = leanAwsClients(env.region),
): LifecycleDeps {
  return {
    store,
    containerInstances: new EcsContainerInstances(clients.ecs, clients.ec2),
    instances: new Ec2Instances(clients.ec2, clients.autoScaling),
    lifecycleActions: new AutoScalingLifecycleActions(clients.autoScaling),
    ...(env.drainQueueUrl ? queueSchedulers(new SqsDrainScheduler(clients.sqs, env.drainQueueUrl)) : {}),
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
