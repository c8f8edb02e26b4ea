import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import type { DescribeInstancesApi } from '../../functions/lifecycle/aws/ec2';

/**
 * sdkEc2 adapts the SDK's EC2 client to the functions' DescribeInstancesApi, so tests keep
 * mocking EC2 at the SDK boundary (aws-sdk-client-mock); the bundles use the signed Query
 * request of functions/lifecycle/aws/ec2-describe-instances.ts, which
 * test/functions/ec2-describe-instances.test.ts checks against this client.
 */
export function sdkEc2(client: EC2Client): DescribeInstancesApi {
  return { describeInstances: (input) => client.send(new DescribeInstancesCommand(input)) };
}
