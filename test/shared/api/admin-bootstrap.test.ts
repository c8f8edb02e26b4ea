import { AdminApiDeps, handleAdminRequest } from '../../../shared/api/admin';
import { pushTierClusterName } from '../../../shared/bootstrap/envoy-bootstrap';
import { parseServiceSpec } from '../../../shared/model/parse-spec';
import { defaultRenderSettings } from '../../../shared/render/settings';
import { Repositories } from '../../../shared/store/repositories';
import { readPushTier } from '../../../functions/admin/handler';
import { decodeStrict, validateRules } from '../../support/envoy-schema';

const orders = parseServiceSpec({ name: 'orders', inboundPort: 15000, appPort: 8080, protocol: 'http' });
/** Only the read the bootstrap route makes. */
const store = { getService: async (name: string) => (name === 'orders' ? { spec: orders } : undefined) } as unknown as Repositories;
const deployed: AdminApiDeps['bootstrap'] = {
  controlPlaneUrl: 'https://abcdefghijklmnop.lambda-url.eu-west-1.on.aws/',
  signing: { region: 'eu-west-1', serviceName: 'lambda' },
};
const get = (bootstrap: AdminApiDeps['bootstrap'], query: Record<string, string>) =>
  handleAdminRequest({ store, settings: defaultRenderSettings, bootstrap }, { method: 'GET', path: '/bootstrap/orders', query, headers: {}, body: '' });

describe('GET /bootstrap/{service}?tier=grpc in AWS', () => {
  it('answers 404 where the control plane has no push tier', async () => {
    const answer = await get(deployed, { node: 'n1', tier: 'grpc' });
    expect(answer.status).toBe(404);
  });

  it('answers the mutual-TLS ADS bootstrap to the push tier, the signed front door kept for SDS, where it has one', async () => {
    const answer = await get({ ...deployed, pushTier: { host: 'push.elb.eu-west-1.amazonaws.com', port: 443 } }, { node: 'n1', tier: 'grpc' });
    expect(answer.status).toBe(200);
    const bootstrap = answer.body as unknown as { static_resources: { clusters: { name: string }[] }; node: { metadata: unknown } };
    expect(validateRules(decodeStrict('type.googleapis.com/envoy.config.bootstrap.v3.Bootstrap', bootstrap))).toEqual([]);
    expect(bootstrap.static_resources.clusters.map((c) => c.name)).toEqual(['xds_cluster', pushTierClusterName]);
    expect(JSON.stringify(bootstrap.static_resources.clusters[0])).toContain('aws_request_signing');
    expect(bootstrap.node.metadata).toEqual({ 'mesh.service': 'orders', 'mesh.xds': 'ads', 'mesh.sds': 'rest' });
  });

  it('still answers the REST bootstrap for tier rest, with no push tier in it', async () => {
    const answer = await get({ ...deployed, pushTier: { host: 'push.elb.eu-west-1.amazonaws.com', port: 443 } }, { node: 'n1' });
    expect(answer.status).toBe(200);
    expect(JSON.stringify(answer.body)).not.toContain(pushTierClusterName);
  });
});

describe('readPushTier (the admin function’s PUSH_TIER_HOST and PUSH_TIER_PORT)', () => {
  it.each([
    [{}, undefined],
    [{ PUSH_TIER_HOST: 'push.example' }, { host: 'push.example', port: 443 }],
    [{ PUSH_TIER_HOST: 'push.example', PUSH_TIER_PORT: '8443' }, { host: 'push.example', port: 8443 }],
  ])('reads %j as %j', (env, expected) => {
    expect(readPushTier(env)).toEqual(expected);
  });

  it('fails at cold start on a port that is not one', () => {
    expect(() => readPushTier({ PUSH_TIER_HOST: 'push.example', PUSH_TIER_PORT: 'https' })).toThrow(/PUSH_TIER_PORT/);
  });
});
