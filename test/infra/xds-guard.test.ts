import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { ControlPlane } from '../../infra/control-plane';
import { xdsChangeActions } from '../../infra/xds-guard';
import { newUnbundledStack } from './support/synth';

/**
 * A direct invocation of the xds function writes its own event, caller included: the guard
 * denies every invocation that does not come through the function URL, and every change to the
 * function's code or access, wherever it is attached (a role, a group, an SCP).
 */
function synth() {
  const stack = newUnbundledStack();
  const controlPlane = new ControlPlane(stack, 'ControlPlane');
  return { stack, controlPlane };
}

const fnArn = (stack: Stack, cp: ControlPlane) => ({ 'Fn::GetAtt': [stack.getLogicalId(cp.xdsFunction.node.defaultChild as never), 'Arn'] });
const qualified = (stack: Stack, cp: ControlPlane) => ({ 'Fn::Join': ['', [fnArn(stack, cp), ':*']] });

describe('the xds guard', () => {
  it('denies invoking the xds function except through its URL, the async API, and changes to its code and access', () => {
    expect(xdsChangeActions).toEqual(expect.arrayContaining(['lambda:UpdateFunctionCode', 'lambda:UpdateFunctionConfiguration', 'lambda:AddPermission']));
    const { stack, controlPlane } = synth();
    const policies = Object.values(Template.fromStack(stack).findResources('AWS::IAM::ManagedPolicy'));
    expect(policies).toHaveLength(1);
    const resources = [fnArn(stack, controlPlane), qualified(stack, controlPlane)];
    expect(policies[0]!.Properties.PolicyDocument.Statement).toEqual([
      {
        Sid: 'XdsOnlyThroughItsUrl',
        Effect: 'Deny',
        Action: 'lambda:InvokeFunction',
        Resource: resources,
        Condition: { BoolIfExists: { 'lambda:InvokedViaFunctionUrl': 'false' } },
      },
      { Sid: 'XdsNeverInvokedAsync', Effect: 'Deny', Action: 'lambda:InvokeAsync', Resource: resources },
      {
        Sid: 'XdsCodeAndAccessUnchanged',
        Effect: 'Deny',
        Action: [...xdsChangeActions],
        Resource: resources,
      },
    ]);
  });

  it('is attached to the roles and groups it is given, and to nothing else', () => {
    const { stack, controlPlane } = synth();
    const operators = new iam.Role(stack, 'Operators', { assumedBy: new iam.AccountRootPrincipal() });
    const developers = new iam.Group(stack, 'Developers');
    controlPlane.guardAgainstDirectInvoke(operators, developers);
    const [policy] = Object.values(Template.fromStack(stack).findResources('AWS::IAM::ManagedPolicy'));
    expect(policy!.Properties.Roles).toEqual([{ Ref: stack.getLogicalId(operators.node.defaultChild as never) }]);
    expect(policy!.Properties.Groups).toEqual([{ Ref: stack.getLogicalId(developers.node.defaultChild as never) }]);
  });

  it('gives the xds function no resource-based policy: no other account, and no service, may invoke it', () => {
    const { stack, controlPlane } = synth();
    const permissions = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Permission'));
    expect(permissions.filter((p) => JSON.stringify(p.Properties.FunctionName) === JSON.stringify(fnArn(stack, controlPlane)))).toEqual([]);
  });

  it('leaves the nodes their way in: their grant is the URL path the guard does not deny', () => {
    const { stack, controlPlane } = synth();
    const node = new iam.Role(stack, 'Node', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') });
    controlPlane.grantPoll(node);
    const statements = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy')).flatMap(
      (p) => p.Properties.PolicyDocument.Statement as { Action: string; Condition?: unknown }[],
    );
    expect(statements.find((s) => s.Action === 'lambda:InvokeFunction')?.Condition).toEqual({ Bool: { 'lambda:InvokedViaFunctionUrl': true } });
  });

  it('is a policy document for an SCP or a permissions boundary, exempting the deployment role from every statement', () => {
    const { stack, controlPlane } = synth();
    const deployer = 'arn:aws:iam::111122223333:role/cdk-hnb659fds-cfn-exec-role-*';
    const document = stack.resolve(controlPlane.xdsGuardDocument({ exemptPrincipalArns: [deployer] }).toJSON()) as {
      Version: string;
      Statement: { Effect: string; Condition: Record<string, unknown> }[];
    };
    expect(document.Version).toBe('2012-10-17');
    expect(document.Statement).toHaveLength(3);
    for (const statement of document.Statement) {
      expect(statement.Effect).toBe('Deny');
      expect(statement.Condition).toMatchObject({ ArnNotLike: { 'aws:PrincipalArn': [deployer] } });
    }
    expect(document.Statement[0]!.Condition).toMatchObject({ BoolIfExists: { 'lambda:InvokedViaFunctionUrl': 'false' } });
  });
});
