import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { ControlPlane } from '../../infra/control-plane';
import { MeshService, MeshServiceProps } from '../../infra/mesh-service';
import { handleAdminRequest } from '../../shared/api/admin';
import { defaultRenderSettings } from '../../shared/render/settings';
import { useDynalite } from '../support/dynamo';
import { newUnbundledStack } from './support/synth';

const dynamo = useDynalite();

type SpecProps = Omit<MeshServiceProps, 'controlPlane'>;

/**
 * apiAnswer is what the management API answers to a PUT of the same spec. The path names the
 * service in lower case, so a bad name in the body is judged by the spec's validation (as in
 * MeshService), not by the path check that comes first.
 */
async function apiAnswer(spec: SpecProps): Promise<{ status: number; error: string }> {
  const store = await dynamo.newStore();
  const res = await handleAdminRequest(
    { store, settings: defaultRenderSettings },
    { method: 'PUT', path: `/services/${spec.name.toLowerCase()}`, query: {}, headers: {}, body: JSON.stringify(spec) },
  );
  return { status: res.status, error: (res.body as { error: string }).error };
}

function newControlPlane(): { stack: Stack; controlPlane: ControlPlane } {
  const stack = newUnbundledStack();
  return { stack, controlPlane: new ControlPlane(stack, 'ControlPlane') };
}

describe('MeshService', () => {
  const invalid: [string, SpecProps][] = [
    ['a name that is no DNS label', { name: 'Orders', inboundPort: 15000, appPort: 8080, protocol: 'http' }],
    ['an app port that clashes with the inbound port', { name: 'orders', inboundPort: 8080, appPort: 8080, protocol: 'http' }],
    ['a dependency on itself', { name: 'orders', inboundPort: 15000, appPort: 8080, protocol: 'http', dependencies: [{ service: 'orders', localPort: 9001 }] }],
    ['a port out of range', { name: 'orders', inboundPort: 70000, appPort: 8080, protocol: 'http' }],
    ['a field the spec does not have (from JavaScript)', { name: 'orders', inboundPort: 15000, appPort: 8080, protocol: 'http', color: 'red' } as SpecProps],
  ];

  it.each(invalid)('fails synth on %s with the message the management API gives', async (_case, spec) => {
    const { controlPlane } = newControlPlane();
    const api = await apiAnswer(spec);
    expect(api.status).toBe(400);
    expect(() => new MeshService(controlPlane, 'Service', { controlPlane, ...spec })).toThrow(api.error);
    let thrown: Error | undefined;
    try {
      new MeshService(controlPlane, 'Again', { controlPlane, ...spec });
    } catch (err) {
      thrown = err as Error;
    }
    expect(thrown?.message).toBe(api.error);
  });

  it('writes the spec as JSON the catalog handler reads, and depends on the table', () => {
    const { stack, controlPlane } = newControlPlane();
    const spec: SpecProps = {
      name: 'payments',
      inboundPort: 15000,
      appPort: 8080,
      protocol: 'grpc',
      drainSeconds: 30,
      identity: { iamRoleArns: ['arn:aws:iam::111122223333:role/payments'] },
    };
    const service = new MeshService(stack, 'Payments', { controlPlane, ...spec });
    const resource = Template.fromStack(stack).toJSON().Resources[stack.getLogicalId(service.resource.node.defaultChild as never)];
    expect(resource.Type).toBe('Custom::MeshService');
    expect(JSON.parse(resource.Properties.Spec)).toEqual(spec);
    expect(resource.Properties.ServiceToken).toEqual({
      'Fn::GetAtt': [stack.getLogicalId(controlPlane.catalogFunction.node.defaultChild as never), 'Arn'],
    });
    expect(resource.DependsOn).toContain(stack.getLogicalId(controlPlane.table.node.defaultChild as never));
    expect(service.spec.dependencies).toEqual([]);
  });

  it('orders callers after their dependencies whichever is declared first', () => {
    const { stack, controlPlane } = newControlPlane();
    const identity = { iamRoleArns: ['arn:aws:iam::111122223333:role/nodes'] };
    const base = { inboundPort: 15000, appPort: 8080, protocol: 'http', identity } as const;
    // web is declared before api (which it calls), api before db.
    const web = new MeshService(stack, 'Web', { controlPlane, ...base, name: 'web', dependencies: [{ service: 'api', localPort: 9001 }] });
    const db = new MeshService(stack, 'Db', { controlPlane, ...base, name: 'db' });
    const api = new MeshService(stack, 'Api', { controlPlane, ...base, name: 'api', dependencies: [{ service: 'db', localPort: 9002 }] });
    const resources = Template.fromStack(stack).toJSON().Resources;
    const id = (s: MeshService) => stack.getLogicalId(s.resource.node.defaultChild as never);
    expect(resources[id(web)].DependsOn).toContain(id(api));
    expect(resources[id(api)].DependsOn).toContain(id(db));
    expect(resources[id(db)].DependsOn ?? []).not.toContain(id(api));
  });

  it('checks deploy-time values by their form: a role created in the stack passes, a malformed literal ARN fails', async () => {
    const { stack, controlPlane } = newControlPlane();
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') });
    const base = { name: 'payments', inboundPort: 15000, appPort: 8080, protocol: 'http' } as const;
    new MeshService(stack, 'Payments', { controlPlane, ...base, identity: { iamRoleArns: [role.roleArn] } });
    const malformed = { ...base, identity: { iamRoleArns: ['arn:aws:iam::123:role/short-account'] } };
    expect(() => new MeshService(stack, 'Malformed', { controlPlane, ...malformed })).toThrow((await apiAnswer(malformed)).error);
  });

  it('refuses the same service name twice in one control plane', () => {
    const { stack, controlPlane } = newControlPlane();
    const spec = { name: 'orders', inboundPort: 15000, appPort: 8080, protocol: 'http' } as const;
    new MeshService(stack, 'First', { controlPlane, ...spec });
    expect(() => new MeshService(stack, 'Second', { controlPlane, ...spec })).toThrow(
      'MeshService "orders" is already declared at Test/First',
    );
  });
});
