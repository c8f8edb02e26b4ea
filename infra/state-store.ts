import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { tableDefinition } from '../shared/store/layout';
import { ControlPlaneProps } from './control-plane-props';

/**
 * stateStore builds the control plane's state: the one table (docs/table-layout.md) and the KMS
 * keys of the mesh CA and of the sealing of private keys, which go with the table.
 *
 * Like every part of ControlPlane, it builds its resources in the ControlPlane's own scope, so
 * they keep the logical IDs they had when one constructor built them all: splitting the
 * construct never replaces a deployed table, key, queue or function URL.
 */
export function stateStore(
  scope: Construct,
  props: Pick<ControlPlaneProps, 'tableRemovalPolicy' | 'deletionProtection' | 'pointInTimeRecovery' | 'meshKeys'>,
): { table: dynamodb.Table; dataKey?: kms.IKey; caKey?: kms.IKey } {
  const removalPolicy = props.tableRemovalPolicy ?? RemovalPolicy.RETAIN;
  const table = new dynamodb.Table(scope, 'Table', {
    partitionKey: { name: tableDefinition.partitionKey, type: dynamodb.AttributeType.STRING },
    sortKey: { name: tableDefinition.sortKey, type: dynamodb.AttributeType.STRING },
    timeToLiveAttribute: tableDefinition.ttlAttribute,
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: props.pointInTimeRecovery ?? true },
    deletionProtection: props.deletionProtection ?? true,
    removalPolicy,
    encryption: dynamodb.TableEncryption.AWS_MANAGED,
  });
  if (props.meshKeys === false) return { table };
  // The keys go with the table: a kept table with a deleted key holds secrets no one can open.
  const dataKey =
    props.meshKeys?.dataKey ??
    new kms.Key(scope, 'DataKey', {
      description: 'Envoy mesh: seals service private keys',
      enableKeyRotation: true,
      removalPolicy,
      policy: administeredOnly(),
    });
  const caKey =
    props.meshKeys?.caKey ??
    new kms.Key(scope, 'CaKey', {
      description: 'Envoy mesh: certificate authority',
      keySpec: kms.KeySpec.ECC_NIST_P256,
      keyUsage: kms.KeyUsage.SIGN_VERIFY,
      removalPolicy,
      policy: administeredOnly(),
    });
  return { table, dataKey, caKey };
}

/**
 * keyAdministrationActions are what the account (through IAM) may do with a mesh key: manage
 * it, never use it. KMS requires a key policy that lets some principal manage the key (its
 * lockout safety check refuses a policy nobody could change again, and CloudFormation must be
 * able to update and delete the key), so the account root keeps these; with no cryptographic
 * action among them, an IAM policy (say `kms:*` on `*`) cannot let anyone sign or decrypt. The
 * roles that use a key are named in its key policy (ControlPlane.grantMeshKeys). The residual
 * risk: an administrator allowed kms:PutKeyPolicy can rewrite the policy (README, "Security").
 */
export const keyAdministrationActions = [
  'kms:Create*',
  'kms:Describe*',
  'kms:Enable*',
  'kms:List*',
  'kms:Put*',
  'kms:Update*',
  'kms:Revoke*',
  'kms:Disable*',
  'kms:Get*',
  'kms:Delete*',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:ScheduleKeyDeletion',
  'kms:CancelKeyDeletion',
] as const;

/** administeredOnly is the starting key policy of a mesh key: the account administers it, nobody uses it yet. */
function administeredOnly(): iam.PolicyDocument {
  return new iam.PolicyDocument({
    statements: [
      new iam.PolicyStatement({
        sid: 'AccountAdministersNeverUses',
        principals: [new iam.AccountRootPrincipal()],
        actions: [...keyAdministrationActions],
        resources: ['*'],
      }),
    ],
  });
}
