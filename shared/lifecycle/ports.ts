/**
 * The AWS lookups and actions the lifecycle pipeline needs, as small ports. The domain core
 * only sees these interfaces; the adapters in `functions/lifecycle/aws/` implement them with
 * the AWS SDK (and are what tests run, against aws-sdk-client-mock).
 */

/** InstanceDescription is what DescribeInstances (and, for the reconciler, Auto Scaling) tells about one EC2 instance. */
export interface InstanceDescription {
  readonly instanceId: string;
  /** EC2 state name: pending, running, stopping, stopped, shutting-down, terminated. */
  readonly state: string;
  readonly privateIp?: string;
  readonly zone?: string;
  readonly instanceType?: string;
  readonly tags: Readonly<Record<string, string>>;
  /** The Auto Scaling lifecycle state (e.g. `InService`, `Terminating:Wait`), when known. */
  readonly lifecycleState?: string;
}

/** InstanceDirectory looks up one EC2 instance; undefined when EC2 does not know it. */
export interface InstanceDirectory {
  describeInstance(instanceId: string): Promise<InstanceDescription | undefined>;
}

/** InstanceInventory lists every instance carrying a tag key, with its Auto Scaling lifecycle state (reconciler). */
export interface InstanceInventory {
  listTaggedInstances(tagKey: string): Promise<InstanceDescription[]>;
  /**
   * confirmGone asks EC2 about these instances by id, independently of the listing: the ones
   * it reports stopped, terminated or unknown are gone. It confirms nothing it cannot read.
   */
  confirmGone?(instanceIds: readonly string[]): Promise<ReadonlySet<string>>;
}

/**
 * ContainerInstanceDirectory resolves an ECS container instance to its EC2 private IP: bridge
 * and host mode tasks are reached on their host's address. Undefined when it cannot be found.
 */
export interface ContainerInstanceDirectory {
  privateIpOf(clusterArn: string, containerInstanceArn: string): Promise<string | undefined>;
}

/** LifecycleHookRef names one pending Auto Scaling lifecycle action. */
export interface LifecycleHookRef {
  readonly autoScalingGroupName: string;
  readonly lifecycleHookName: string;
  readonly lifecycleActionToken: string;
  readonly instanceId: string;
}

/**
 * LifecycleActions completes lifecycle actions. `expired` means Auto Scaling no longer waits
 * on this action (completed before, or the hook timed out): the instance has moved on, which
 * is what completing would have achieved.
 */
export interface LifecycleActions {
  complete(hook: LifecycleHookRef, result: 'CONTINUE' | 'ABANDON'): Promise<'completed' | 'expired'>;
}

/**
 * DrainCompletion is the deferred second half of a terminate hook: after the drain period,
 * complete the action and remove the endpoint.
 */
export interface DrainCompletion {
  readonly eventId: string;
  readonly service: string;
  readonly hook: LifecycleHookRef;
}

/** DrainScheduler runs a DrainCompletion after a delay (SQS DelaySeconds in AWS, a timer locally). */
export interface DrainScheduler {
  schedule(completion: DrainCompletion, delaySeconds: number): Promise<void>;
}

/**
 * EcsTaskInventory lists the tasks of one ECS cluster as DescribeTasks reports them
 * (reconciler). One listing per cluster, not per service: the API calls then grow with the
 * tasks (100 per page), not with the number of declared services.
 */
export interface EcsTaskInventory {
  /** Tasks whose desired status is RUNNING; each in the shape of an ECS task state change's `detail`. */
  listClusterTasks(cluster: string): Promise<ClusterTaskListing>;
  /**
   * confirmGone asks ECS about these tasks by ARN (DescribeTasks), independently of the
   * listing: the ones it reports STOPPED or MISSING are gone. It confirms nothing it cannot read.
   */
  confirmGone?(cluster: string, taskArns: readonly string[]): Promise<ReadonlySet<string>>;
}

/**
 * ClusterTaskListing is one cluster's listing: the tasks DescribeTasks described, and the
 * ARNs ListTasks named that it could not describe (its `failures`). Those are unknown, not
 * gone: the reconciler must not take them for vanished.
 */
export interface ClusterTaskListing {
  readonly tasks: readonly Record<string, unknown>[];
  readonly undescribed: readonly string[];
}
