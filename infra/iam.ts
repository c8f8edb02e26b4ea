import { Stack, Token, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { catalogPk, changeLogPartition, nodeStatusPartitionPrefix, prefixes } from '../shared/store/layout';

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
 * nodeStatusWrites lets the xds function write what it must (the polling node's status) and
 * nothing else: PutItem on the table, only where the partition key is a node-status partition
 * (`NODES#<service>`, which holds no other kind of item: docs/table-layout.md). A caller that
 * forged its way into the function, or a bug in it, cannot overwrite a spec, a snapshot or a
 * sealed key. UpdateItem and DeleteItem are not granted: the function never calls them.
 */
export function nodeStatusWrites(table: dynamodb.ITable): iam.PolicyStatement {
  return new iam.PolicyStatement({
    actions: ['dynamodb:PutItem'],
    resources: [table.tableArn],
    conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${nodeStatusPartitionPrefix}*`] } },
  });
}

/**
 * rebuildWrites lets the rebuild function write what a rebuild writes and nothing else of the
 * table: snapshots and assignment shards (`SVC#<name>`), the change log records those writes
 * append (`CHANGES#<shard>`) and its own state (`CATALOG / REBUILD`); never node status or
 * rollouts. DeleteItem removes an assignment's replaced shards.
 */
export function rebuildWrites(table: dynamodb.ITable): iam.PolicyStatement {
  return new iam.PolicyStatement({
    actions: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
    resources: [table.tableArn],
    // The change log's partitions are `CHANGES#<shard>`: the prefix of shard 0's name, then any shard.
    conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [catalogPk, `${prefixes.service}*`, `${changeLogPartition(0).slice(0, -1)}*`] } },
  });
}

/**
 * certificateAuthorityReads lets the push-certificate function read the mesh CA certificate
 * and nothing else of the state: GetItem, only in the catalog partition (where the CA item
 * is), so that function, which may sign with the CA key, sees no service's secrets.
 */
export function certificateAuthorityReads(table: dynamodb.ITable): iam.PolicyStatement {
  return new iam.PolicyStatement({
    actions: ['dynamodb:GetItem'],
    resources: [table.tableArn],
    conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [catalogPk] } },
  });
}

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

/**
 * acknowledgeEcsWildcards records, for cdk-nag, why a function's ECS reads name `<type>/*`:
 * ECS task and container-instance ARNs are made at run time, so the statement names the
 * account's resources of that type and the `ecs:cluster` condition narrows them to the
 * control plane's clusters when they are given (ecsClusterArns).
 */
export function acknowledgeEcsWildcards(fn: Construct, resourceTypes: readonly ('task' | 'container-instance')[]): void {
  // cdk-nag names the resource as the template has it: the stack's region and account, or their pseudo parameters.
  const stack = Stack.of(fn);
  const region = Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
  const account = Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account;
  for (const type of resourceTypes) {
    Validations.of(fn).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecs:${region}:${account}:${type}/*]`,
      reason: `ECS ${type} ARNs are made at run time: the account's ${type}s in this region, narrowed to the control plane's clusters by the ecs:cluster condition when ecsClusterArns is given`,
    });
  }
}

/**
 * grantKeyUse lets one function use a key for exactly these actions: in the key's policy (a key
 * this stack made; an imported key's policy is left alone) and in the function's IAM policy.
 */
export function grantKeyUse(key: kms.IKey, fn: lambda.IFunction, actions: string[]): void {
  key.grant(fn, ...actions);
  key.addToResourcePolicy(new iam.PolicyStatement({ principals: [fn.role!], actions, resources: ['*'] }));
}
