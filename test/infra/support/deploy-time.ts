import { ServiceSpec } from '../../../shared/model/spec';
import { parseServiceSpec } from '../../../shared/model/parse-spec';
import { placeholders } from '../../../infra/sidecar/placeholders';

/** renderJoin flattens an Fn::Join into text, asking `deployTime` for each part only CloudFormation knows. */
export function renderJoin(value: unknown, deployTime: (part: unknown) => string = () => 'DEPLOY_TIME_VALUE'): string {
  if (typeof value === 'string') return value;
  const join = (value as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (!join) return deployTime(value);
  return join[1].map((part) => renderJoin(part, deployTime)).join(join[0]);
}

type TemplateResources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;
/** A synthesized template as `Template.toJSON()` returns it. */
type TemplateJson = { readonly [key: string]: unknown };
const resourcesOf = (template: TemplateJson) => template.Resources as TemplateResources;

export const deployAccount = '111122223333';

/** deployedRoleArn is the ARN CloudFormation would give a role of the template: named after its logical id here. */
export const deployedRoleArn = (logicalId: string) => `arn:aws:iam::${deployAccount}:role/${logicalId}`;

/** sessionArnOf is the caller ARN a function URL sees for a node polling with that role (an STS session). */
export const sessionArnOf = (roleLogicalId: string, session: string) =>
  `arn:aws:sts::${deployAccount}:assumed-role/${roleLogicalId}/${session}`;

/**
 * deployedValue stands in for CloudFormation: a role's `Arn` becomes a role ARN, any other
 * deploy-time value an opaque word (cluster ARNs, hosts, regions are not what these tests check).
 */
export function deployedValue(template: TemplateJson) {
  return (part: unknown): string => {
    const getAtt = (part as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'];
    if (getAtt && getAtt[1] === 'Arn' && resourcesOf(template)[getAtt[0]]?.Type === 'AWS::IAM::Role') return deployedRoleArn(getAtt[0]);
    return 'deploy-time-value';
  };
}

/** deployedSpecs are the specs of every Custom::MeshService as the catalog would read them on deploy. */
export function deployedSpecs(template: TemplateJson): Map<string, ServiceSpec> {
  const specs = new Map<string, ServiceSpec>();
  for (const resource of Object.values(resourcesOf(template))) {
    if (resource.Type !== 'Custom::MeshService') continue;
    const spec = parseServiceSpec(JSON.parse(renderJoin(resource.Properties!.Spec, deployedValue(template))));
    specs.set(spec.name, spec);
  }
  return specs;
}

export interface MeshNode {
  /** The mesh service the node's bootstrap names (node.cluster). */
  readonly service: string;
  /** The logical id of the role its polls are signed with. */
  readonly roleLogicalId: string;
  readonly kind: 'ecs-task' | 'ec2-instance';
}

const roleOfGetAtt = (value: unknown) => (value as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];

/**
 * meshNodes finds the nodes a template would start: every task definition with an `envoy`
 * container (its bootstrap in ENVOY_BOOTSTRAP, its role TaskRoleArn) and every launch template
 * whose user data writes a bootstrap (its role through the instance profile).
 */
export function meshNodes(template: TemplateJson): MeshNode[] {
  const nodes: MeshNode[] = [];
  const bootstrapService = (json: string) => (JSON.parse(json) as { node: { cluster: string } }).node.cluster;
  for (const resource of Object.values(resourcesOf(template))) {
    const props = resource.Properties ?? {};
    if (resource.Type === 'AWS::ECS::TaskDefinition') {
      const containers = props.ContainerDefinitions as { Name: string; Environment?: { Name: string; Value: unknown }[] }[];
      const envoy = containers.find((c) => c.Name === 'envoy');
      const bootstrap = envoy?.Environment?.find((e) => e.Name === 'ENVOY_BOOTSTRAP');
      if (!bootstrap) continue;
      nodes.push({ service: bootstrapService(renderJoin(bootstrap.Value)), roleLogicalId: roleOfGetAtt(props.TaskRoleArn), kind: 'ecs-task' });
    }
    if (resource.Type === 'AWS::EC2::LaunchTemplate') {
      const data = props.LaunchTemplateData as { UserData?: { 'Fn::Base64': unknown }; IamInstanceProfile?: { Arn: unknown } };
      const userData = data.UserData ? renderJoin(data.UserData['Fn::Base64']) : '';
      const bootstrap = /<<'MESH_BOOTSTRAP_EOF'\n(.*)\nMESH_BOOTSTRAP_EOF/s.exec(userData)?.[1];
      if (!bootstrap || !bootstrap.includes(placeholders.nodeId) || !data.IamInstanceProfile) continue;
      const profile = resourcesOf(template)[roleOfGetAtt(data.IamInstanceProfile.Arn)]!;
      const [roleRef] = profile.Properties!.Roles as { Ref: string }[];
      nodes.push({ service: bootstrapService(bootstrap), roleLogicalId: roleRef!.Ref, kind: 'ec2-instance' });
    }
  }
  return nodes;
}
