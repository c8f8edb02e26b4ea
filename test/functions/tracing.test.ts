import { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** loadTraced imports `traced` afresh with the given environment (the tracer reads it when the module loads). */
function loadTraced(env: Record<string, string>): typeof import('../../functions/lib/observability').traced {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    let traced!: typeof import('../../functions/lib/observability').traced;
    jest.isolateModules(() => {
      traced = (jest.requireActual('../../functions/lib/observability') as typeof import('../../functions/lib/observability')).traced;
    });
    return traced;
  } finally {
    process.env = saved;
  }
}

describe('traced AWS SDK clients', () => {
  it('get X-Ray subsegment middleware in Lambda', () => {
    const traced = loadTraced({ AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x', AWS_XRAY_CONTEXT_MISSING: 'IGNORE_ERROR', POWERTOOLS_SERVICE_NAME: 'xds' });
    const client = traced(new DynamoDBClient({ region: 'us-east-1' }));
    expect(client.middlewareStack.identify().some((m) => m.startsWith('XRaySDKInstrumentation'))).toBe(true);
  });

  it('are left as they are outside Lambda (tests, the local runner)', () => {
    const traced = loadTraced({ POWERTOOLS_SERVICE_NAME: 'xds' });
    const client = traced(new DynamoDBClient({ region: 'us-east-1' }));
    expect(client.middlewareStack.identify().some((m) => m.startsWith('XRaySDKInstrumentation'))).toBe(false);
  });
});
