import { CloudWatchClient, GetMetricDataCommand, GetMetricDataCommandInput } from '@aws-sdk/client-cloudwatch';
import type { GetMetricDataApi } from '../../functions/lib/cloudwatch-rollout-metrics';

/**
 * sdkCloudWatch adapts the SDK's CloudWatch client to the rollout controller's GetMetricDataApi,
 * so tests keep mocking CloudWatch at the SDK boundary; the rollouts bundle uses the signed
 * request of cloudWatchGetMetricData, which test/functions/cloudwatch-rollout-metrics.test.ts
 * checks against this client.
 */
export function sdkCloudWatch(client: CloudWatchClient): GetMetricDataApi {
  return { getMetricData: (input) => client.send(new GetMetricDataCommand(input as GetMetricDataCommandInput)) };
}
