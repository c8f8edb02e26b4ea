import { Match, Template } from 'aws-cdk-lib/assertions';
import { ControlPlane } from '../../infra/control-plane';
import { newUnbundledStack } from './support/synth';

describe('the fleet rebuild in the ControlPlane', () => {
  const stack = newUnbundledStack();
  new ControlPlane(stack, 'ControlPlane');
  const template = Template.fromStack(stack);
  const statementsOfRole = (role: RegExp) =>
    Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp(role.source) }] } })).flatMap(
      (p) => (p as { Properties: { PolicyDocument: { Statement: { Action: string | string[]; Resource: unknown; Condition?: unknown }[] } } }).Properties.PolicyDocument.Statement,
    );

  it('runs a function of its own once a minute, three minutes at most, one invocation at a time, never retried by Lambda', () => {
    template.hasResourceProperties('AWS::Events::Rule', { Description: 'Advances the fleet rebuild', ScheduleExpression: 'rate(1 minute)' });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^Renders every snapshot and assignment again'),
      Timeout: 180,
      MemorySize: 1024,
      ReservedConcurrentExecutions: 1,
      Architectures: ['arm64'],
      // The render settings every rendering function has: the digest is computed from them.
      Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: 'rebuild', XDS_ROUTE_DELIVERY: 'rds', XDS_REFRESH_DELAY: Match.anyValue(), MESH_NAME: Match.anyValue() }) },
    });
    const functions = template.findResources('AWS::Lambda::Function', { Properties: { Environment: { Variables: { POWERTOOLS_SERVICE_NAME: 'rebuild' } } } });
    const [id] = Object.keys(functions);
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { FunctionName: { Ref: id }, MaximumRetryAttempts: 0 });
  });

  it('lets it read the table and write only snapshots, assignments, the change log and its own state: no node status, no rollouts, no keys, no invoking', () => {
    const own = statementsOfRole(/ControlPlaneRebuildServiceRole/).filter((s) => ![s.Action].flat().some((a) => a.startsWith('logs:') || a.startsWith('xray:')));
    const writes = own.filter((s) => [s.Action].flat().some((a) => ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'].includes(a)));
    expect(writes).toEqual([
      expect.objectContaining({
        Action: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['CATALOG', 'SVC#*', 'CHANGES#*'] } },
      }),
    ]);
    const actions = own.flatMap((s) => [s.Action].flat());
    expect(actions.filter((a) => !a.startsWith('dynamodb:'))).toEqual([]);
    expect([...new Set(actions)].sort()).toEqual(['dynamodb:BatchGetItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem']);
  });

  it('alarms when a rebuild stays under way for over an hour and when one finishes with services that kept failing', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'RebuildAgeSeconds',
      Dimensions: [{ Name: 'service', Value: 'rebuild' }],
      Statistic: 'Maximum',
      Period: 300,
      Threshold: 3600,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'RebuildFailedServices', Dimensions: [{ Name: 'service', Value: 'rebuild' }], Threshold: 0 });
  });

  it('draws the rebuild and the assignment drift the reconciler repairs on the dashboard', () => {
    const dashboard = Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0]!;
    const body = JSON.stringify(dashboard.Properties.DashboardBody);
    for (const metric of ['RebuildServices', 'RebuildErrors', 'RebuildAgeSeconds', 'RebuildFailedServices', 'AssignmentDrift']) expect(body).toContain(metric);
  });
});
