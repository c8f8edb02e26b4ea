import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

/**
 * The xds function trusts the caller the function URL verified (`requestContext.authorizer.iam`
 * in the event). Invoked directly (lambda:Invoke, not through the URL), the event is whatever
 * the invoker wrote, caller included, and nothing in it or in the Lambda context tells the two
 * apart. So the containment is in IAM: a principal may invoke the function only through its URL.
 *
 * The function's resource-based policy cannot say so: Lambda resource policies only allow, and
 * a principal of the same account needs no resource policy when its own policy allows
 * `lambda:InvokeFunction` (say `lambda:*` on `*`). An explicit Deny where the principal's own
 * permissions are evaluated can: in an identity policy (this construct's managed policy), a
 * permissions boundary, or an SCP (xdsGuardDocument), with the condition key Lambda added for
 * function URLs in October 2025, `lambda:InvokedViaFunctionUrl`, true only for invocations
 * through the URL. BoolIfExists also denies a call where the key is absent.
 */
export interface XdsGuardOptions {
  /**
   * Principals the guard must not stop, by ARN pattern (`aws:PrincipalArn`): in an SCP, the
   * role CloudFormation deploys with, which updates the function's code and configuration.
   * @default - none
   */
  readonly exemptPrincipalArns?: readonly string[];
}

/**
 * xdsChangeActions change what the xds function runs or who reaches it: whoever may call them
 * can make it serve any key, which is as strong as invoking it with a forged caller.
 */
export const xdsChangeActions = [
  'lambda:UpdateFunctionCode',
  'lambda:UpdateFunctionConfiguration',
  'lambda:AddPermission',
  'lambda:CreateFunctionUrlConfig',
  'lambda:UpdateFunctionUrlConfig',
  'lambda:CreateAlias',
  'lambda:UpdateAlias',
  'lambda:PublishVersion',
] as const;

/** xdsGuardStatements deny invoking the xds function other than through its URL, and changing what it runs or who reaches it. */
export function xdsGuardStatements(xds: lambda.IFunction, options: XdsGuardOptions = {}): iam.PolicyStatement[] {
  const resources = [xds.functionArn, `${xds.functionArn}:*`];
  const exempt = options.exemptPrincipalArns?.length ? { ArnNotLike: { 'aws:PrincipalArn': [...options.exemptPrincipalArns] } } : {};
  return [
    new iam.PolicyStatement({
      sid: 'XdsOnlyThroughItsUrl',
      effect: iam.Effect.DENY,
      actions: ['lambda:InvokeFunction'],
      resources,
      conditions: { BoolIfExists: { 'lambda:InvokedViaFunctionUrl': 'false' }, ...exempt },
    }),
    new iam.PolicyStatement({
      // The deprecated asynchronous API never comes from a function URL.
      sid: 'XdsNeverInvokedAsync',
      effect: iam.Effect.DENY,
      actions: ['lambda:InvokeAsync'],
      resources,
      ...(options.exemptPrincipalArns?.length ? { conditions: exempt } : {}),
    }),
    new iam.PolicyStatement({
      sid: 'XdsCodeAndAccessUnchanged',
      effect: iam.Effect.DENY,
      actions: [...xdsChangeActions],
      resources,
      ...(options.exemptPrincipalArns?.length ? { conditions: exempt } : {}),
    }),
  ];
}

/**
 * xdsGuardDocument is the guard as a policy document, for an SCP (AWS::Organizations::Policy,
 * in the organization's management account) or to merge into a permissions boundary. An SCP
 * binds every principal of the account, administrators included, and no one in the account
 * can detach it: the strongest form. Exempt the deployment role, or CloudFormation cannot
 * update the function.
 */
export function xdsGuardDocument(xds: lambda.IFunction, options: XdsGuardOptions = {}): iam.PolicyDocument {
  return new iam.PolicyDocument({ statements: xdsGuardStatements(xds, options) });
}

/**
 * XdsGuardPolicy is the guard as a customer managed policy of the stack: attach it to every
 * role or group in the account that holds broad Lambda permissions (`lambda:*`, `Invoke*`) and
 * is not the deployer (ControlPlane.guardAgainstDirectInvoke). Its explicit Deny wins over
 * any Allow; an administrator who may detach policies can still remove it, which an SCP
 * prevents.
 */
export class XdsGuardPolicy extends iam.ManagedPolicy {
  constructor(scope: Construct, id: string, xds: lambda.IFunction) {
    super(scope, id, {
      description: 'Envoy mesh: the xds function may be invoked only through its function URL, and its code and access not changed',
      statements: xdsGuardStatements(xds),
    });
  }
}
