import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EC2Client } from '@aws-sdk/client-ec2';
import { DescribeInstancesApi, DescribeInstancesInput, DescribeInstancesPage, Ec2Instances } from '../../functions/lifecycle/aws/ec2';
import { AwsRequestError } from '../../functions/lib/aws-request';
import { ec2DescribeInstances } from '../../functions/lifecycle/aws/ec2-describe-instances';
import { fixedCredentials, postSignature, readBody } from '../support/sigv4-endpoint';
import { sdkEc2 } from '../support/sdk-ec2';

const region = 'eu-west-1';

/** Answers as EC2 writes them (the Query API's XML, 2016-11-15), with the fields the mesh does not read left in. */
const instanceXml = (o: { id: string; state?: string; ip?: string | null; zone?: string; type?: string; tags?: [string, string][] }) => `
          <item>
            <instanceId>${o.id}</instanceId>
            <imageId>ami-0abcdef1234567890</imageId>
            <instanceState><code>16</code><name>${o.state ?? 'running'}</name></instanceState>
            <privateDnsName>ip-10-0-2-20.eu-west-1.compute.internal</privateDnsName>
            <dnsName/>
            <reason/>
            <amiLaunchIndex>0</amiLaunchIndex>
            <productCodes/>
            <instanceType>${o.type ?? 'm7g.large'}</instanceType>
            <launchTime>2026-11-20T09:15:02.000Z</launchTime>
            <placement><availabilityZone>${o.zone ?? 'eu-west-1b'}</availabilityZone><groupName/><tenancy>default</tenancy></placement>
            <monitoring><state>disabled</state></monitoring>
            <subnetId>subnet-0a1b2c3d</subnetId>
            <vpcId>vpc-0a1b2c3d</vpcId>
            ${o.ip === null ? '' : `<privateIpAddress>${o.ip ?? '10.0.2.20'}</privateIpAddress>`}
            <sourceDestCheck>true</sourceDestCheck>
            <groupSet><item><groupId>sg-0123456789abcdef0</groupId><groupName>mesh-nodes</groupName></item></groupSet>
            <architecture>arm64</architecture>
            <rootDeviceType>ebs</rootDeviceType>
            <rootDeviceName>/dev/xvda</rootDeviceName>
            <blockDeviceMapping><item><deviceName>/dev/xvda</deviceName><ebs><volumeId>vol-0123456789abcdef0</volumeId><status>attached</status><attachTime>2026-11-20T09:15:03.000Z</attachTime><deleteOnTermination>true</deleteOnTermination></ebs></item></blockDeviceMapping>
            <virtualizationType>hvm</virtualizationType>
            <clientToken/>
            <tagSet>${(o.tags ?? []).map(([k, v]) => `<item><key>${k}</key>${v === '' ? '<value/>' : `<value>${v}</value>`}</item>`).join('')}</tagSet>
            <hypervisor>xen</hypervisor>
            <networkInterfaceSet>
              <item>
                <networkInterfaceId>eni-0123456789abcdef0</networkInterfaceId>
                <privateIpAddress>10.9.9.9</privateIpAddress>
                <privateIpAddressesSet><item><privateIpAddress>10.9.9.9</privateIpAddress><primary>true</primary></item></privateIpAddressesSet>
              </item>
            </networkInterfaceSet>
            <ebsOptimized>false</ebsOptimized>
            <enaSupport>true</enaSupport>
            <metadataOptions><state>applied</state><httpTokens>required</httpTokens></metadataOptions>
          </item>`;

const reservationXml = (id: string, instances: string[]) => `
      <item>
        <reservationId>${id}</reservationId>
        <ownerId>111122223333</ownerId>
        <groupSet/>
        <instancesSet>${instances.join('')}</instancesSet>
      </item>`;

const responseXml = (reservations: string[], nextToken?: string) => `<?xml version="1.0" encoding="UTF-8"?>
<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
    <requestId>8f7724cf-496f-496e-8fe3-example</requestId>
    <reservationSet>${reservations.join('')}
    </reservationSet>${nextToken ? `\n    <nextToken>${nextToken}</nextToken>` : ''}
</DescribeInstancesResponse>`;

