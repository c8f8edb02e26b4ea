import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type { ControlPlane } from '../control-plane';
import type { MeshService } from '../mesh-service';
import { sidecarBootstrapJson } from './bootstrap';
import { Ec2SidecarOptions, addEnvoyToUserData } from './ec2';
import { EcsSidecarOptions, addEnvoySidecar } from './ecs';

export { defaultEnvoyImage, envoyUserDataCommands } from './ec2';
export { envoyReadyCheck, envoyStartScript } from './ecs';
export { placeholders } from './placeholders';
export { sidecarBootstrapJson } from './bootstrap';

export interface MeshSidecarOptions {
  readonly controlPlane: ControlPlane;
  readonly service: MeshService;
}

/**
 * addMeshSidecar makes an ECS task a node of a mesh service: an Envoy container with the
 * service's bootstrap, and the task role's permission to poll the front door.
 */
export function addMeshSidecar(
  taskDefinition: ecs.TaskDefinition,
  options: MeshSidecarOptions & Omit<EcsSidecarOptions, 'bootstrapJson' | 'inboundPort'>,
): ecs.ContainerDefinition {
  const { controlPlane, service, ...rest } = options;
  controlPlane.grantPoll(taskDefinition.taskRole);
  return addEnvoySidecar(taskDefinition, {
    ...rest,
    bootstrapJson: sidecarBootstrapJson(controlPlane, service.spec, { adminPort: rest.adminPort }),
    inboundPort: service.spec.inboundPort,
  });
}

/**
 * addMeshUserData makes the instances of a launch template nodes of a mesh service: Envoy
 * started from user data, and the instance role's permission to poll the front door.
 */
export function addMeshUserData(
  launchTemplate: ec2.LaunchTemplate,
  options: MeshSidecarOptions & Omit<Ec2SidecarOptions, 'bootstrapJson' | 'service'> & { readonly adminPort?: number },
): void {
  const { controlPlane, service, adminPort, ...rest } = options;
  if (!launchTemplate.userData) throw new Error('addMeshUserData: the launch template has no user data (pass userData when creating it)');
  if (!launchTemplate.role) throw new Error('addMeshUserData: the launch template has no role (pass role when creating it)');
  controlPlane.grantPoll(launchTemplate.role);
  addEnvoyToUserData(launchTemplate.userData, {
    ...rest,
    service: service.serviceName,
    bootstrapJson: sidecarBootstrapJson(controlPlane, service.spec, { adminPort }),
  });
}
