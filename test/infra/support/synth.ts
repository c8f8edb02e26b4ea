import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ExampleMeshStack } from '../../../infra/example-stack';

/**
 * synthExample synthesizes the example app as `cdk synth` does, bundling every function with
 * the local esbuild (no Docker, no network), and reports how long that took.
 */
export function synthExample(): { stack: ExampleMeshStack; template: Template; ms: number } {
  const started = performance.now();
  const app = new App();
  const stack = new ExampleMeshStack(app, 'EnvoyMeshExample');
  const template = Template.fromStack(stack);
  return { stack, template, ms: performance.now() - started };
}

/**
 * newUnbundledApp is an App for tests about constructs' wiring, where the function code is not
 * the point: it skips asset bundling (the CLI's own switch for stacks it is not deploying) and
 * the built-in CloudFormation template validation (a WebAssembly engine that takes seconds to
 * start; the example app's test keeps it).
 */
export function newUnbundledApp(): App {
  return new App({ context: { 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false });
}

export function newUnbundledStack(): Stack {
  return new Stack(newUnbundledApp(), 'Test');
}

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown>; DependsOn?: string[] }>;

/** resourcesOf lists a template's resources of one type, by logical id. */
export function resourcesOf(template: Template, type: string): Resources {
  return template.findResources(type) as Resources;
}
