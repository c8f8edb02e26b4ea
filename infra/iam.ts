import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

/** The DynamoDB actions the store uses (shared/store/dynamo/table.ts): no Scan, no table management. */
export const tableActions = {
  read: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'],
  readWrite: [
    'dynamodb:GetItem',
    'dynamodb:BatchGetItem',
    'dynamodb:Query',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
  ],
} as const;

/**
 * fleetReadStatements let a function see the fleet an event or a reconcile run is about: EC2
 * instances (their tags and addresses), Auto Scaling membership, and the container instances
 * ECS tasks run on. The lifecycle function and the reconciler both need exactly these.
 */
export function fleetReadStatements(scope: Construct, clusterArns: readonly string[] | undefined): iam.PolicyStatement[] {
  return [
    describeInstances(),
    describeAutoScalingInstances(),
    ecsStatement(scope, ['ecs:DescribeContainerInstances'], 'container-instance', clusterArns),
  ];
}

/** ec2:DescribeInstances supports no resource-level permissions: the action is named, the resource is `*`. */
function describeInstances(): iam.PolicyStatement {
  return new iam.PolicyStatement({ actions: ['ec2:DescribeInstances'], resources: ['*'] });
}

/** Auto Scaling's Describe* actions support no resource-level permissions either. */
function describeAutoScalingInstances(): iam.PolicyStatement {
  return new iam.PolicyStatement({ actions: ['autoscaling:DescribeAutoScalingInstances'], resources: ['*'] });
}

/** clusterCondition narrows an ECS statement to the given clusters, when there are any. */
function clusterCondition(clusterArns: readonly string[] | undefined): { conditions?: Record<string, unknown> } {
  return clusterArns && clusterArns.length > 0 ? { conditions: { ArnEquals: { 'ecs:cluster': [...clusterArns] } } } : {};
}

/**
 * listTasks: ecs:ListTasks is documented with the container-instance resource type, but a
 * ListTasks by cluster and service (what the reconciler calls; Fargate tasks have no container
 * instance) is reported denied when scoped so (awsdocs/amazon-ecs-developer-guide#211): `*`,
 * narrowed by the `ecs:cluster` condition when the clusters are known.
 */
export function listTasks(clusterArns: readonly string[] | undefined): iam.PolicyStatement {
  return new iam.PolicyStatement({ actions: ['ecs:ListTasks'], resources: ['*'], ...clusterCondition(clusterArns) });
}

/**
 * ecsStatement scopes ECS read actions to the account's resources of one type and, when the
 * control plane is given its clusters, to those clusters through the `ecs:cluster` condition.
 */
export function ecsStatement(
  scope: Construct,
  actions: string[],
  resourceType: 'task' | 'container-instance',
  clusterArns: readonly string[] | undefined,
): iam.PolicyStatement {
  const resource = Stack.of(scope).formatArn({ service: 'ecs', resource: resourceType, resourceName: '*' });
  return new iam.PolicyStatement({ actions, resources: [resource], ...clusterCondition(clusterArns) });
}
