import { readRenderConfig } from '../lib/render-config';
import { createRuntime } from '../lib/runtime';
import { awsLifecycleDeps, readLifecycleEnvironment } from './aws/clients';
import { createLifecycleHandler } from './handler';

const runtime = createRuntime(readRenderConfig());
const env = readLifecycleEnvironment(process.env, runtime.config.region, runtime.config.meshTagKey);
export const handler = createLifecycleHandler(awsLifecycleDeps(runtime.store, env), { accountOfFunction: true });
