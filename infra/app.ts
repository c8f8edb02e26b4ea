import { App } from 'aws-cdk-lib';
import { ExampleMeshStack } from './example-stack';

/** The example app `cdk synth` / `cdk deploy` bring up: the control plane and two services. */
const app = new App();
// `cdk synth -c pushTier=true` adds the push tier (ADS over gRPC on Fargate, docs/deploy.md).
const pushTier = ['true', true].includes(app.node.tryGetContext('pushTier') as string | boolean);
new ExampleMeshStack(app, 'EnvoyMeshExample', {
  description: 'Envoy serverless control plane with an ECS Fargate and an EC2 Auto Scaling service',
  pushTier,
});
app.synth();
