import { MeshClient } from '../../cli/client';
import { functionUrlRegion } from '../../cli/sigv4';
import { runMeshctl } from '../support/meshctl';
import { fixedCredentials, verifyingServer } from '../support/sigv4-endpoint';

describe('meshctl against an endpoint with IAM auth', () => {
  let endpoint: Awaited<ReturnType<typeof verifyingServer>>;
  beforeAll(async () => {
    endpoint = await verifyingServer('eu-west-1');
  });
  afterAll(() => new Promise<void>((resolve) => endpoint.server.close(() => resolve())));

  it('signs requests with SigV4 (service lambda) that the endpoint verifies, session token included', async () => {
    const run = await runMeshctl(['status', '--endpoint', endpoint.url, '--sign', '--region', 'eu-west-1', '-o', 'json'], { credentials: fixedCredentials });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(endpoint.seen.pop()).toBe('GET /nodes verified token=session-token-example');
  });

  it('says what to check when the endpoint refuses the signature', async () => {
    const run = await runMeshctl(['status', '--endpoint', endpoint.url, '--sign', '--region', 'us-east-1'], { credentials: fixedCredentials });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('meshctl: GET /nodes failed with 403: Forbidden (are your AWS credentials allowed to invoke this function URL?)\n');
  });

  it('signs for function URLs by default, in the region their host names, and needs a region otherwise', () => {
    const io = { stdout: () => {}, stderr: () => {}, now: () => new Date(), env: {}, interactive: false };
    expect(functionUrlRegion('abcdefghij0123456789abcdefghij01.lambda-url.eu-west-1.on.aws')).toBe('eu-west-1');
    expect(new MeshClient({ endpoint: 'https://abcdefghij0123456789abcdefghij01.lambda-url.eu-west-1.on.aws/' }, io).signs).toBe(true);
    expect(new MeshClient({ endpoint: 'http://127.0.0.1:18000' }, io).signs).toBe(false);
    expect(() => new MeshClient({ endpoint: 'https://admin.example.com', sign: true }, io)).toThrow('signing needs a region: pass --region or set AWS_REGION');
    expect(new MeshClient({ endpoint: 'https://admin.example.com', sign: true }, { ...io, env: { AWS_REGION: 'ap-south-1' } }).signs).toBe(true);
  });
});
