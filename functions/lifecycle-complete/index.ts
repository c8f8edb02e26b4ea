import { readRenderConfig } from '../lib/render-config';
import { createRuntime } from '../lib/runtime';
import { AutoScalingLifecycleActions } from '../lifecycle/aws/autoscaling';
import { leanAwsClients } from '../lifecycle/aws/clients';
import { SqsDrainScheduler } from '../lifecycle/aws/sqs';
import { createLifecycleCompleteHandler } from './handler';

const runtime = createRuntime(readRenderConfig());
const aws = leanAwsClients(runtime.config.region);
export const handler = createLifecycleCompleteHandler({
  store: runtime.store,
  lifecycleActions: new AutoScalingLifecycleActions(aws.autoScaling),
  ...(process.env.DRAIN_QUEUE_URL ? { readinessScheduler: new SqsDrainScheduler(aws.sqs, process.env.DRAIN_QUEUE_URL) } : {}),
});