const errorXml = (code: string, message: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${code}</Code><Message>${message}</Message></Error></Errors><RequestID>ea966190-f9aa-478e-9ede-example</RequestID></Response>`;

/**
 * EC2 is the external boundary: this stand-in recomputes each request's SigV4 signature
 * (service ec2), records the form it was sent, and answers with the next queued answer, or by
 * the request's NextToken when a test serves pages.
 */
let server: Server;
let endpoint: string;
let answers: { status: number; xml: string }[] = [];
let pages: Map<string, string> | undefined;
const seen: { form: Record<string, string>; verified: boolean }[] = [];
beforeAll(async () => {
  server = createServer((req, res) => {
    void readBody(req).then(async (body) => {
      const { valid } = await postSignature(req, body, 'ec2', region);
      const form = Object.fromEntries(new URLSearchParams(body));
      const verified = valid;
      seen.push({ form, verified });
      const answer = !verified
        ? { status: 401, xml: errorXml('AuthFailure', 'AWS was not able to validate the provided access credentials') }
        : pages
          ? { status: 200, xml: pages.get(form.NextToken ?? '')! }
          : (answers.shift() ?? { status: 500, xml: errorXml('InternalError', 'no answer queued') });
      res.writeHead(answer.status, { 'content-type': 'text/xml;charset=UTF-8' });
      res.end(answer.xml);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  answers = [];
  pages = undefined;
  seen.length = 0;
});

const delays: number[] = [];
const slim = (maxAttempts = 3): DescribeInstancesApi =>
  ec2DescribeInstances({ region, endpoint, credentials: fixedCredentials, maxAttempts, random: () => 0.5, sleep: async (ms) => void delays.push(ms) });
const sdk = (): DescribeInstancesApi => sdkEc2(new EC2Client({ region, endpoint, credentials: fixedCredentials, maxAttempts: 1 }));

/** fieldsOf keeps, of a DescribeInstances answer, what the mesh reads (Ec2Instance), as both clients return it. */
function fieldsOf(page: DescribeInstancesPage): DescribeInstancesPage {
  return {
    Reservations: (page.Reservations ?? []).map((r) => ({
      Instances: (r.Instances ?? []).map((i) => ({
        ...(i.InstanceId !== undefined ? { InstanceId: i.InstanceId } : {}),
        ...(i.InstanceType !== undefined ? { InstanceType: i.InstanceType } : {}),
        ...(i.State?.Name !== undefined ? { State: { Name: i.State.Name } } : {}),
        ...(i.PrivateIpAddress !== undefined ? { PrivateIpAddress: i.PrivateIpAddress } : {}),
        ...(i.Placement?.AvailabilityZone !== undefined ? { Placement: { AvailabilityZone: i.Placement.AvailabilityZone } } : {}),
        ...(i.Tags !== undefined ? { Tags: i.Tags.map((t) => ({ Key: t.Key, Value: t.Value })) } : {}),
      })),
    })),
    ...(page.NextToken ? { NextToken: page.NextToken } : {}),
  };
}

/** both sends the same input through each client, serving each the same answer, and returns what each read and the forms EC2 received. */
async function both(input: DescribeInstancesInput, answer: { status: number; xml: string }) {
  const read = async (client: DescribeInstancesApi) => {
    answers = [answer];
    return client.describeInstances(input).then(
      (page) => ({ page: fieldsOf(page) }),
      (err: Error) => ({ error: { name: err.name, message: err.message } }),
    );
  };
  const ours = await read(slim(1));
  const theirs = await read(sdk());
  const [ourForm, theirForm] = seen.map((s) => s.form);
  return { ours, theirs, ourForm, theirForm, verified: seen.map((s) => s.verified) };
}

describe('ec2DescribeInstances, the signed Query request in the lifecycle and reconciler bundles', () => {
  it.each<[string, DescribeInstancesInput, string]>([
    [
      'one instance with tags, by id',
      { InstanceIds: ['i-0123456789abcdef0'] },
      responseXml([reservationXml('r-1', [instanceXml({ id: 'i-0123456789abcdef0', tags: [['mesh:service', 'orders'], ['aws:autoscaling:groupName', 'orders-asg'], ['Name', '']] })])]),
    ],
    [
      'several reservations, several instances each, escaped text',
      { Filters: [{ Name: 'tag-key', Values: ['mesh:service'] }], MaxResults: 1000 },
      responseXml([
        reservationXml('r-1', [instanceXml({ id: 'i-01', tags: [['mesh:service', 'orders'], ['team', 'R&amp;D &lt;core&gt;']] }), instanceXml({ id: 'i-02', zone: 'eu-west-1c', type: 'c7g.xlarge' })]),
        reservationXml('r-2', [instanceXml({ id: 'i-03', state: 'pending', tags: [['mesh:service', 'payments']] })]),
      ]),
    ],
    [
      'a stopped instance without a private IP',
      { InstanceIds: ['i-04'] },
      responseXml([reservationXml('r-3', [instanceXml({ id: 'i-04', state: 'stopped', ip: null })])]),
    ],
    ['no instances at all', { Filters: [{ Name: 'tag-key', Values: ['mesh:service'] }] }, responseXml([])],
    [
      'a page with the next page token',
      { Filters: [{ Name: 'tag-key', Values: ['mesh:service', 'mesh:other'] }, { Name: 'instance-state-name', Values: ['running'] }], MaxResults: 5, NextToken: 'eyJ2IjoiMiJ9' },
      responseXml([reservationXml('r-4', [instanceXml({ id: 'i-05' })])], 'eyJ2IjoiMyJ9'),
    ],
  ])('reads what the SDK client reads, from the same request: %s', async (_what, input, xml) => {
    const { ours, theirs, ourForm, theirForm, verified } = await both(input, { status: 200, xml });
    expect(verified).toEqual([true, true]);
    expect(ourForm).toEqual(theirForm);
    expect(ours).toEqual(theirs);
    expect((ours as { page: DescribeInstancesPage }).page.Reservations).toBeDefined();
  });

  it.each([
    ['an unknown instance', 400, 'InvalidInstanceID.NotFound', "The instance ID 'i-0abc' does not exist"],
    ['a malformed id', 400, 'InvalidInstanceID.Malformed', 'Invalid id: "bad"'],
    ['a denied role', 403, 'UnauthorizedOperation', 'You are not authorized to perform this operation.'],
  ])('fails as the SDK client fails, named by EC2 error code: %s', async (_what, status, code, message) => {
    const { ours, theirs } = await both({ InstanceIds: ['i-0abc'] }, { status, xml: errorXml(code, message) });
    expect(ours).toEqual({ error: { name: code, message } });
    expect(ours).toEqual(theirs);
  });

  it('retries throttling and 5xx with growing, jittered backoff, then answers', async () => {
    delays.length = 0;
    answers = [
      { status: 503, xml: errorXml('RequestLimitExceeded', 'Request limit exceeded.') },
      { status: 500, xml: errorXml('InternalError', 'An internal error has occurred') },
      { status: 200, xml: responseXml([reservationXml('r-1', [instanceXml({ id: 'i-01' })])]) },
    ];
    const page = await slim(3).describeInstances({ InstanceIds: ['i-01'] });
    expect(page.Reservations?.[0]?.Instances?.[0]?.InstanceId).toBe('i-01');
    expect(delays).toEqual([100, 200]);
    expect(seen).toHaveLength(3);
  });

  it('gives up after its attempts with the last error, and does not retry a refusal', async () => {
    answers = [1, 2, 3].map(() => ({ status: 503, xml: errorXml('RequestLimitExceeded', 'Request limit exceeded.') }));
    const throttled = await slim(3).describeInstances({ InstanceIds: ['i-01'] }).catch((err: unknown) => err);
    expect(throttled).toBeInstanceOf(AwsRequestError);
    expect(throttled).toMatchObject({ name: 'RequestLimitExceeded', code: 'RequestLimitExceeded', status: 503, requestId: 'ea966190-f9aa-478e-9ede-example' });
    expect(seen).toHaveLength(3);
    seen.length = 0;
    answers = [{ status: 400, xml: errorXml('InvalidInstanceID.NotFound', 'gone') }];
    await expect(slim(3).describeInstances({ InstanceIds: ['i-01'] })).rejects.toMatchObject({ name: 'InvalidInstanceID.NotFound' });
    expect(seen).toHaveLength(1);
  });

  it('lists a tagged fleet over pages into the same instance descriptions as the SDK client', async () => {
    pages = new Map([
      ['', responseXml([reservationXml('r-1', [instanceXml({ id: 'i-01', tags: [['mesh:service', 'orders']] })])], 'page-2')],
      ['page-2', responseXml([reservationXml('r-2', [instanceXml({ id: 'i-02', ip: null, state: 'stopping', tags: [['mesh:service', 'orders']] })])], 'page-3')],
      ['page-3', responseXml([reservationXml('r-3', [instanceXml({ id: 'i-03', zone: 'eu-west-1a', tags: [['mesh:service', 'payments'], ['mesh:label:revision', 'v2']] })])])],
    ]);
    const ours = await new Ec2Instances(slim()).listTaggedInstances('mesh:service');
    const theirs = await new Ec2Instances(sdk()).listTaggedInstances('mesh:service');
    expect(ours.map((d) => d.instanceId)).toEqual(['i-01', 'i-02', 'i-03']);
    expect(ours).toEqual(theirs);
    expect(seen.map((s) => s.form.NextToken)).toEqual([undefined, 'page-2', 'page-3', undefined, 'page-2', 'page-3']);
  });

  it('reads an unknown instance as gone, as with the SDK client', async () => {
    answers = [{ status: 400, xml: errorXml('InvalidInstanceID.NotFound', "The instance ID 'i-0abc' does not exist") }];
    expect(await new Ec2Instances(slim()).describeInstance('i-0abc')).toBeUndefined();
  });
});
