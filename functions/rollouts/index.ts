import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { readRenderConfig } from '../lib/render-config';
import { createRuntime } from '../lib/runtime';
import { CloudWatchRolloutMetrics } from '../lib/cloudwatch-rollout-metrics';
import { createRolloutHandler } from './handler';

const config = readRenderConfig();
const runtime = createRuntime(config);
// No certificates: a step changes a split, never a service's identity; renewal issues as ever.
export const handler = createRolloutHandler({
  store: runtime.store,
  metrics: new CloudWatchRolloutMetrics(new CloudWatchClient({ region: config.region })),
  settings: config.render,
  now: () => new Date(),
});
