import { Duration, Fn } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { functionEntries } from './paths';
import { MeshFunction } from './mesh-function';
import { tableActions } from './iam';

export interface FrontDoorProps {
  readonly table: dynamodb.Table;
  /** The environment every function shares (table, render settings, mesh tag). */
  readonly environment: Record<string, string>;
  readonly snapshotCacheTtlMs: number;
  readonly logRetention?: logs.RetentionDays;
}

/**
 * FrontDoor is how the world reaches the control plane: the xDS function Envoys poll (a
 * function URL with AWS_IAM auth), the management API, and the handler behind the MeshService
 * custom resource. Built in the ControlPlane's scope (see StateStore).
 */
export class FrontDoor {
  public readonly xdsFunction: MeshFunction;
  public readonly xdsUrl: lambda.FunctionUrl;
  /** The front door's host name (`<id>.lambda-url.<region>.on.aws`), known at deploy time. */
  public readonly xdsHost: string;
  public readonly adminFunction: MeshFunction;
  public readonly adminUrl: lambda.FunctionUrl;
  /** The custom resource handler behind MeshService. */
  public readonly catalogFunction: MeshFunction;

  constructor(scope: Construct, props: FrontDoorProps) {
    const { table, environment, logRetention } = props;
    this.xdsFunction = new MeshFunction(scope, 'Xds', {
      entry: functionEntries.xds,
      serviceName: 'xds',
      description: 'REST xDS front door: answers Envoy discovery polls',
      memorySize: 512,
      timeout: Duration.seconds(5),
      environment: { ...environment, SNAPSHOT_CACHE_TTL_MS: String(props.snapshotCacheTtlMs) },
      logRetention,
    });
    // Reads snapshots and assignments, writes the polling node's status.
    table.grant(this.xdsFunction, ...tableActions.read, 'dynamodb:PutItem', 'dynamodb:UpdateItem');
    this.xdsUrl = this.xdsFunction.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM });
    this.xdsHost = Fn.select(2, Fn.split('/', this.xdsUrl.url));

    this.adminFunction = new MeshFunction(scope, 'Admin', {
      entry: functionEntries.admin,
      serviceName: 'admin',
      description: 'Management API: declare and remove service specs, list nodes',
      memorySize: 512,
      timeout: Duration.seconds(15),
      environment,
      logRetention,
    });
    table.grant(this.adminFunction, ...tableActions.readWrite);
    this.adminUrl = this.adminFunction.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM });
    // The management API's GET /bootstrap/<service> points Envoys at the front door.
    this.adminFunction.addEnvironment('XDS_URL', this.xdsUrl.url);

    this.catalogFunction = new MeshFunction(scope, 'CatalogResource', {
      entry: functionEntries.catalogResource,
      serviceName: 'catalog-resource',
      description: 'CloudFormation custom resource: declares and removes MeshService specs',
      memorySize: 512,
      timeout: Duration.minutes(1),
      environment,
      logRetention,
    });
    table.grant(this.catalogFunction, ...tableActions.readWrite);
  }
}
