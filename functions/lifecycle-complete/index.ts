import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { readRenderConfig } from '../lib/render-config';
import { createRuntime } from '../lib/runtime';
import { SQSClient } from '@aws-sdk/client-sqs';
import { AutoScalingLifecycleActions } from '../lifecycle/aws/autoscaling';
import { SqsDrainScheduler } from '../lifecycle/aws/sqs';
import { createLifecycleCompleteHandler } from './handler';

const runtime = createRuntime(readRenderConfig());
export const handler = createLifecycleCompleteHandler({
  store: runtime.store,
  lifecycleActions: new AutoScalingLifecycleActions(new AutoScalingClient({ region: runtime.config.region })),
  ...(process.env.DRAIN_QUEUE_URL
    ? { readinessScheduler: new SqsDrainScheduler(new SQSClient({ region: runtime.config.region }), process.env.DRAIN_QUEUE_URL) }
    : {}),
});
