import { problemsOf } from '../../support/spec-problems';

/**
 * zod/mini loads no locale: without shared/model/zod.ts setting the English one, every message
 * below would read "Invalid input". These are zod's own words, as classic zod wrote them, for
 * each kind of issue a spec can raise; the spec's own messages are pinned beside each field's tests.
 */
const base = { name: 'orders', inboundPort: 15000, appPort: 8080, protocol: 'http' };
const dep = { service: 'payments', localPort: 7001 };

describe("zod's messages in spec problems (shared/model/zod.ts)", () => {
  it.each<[string, unknown, string, string]>([
    ['a wrong type', { ...base, appPort: '8080' }, 'appPort', 'Invalid input: expected number, received string'],
    ['a wrong type in an array', { ...base, dependencies: ['payments'] }, 'dependencies.0', 'Invalid input: expected object, received string'],
    ['a fraction where an integer goes', { ...base, dependencies: [{ ...dep, timeoutMs: 1.5 }] }, 'dependencies.0.timeoutMs', 'Invalid input: expected int, received number'],
    ['a number over its maximum', { ...base, dependencies: [{ ...dep, retries: { numRetries: 11 } }] }, 'dependencies.0.retries.numRetries', 'Too big: expected number to be <=10'],
    ['an empty string', { ...base, ecs: { cluster: '' } }, 'ecs.cluster', 'Too small: expected string to have >=1 characters'],
    ['an array over its length', { ...base, inbound: { allowedCallers: Array.from({ length: 501 }, () => '*') } }, 'inbound.allowedCallers', 'Too big: expected array to have <=500 items'],
    ['a value outside an enum', { ...base, protocol: 'udp' }, 'protocol', 'Invalid option: expected one of "http"|"http2"|"grpc"|"tcp"'],
    [
      'a URL that is none',
      { ...base, inbound: { jwt: { issuer: 'not a url', audiences: ['a'], jwksUri: 'https://id.example.org/jwks' } } },
      'inbound.jwt.issuer',
      'Invalid URL',
    ],
    [
      'an empty label name',
      { ...base, dependencies: [{ ...dep, split: { subsets: [{ labels: { '': 'x' }, weight: 100 }] } }] },
      'dependencies.0.split.subsets.0.labels.',
      'Invalid key in record',
    ],
  ])('%s', (_what, spec, path, message) => {
    expect(problemsOf(spec)).toEqual([{ path, message }]);
  });

  it('still names unknown fields in its own words, and keeps custom messages', () => {
    expect(problemsOf({ ...base, colour: 'blue' })).toEqual([{ path: '', message: 'unknown field "colour"' }]);
    expect(problemsOf({ ...base, inboundPort: 0 })).toEqual([{ path: 'inboundPort', message: 'must be a port from 1 to 65535' }]);
  });
});
