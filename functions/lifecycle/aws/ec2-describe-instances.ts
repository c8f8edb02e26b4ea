import { AwsRequestError, AwsRequestOptions } from '../../lib/aws-request';
import { querySender } from '../../lib/aws-query';
import { XmlElement, child, childrenNamed, textOf } from '../../lib/xml';
import type { DescribeInstancesApi, DescribeInstancesInput, DescribeInstancesPage, Ec2Instance } from './ec2';

/** The EC2 Query API version the SDK's EC2 client speaks too. */
const apiVersion = '2016-11-15';

/**
 * ec2DescribeInstances is the one EC2 operation the lifecycle and reconciler functions make,
 * DescribeInstances, as a signed EC2 Query API request (a form-encoded POST; functions/lib/aws-request.ts
 * signs, sends and retries as the SDK does) whose XML answer is read for exactly the fields the
 * mesh uses (functions/lifecycle/aws/ec2.ts, Ec2Instance). The SDK's EC2 client is about 550 KB
 * of each of those bundles, nearly all of it the schemas of EC2's whole model (docs/deploy.md,
 * "Bundles and cold starts"). Errors are AwsRequestErrors named by EC2's error code.
 * test/functions/ec2-describe-instances.test.ts serves the same answers to it and to the SDK's
 * client and compares what both read.
 */
export function ec2DescribeInstances(options: AwsRequestOptions): DescribeInstancesApi {
  const send = querySender('ec2', apiVersion, options);
  return {
    describeInstances: async (input) => describeInstancesPageOf(await send('DescribeInstances', describeInstancesParams(input))),
  };
}

/** describeInstancesParams are the form fields of a DescribeInstances request (the Query protocol's list and structure flattening). */
export function describeInstancesParams(input: DescribeInstancesInput): [string, string][] {
  const params: [string, string][] = [];
  input.InstanceIds?.forEach((id, i) => params.push([`InstanceId.${i + 1}`, id]));
  input.Filters?.forEach((filter, i) => {
    params.push([`Filter.${i + 1}.Name`, filter.Name]);
    filter.Values.forEach((value, j) => params.push([`Filter.${i + 1}.Value.${j + 1}`, value]));
  });
  if (input.MaxResults !== undefined) params.push(['MaxResults', String(input.MaxResults)]);
  if (input.NextToken) params.push(['NextToken', input.NextToken]);
  return params;
}

/** describeInstancesPageOf reads a DescribeInstancesResponse: each reservation's instances, with only the fields the mesh reads, and the next page's token. */
export function describeInstancesPageOf(response: XmlElement): DescribeInstancesPage {
  if (response.name !== 'DescribeInstancesResponse') throw new AwsRequestError('UnexpectedResponse', 200, `EC2 answered <${response.name}>, not a DescribeInstancesResponse`);
  const reservations = childrenNamed(child(response, 'reservationSet'), 'item').map((reservation) => ({
    Instances: childrenNamed(child(reservation, 'instancesSet'), 'item').map(instanceOf),
  }));
  const nextToken = textOf(response, 'nextToken');
  return { Reservations: reservations, ...(nextToken ? { NextToken: nextToken } : {}) };
}

function instanceOf(item: XmlElement): Ec2Instance {
  const state = textOf(child(item, 'instanceState'), 'name');
  const zone = textOf(child(item, 'placement'), 'availabilityZone');
  const tags = child(item, 'tagSet');
  return {
    ...optional('InstanceId', textOf(item, 'instanceId')),
    ...optional('InstanceType', textOf(item, 'instanceType')),
    ...(state !== undefined ? { State: { Name: state } } : {}),
    ...optional('PrivateIpAddress', textOf(item, 'privateIpAddress')),
    ...(zone !== undefined ? { Placement: { AvailabilityZone: zone } } : {}),
    ...(tags ? { Tags: childrenNamed(tags, 'item').map((t) => ({ ...optional('Key', textOf(t, 'key')), ...optional('Value', textOf(t, 'value')) })) } : {}),
  };
}

function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: string };
}
