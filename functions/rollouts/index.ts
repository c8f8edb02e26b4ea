import { fromEnv } from '@aws-sdk/credential-provider-env';
import { readRenderConfig } from '../lib/render-config';
import { createRuntime } from '../lib/runtime';
import { CloudWatchRolloutMetrics, cloudWatchGetMetricData } from '../lib/cloudwatch-rollout-metrics';
import { createRolloutHandler } from './handler';

const config = readRenderConfig();
const runtime = createRuntime(config);
// No certificates: a step changes a split, never a service's identity; renewal issues as ever.
export const handler = createRolloutHandler({
  store: runtime.store,
  metrics: new CloudWatchRolloutMetrics(cloudWatchGetMetricData({ region: config.region, credentials: fromEnv() })),
  settings: config.render,
  now: () => new Date(),
});
