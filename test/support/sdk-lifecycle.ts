import { AutoScalingClient, CompleteLifecycleActionCommand, DescribeAutoScalingInstancesCommand } from '@aws-sdk/client-auto-scaling';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { AutoScalingApi } from '../../functions/lifecycle/aws/autoscaling';
import type { SqsSendMessageApi } from '../../functions/lifecycle/aws/sqs';

/**
 * sdkAutoScaling and sdkSqs adapt the SDK's clients to the lifecycle ports, so tests keep
 * mocking AWS at the SDK boundary (aws-sdk-client-mock); the bundles use the signed requests of
 * functions/lifecycle/aws/autoscaling-query.ts and sqs-send-message.ts, which
 * test/functions/lean-lifecycle-clients.test.ts checks against these clients.
 */
export function sdkAutoScaling(client: AutoScalingClient): AutoScalingApi {
  return {
    completeLifecycleAction: (input) => client.send(new CompleteLifecycleActionCommand(input)),
    describeAutoScalingInstances: (input) => client.send(new DescribeAutoScalingInstancesCommand(input)),
  };
}

export function sdkSqs(client: SQSClient): SqsSendMessageApi {
  return { sendMessage: (input) => client.send(new SendMessageCommand(input)) };
}
