import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { JsonLogger, createJsonLogger } from '../../functions/lib/json-logger';

const context = {
  functionName: 'mesh-xds',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:111122223333:function:mesh-xds',
  memoryLimitInMB: '256',
  awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
} as Context;

type Calls = (logger: Pick<JsonLogger, 'debug' | 'info' | 'warn' | 'error' | 'addContext'>) => void;

/** linesOf runs the same calls on a logger made in the given environment and returns what it wrote, timestamps blanked. */
function linesOf(env: Record<string, string>, make: () => Pick<JsonLogger, 'debug' | 'info' | 'warn' | 'error' | 'addContext'>, calls: Calls): string[] {
  const saved = process.env;
  const unset = ['POWERTOOLS_LOG_LEVEL', 'LOG_LEVEL', 'AWS_LAMBDA_LOG_LEVEL', 'POWERTOOLS_LOGGER_SAMPLE_RATE', 'POWERTOOLS_DEV', '_X_AMZN_TRACE_ID'];
  // The test setup's SILENT level and any trace id left out.
  process.env = { ...Object.fromEntries(Object.entries(saved).filter(([k]) => !unset.includes(k))), ...env };
  const lines: string[] = [];
  const capture = (stream: string) => (chunk: string | Uint8Array) => {
    lines.push(`${stream} ${String(chunk).replace(/"timestamp":"[^"]+"/, '"timestamp":"T"')}`);
    return true;
  };
  const out = jest.spyOn(process.stdout, 'write').mockImplementation(capture('stdout'));
  const err = jest.spyOn(process.stderr, 'write').mockImplementation(capture('stderr'));
  try {
    calls(make());
  } finally {
    out.mockRestore();
    err.mockRestore();
    process.env = saved;
  }
  return lines;
}

const failure = Object.assign(new Error('the data key could not be opened', { cause: new Error('AccessDeniedException') }), { status: 403 });

describe('the xds function logger', () => {
  const lambda = { AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand', _X_AMZN_TRACE_ID: 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1' };
  it.each<[string, Record<string, string>, Calls]>([
    [
      'a warning with attributes, cold start first, in Lambda',
      lambda,
      (l) => {
        l.addContext(context);
        l.warn('envoy rejected an update', { nodeId: 'i-0abc', service: 'orders', nack: { code: 3, message: 'bad listener' } });
        l.addContext(context);
        l.warn('poll refused', { path: '/v3/discovery:clusters', status: 403 });
      },
    ],
    ['an error with its cause and own fields', lambda, (l) => (l.addContext(context), l.error('the secrets data key could not be loaded', { error: failure }))],
    ['lines before any invocation (no context, no trace)', {}, (l) => (l.info('starting'), l.warn('odd', { n: BigInt(7) }))],
    ['levels below POWERTOOLS_LOG_LEVEL left out', { POWERTOOLS_LOG_LEVEL: 'WARN' }, (l) => (l.info('hidden'), l.warn('shown'), l.error('shown too'))],
    ['debug lines at LOG_LEVEL=DEBUG', { LOG_LEVEL: 'DEBUG' }, (l) => (l.debug('detail', { a: 1 }), l.info('info'))],
    ["Lambda's own log level first", { AWS_LAMBDA_LOG_LEVEL: 'ERROR' }, (l) => (l.warn('hidden'), l.error('shown'))],
    ['the sample rate reported, empty values dropped', { POWERTOOLS_LOGGER_SAMPLE_RATE: '0' }, (l) => l.warn('x', { empty: '', none: null, kept: 0 })],
  ])('writes what Powertools writes: %s', (_what, env, calls) => {
    const ours = linesOf(env, () => createJsonLogger('xds'), calls);
    const powertools = linesOf(env, () => new Logger({ serviceName: 'xds' }) as unknown as JsonLogger, calls);
    expect(ours.length).toBeGreaterThan(0);
    expect(ours).toEqual(powertools);
  });
});
