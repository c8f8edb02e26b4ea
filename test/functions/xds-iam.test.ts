import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { createXdsHandler } from '../../functions/xds/handler';
import { createRuntime } from '../../functions/lib/runtime';
import { readConfig } from '../../functions/lib/config';
import { declareService } from '../../shared/state/catalog';
import { iamRoleOf } from '../../shared/xds/authorization';
import { useDynalite } from '../support/dynamo';

const dynalite = useDynalite();

/** A function URL event as AWS delivers it with AWS_IAM auth: the verified caller is in requestContext.authorizer.iam. */
function signedPoll(body: unknown, userArn?: string): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: '/v3/discovery:clusters',
    rawQueryString: '',
    headers: { 'content-type': 'application/json', host: 'abc.lambda-url.eu-west-1.on.aws' },
    requestContext: {
      accountId: '111122223333',
      apiId: 'abc',
      domainName: 'abc.lambda-url.eu-west-1.on.aws',
      domainPrefix: 'abc',
      http: { method: 'POST', path: '/v3/discovery:clusters', protocol: 'HTTP/1.1', sourceIp: '10.0.1.5', userAgent: 'envoy' },
      requestId: 'r1',
      routeKey: '$default',
      stage: '$default',
      time: '25/Nov/2026:10:00:00 +0000',
      timeEpoch: 1795600000000,
      ...(userArn
        ? {
            authorizer: {
              iam: {
                accessKey: 'ASIAEXAMPLE',
                accountId: '111122223333',
                callerId: 'AROAEXAMPLE:i-0abc',
                cognitoIdentity: null,
                principalOrgId: null,
                userArn,
                userId: 'AROAEXAMPLE:i-0abc',
              },
            },
          }
        : {}),
    },
    body: JSON.stringify(body),
    isBase64Encoded: false,
  } as APIGatewayProxyEventV2;
}

describe('the xDS function behind an IAM-auth function URL', () => {
  it('reads roles from role and assumed-role ARNs alike', () => {
    expect(iamRoleOf('arn:aws:iam::111122223333:role/mesh/orders-task')).toEqual({ partition: 'aws', account: '111122223333', name: 'orders-task' });
    expect(iamRoleOf('arn:aws:sts::111122223333:assumed-role/orders-task/i-0abc')).toEqual({ partition: 'aws', account: '111122223333', name: 'orders-task' });
    expect(iamRoleOf('arn:aws:iam::111122223333:user/alice')).toBeUndefined();
  });

  it('serves a node whose role is bound to its service, and refuses other roles and unsigned calls', async () => {
    const store = await dynalite.newStore();
    const runtime = createRuntime({ ...readConfig({ TABLE_NAME: store.tableName }), snapshotCacheTtlMs: 0 }, dynalite.db().doc);
    await declareService(
      store,
      {
        name: 'orders',
        inboundPort: 15000,
        appPort: 8080,
        protocol: 'http',
        identity: { iamRoleArns: ['arn:aws:iam::111122223333:role/mesh/orders-task'] },
      },
      runtime.config.render,
    );
    const handler = createXdsHandler(runtime, { authMode: 'iam' });
    const body = { node: { id: 'i-0abc', cluster: 'orders' } };
    const invoke = (userArn?: string) => handler(signedPoll(body, userArn), {} as Context);

    expect((await invoke('arn:aws:sts::111122223333:assumed-role/orders-task/i-0abc')).statusCode).toBe(200);
    expect((await invoke('arn:aws:sts::111122223333:assumed-role/payments-task/i-0def')).statusCode).toBe(403);
    expect((await invoke('arn:aws:sts::444455556666:assumed-role/orders-task/i-0abc')).statusCode).toBe(403);
    expect((await invoke(undefined)).statusCode).toBe(401);
  });
});
