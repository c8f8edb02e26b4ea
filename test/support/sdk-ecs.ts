import { DescribeContainerInstancesCommand, DescribeTasksCommand, ECSClient, ListTasksCommand } from '@aws-sdk/client-ecs';
import type { EcsApi, EcsTask } from '../../functions/lifecycle/aws/ecs';

/**
 * sdkEcs adapts the SDK's ECS client to the functions' EcsApi, so tests keep mocking ECS at the
 * SDK boundary (aws-sdk-client-mock); the bundles use the signed requests of
 * functions/lifecycle/aws/ecs-json.ts, which test/functions/lean-lifecycle-clients.test.ts checks
 * against this client. Its tasks' dates are Dates (EcsTasks serialises them to ISO strings).
 */
export function sdkEcs(client: ECSClient): EcsApi {
  return {
    describeContainerInstances: (input) => client.send(new DescribeContainerInstancesCommand(input)),
    listTasks: (input) => client.send(new ListTasksCommand(input)),
    describeTasks: async (input) => {
      const out = await client.send(new DescribeTasksCommand(input));
      return { ...out, tasks: out.tasks as EcsTask[] | undefined };
    },
  };
}
