import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { readConfig } from '../lib/config';
import { createRuntime } from '../lib/runtime';
import { AutoScalingLifecycleActions } from '../lifecycle/aws/autoscaling';
import { createLifecycleCompleteHandler } from './handler';

const runtime = createRuntime(readConfig());
export const handler = createLifecycleCompleteHandler({
  store: runtime.store,
  lifecycleActions: new AutoScalingLifecycleActions(new AutoScalingClient({ region: runtime.config.region })),
});
