import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { EmfMetrics } from '../../functions/lib/emf';
import { createJsonLogger } from '../../functions/lib/json-logger';
import { MetricUnit, telemetry } from '../../functions/lib/telemetry';

const context = {
  functionName: 'mesh-renewal',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:mesh-renewal',
  memoryLimitInMB: '512',
  awsRequestId: 'req-1',
} as Context;

/** handlerWith is a middy handler with the telemetry middleware, writing its log and EMF lines to arrays. */
function handlerWith(body: (log: (m: string) => void, count: () => void) => Promise<string>) {
  const logs: string[] = [];
  const emf: string[] = [];
  const logger = createJsonLogger('renewal', { write: (_stream, line) => logs.push(line), env: {} });
  const metrics = new EmfMetrics('Mesh', 'renewal', { write: (line) => emf.push(line), env: {} });
  const handler = middy(async () =>
    body(
      (m) => logger.info(m),
      () => metrics.addMetric('RenewalRuns', MetricUnit.Count, 1),
    ),
  ).use(telemetry(logger, metrics));
  return { handler, logs, emf };
}

describe('the telemetry middleware', () => {
  it("puts the invocation's request id on every log line and publishes the metrics when the handler returns", async () => {
    const { handler, logs, emf } = handlerWith(async (log, count) => {
      log('renewing');
      count();
      return 'done';
    });
    await expect(handler(undefined, context)).resolves.toBe('done');
    expect(logs.map((l) => JSON.parse(l) as Record<string, unknown>)).toEqual([expect.objectContaining({ message: 'renewing', function_request_id: 'req-1' })]);
    expect(emf).toHaveLength(1);
    expect(JSON.parse(emf[0]!)).toMatchObject({ RenewalRuns: 1 });
  });

  it('publishes the metrics of an invocation that throws, and the error reaches Lambda unchanged', async () => {
    const failure = new Error('KMS refused');
    const { handler, emf } = handlerWith(async (_log, count) => {
      count();
      throw failure;
    });
    await expect(handler(undefined, context)).rejects.toBe(failure);
    expect(emf).toHaveLength(1);
    expect(JSON.parse(emf[0]!)).toMatchObject({ RenewalRuns: 1 });
  });
});
