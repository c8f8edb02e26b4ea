import { AwsRequestOptions } from '../../lib/aws-request';
import { querySender } from '../../lib/aws-query';
import { child, childrenNamed, textOf } from '../../lib/xml';
import type { AutoScalingApi } from './autoscaling';

/**
 * autoScalingQuery makes the functions' two Auto Scaling calls, CompleteLifecycleAction and
 * DescribeAutoScalingInstances, as signed Query API requests (version 2011-01-01) on
 * functions/lib/aws-query.ts, reading only the fields the mesh uses. The SDK's client would
 * bring the Query protocol's serializer and XML reader as well (about 30 KB of each lifecycle
 * bundle with the client; docs/deploy.md). test/functions/lean-lifecycle-clients.test.ts serves the same
 * answers to it and to the SDK's client and compares what both send and read.
 */
export function autoScalingQuery(options: AwsRequestOptions): AutoScalingApi {
  const send = querySender('autoscaling', '2011-01-01', options);
  return {
    async completeLifecycleAction(input) {
      await send('CompleteLifecycleAction', [
        ['AutoScalingGroupName', input.AutoScalingGroupName],
        ['LifecycleActionResult', input.LifecycleActionResult],
        ['LifecycleActionToken', input.LifecycleActionToken],
        ['LifecycleHookName', input.LifecycleHookName],
      ]);
      return {};
    },
    async describeAutoScalingInstances(input) {
      const params: [string, string][] = input.InstanceIds.map((id, i) => [`InstanceIds.member.${i + 1}`, id]);
      if (input.MaxRecords !== undefined) params.push(['MaxRecords', String(input.MaxRecords)]);
      if (input.NextToken) params.push(['NextToken', input.NextToken]);
      const result = child(await send('DescribeAutoScalingInstances', params), 'DescribeAutoScalingInstancesResult');
      const nextToken = textOf(result, 'NextToken');
      return {
        AutoScalingInstances: childrenNamed(child(result, 'AutoScalingInstances'), 'member').map((m) => {
          const id = textOf(m, 'InstanceId');
          const state = textOf(m, 'LifecycleState');
          return { ...(id !== undefined ? { InstanceId: id } : {}), ...(state !== undefined ? { LifecycleState: state } : {}) };
        }),
        ...(nextToken ? { NextToken: nextToken } : {}),
      };
    },
  };
}
