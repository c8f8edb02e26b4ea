import { fromEnv } from '@aws-sdk/credential-provider-env';
import { readRenderConfig } from '../lib/render-config';
import { createRuntime } from '../lib/runtime';
import { autoScalingQuery } from '../lifecycle/aws/autoscaling-query';
import { Ec2Instances } from '../lifecycle/aws/ec2';
import { ec2DescribeInstances } from '../lifecycle/aws/ec2-describe-instances';
import { EcsContainerInstances, EcsTasks } from '../lifecycle/aws/ecs';
import { ecsJson } from '../lifecycle/aws/ecs-json';
import { createReconcilerHandler } from './handler';

const runtime = createRuntime(readRenderConfig());
const region = runtime.config.region;
const credentials = fromEnv();
// EC2, ECS and Auto Scaling as signed requests, not the SDK's clients (docs/deploy.md, "Bundles and cold starts").
const ec2 = ec2DescribeInstances({ region, credentials });
const ecs = ecsJson({ region, credentials });
export const handler = createReconcilerHandler({
  store: runtime.store,
  tasks: new EcsTasks(ecs),
  containerInstances: new EcsContainerInstances(ecs, ec2),
  instances: new Ec2Instances(ec2, autoScalingQuery({ region, credentials })),
  meshTagKey: runtime.config.meshTagKey,
});
