import { App } from 'aws-cdk-lib';
import { ExampleMeshStack } from './example-stack';

/** The example app `cdk synth` / `cdk deploy` bring up: the control plane and two services. */
const app = new App();
new ExampleMeshStack(app, 'EnvoyMeshExample', {
  description: 'Envoy serverless control plane with an ECS Fargate and an EC2 Auto Scaling service',
});
app.synth();
