import { Duration, Fn } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { functionEntries, meshPageSourceDir } from './paths';
import { MeshFunction } from './mesh-function';
import { nodeStatusWrites, tableActions } from './iam';
import { defaults } from '../shared/config';
import { meshPageFiles } from '../shared/api/mesh-page';
import { meshPageDirName } from '../functions/admin/page-files';

export interface FrontDoorProps {
  readonly table: dynamodb.Table;
  /** The environment every function shares (table, render settings, mesh tag). */
  readonly environment: Record<string, string>;
  readonly snapshotCacheTtlMs: number;
  readonly logRetention?: logs.RetentionDays;
}

/**
 * frontDoor builds how the world reaches the control plane: the xDS function Envoys poll (a
 * function URL with AWS_IAM auth), the management API, and the handler behind the MeshService
 * custom resource. Built in the ControlPlane's scope (see state-store.ts).
 */
export function frontDoor(scope: Construct, props: FrontDoorProps) {
  const { table, environment, logRetention } = props;
  const xdsFunction = new MeshFunction(scope, 'Xds', {
    entry: functionEntries.xds,
    serviceName: 'xds',
    description: 'REST xDS front door: answers Envoy discovery polls',
    memorySize: 512,
    timeout: Duration.seconds(defaults.xdsTimeoutSeconds),
    environment: { ...environment, SNAPSHOT_CACHE_TTL_MS: String(props.snapshotCacheTtlMs) },
    logRetention,
  });
  // Reads snapshots and assignments; writes the polling node's status, and only that.
  table.grant(xdsFunction, ...tableActions.read);
  xdsFunction.addToRolePolicy(nodeStatusWrites(table));
  const xdsUrl = xdsFunction.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM });

  const adminFunction = new MeshFunction(scope, 'Admin', {
    entry: functionEntries.admin,
    serviceName: 'admin',
    description: 'Management API: declare and remove service specs, list nodes',
    memorySize: 512,
    timeout: Duration.seconds(15),
    environment,
    logRetention,
    // The mesh page is read from files beside the bundle, on its first request, not carried in it.
    besideBundle: { dir: meshPageDirName, from: meshPageSourceDir, files: meshPageFiles },
  });
  table.grant(adminFunction, ...tableActions.readWrite);
  const adminUrl = adminFunction.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM });
  // The management API's GET /bootstrap/<service> points Envoys at the front door.
  adminFunction.addEnvironment('XDS_URL', xdsUrl.url);

  const catalogFunction = new MeshFunction(scope, 'CatalogResource', {
    entry: functionEntries.catalogResource,
    serviceName: 'catalog-resource',
    description: 'CloudFormation custom resource: declares and removes MeshService specs',
    memorySize: 512,
    timeout: Duration.minutes(1),
    environment,
    logRetention,
  });
  table.grant(catalogFunction, ...tableActions.readWrite);
  const xdsHost = Fn.select(2, Fn.split('/', xdsUrl.url));
  return { xdsFunction, xdsUrl, xdsHost, adminFunction, adminUrl, catalogFunction };
}
