import { readConfig } from '../../../functions/lib/config';
import { defaults } from '../../../shared/config';

const base = { TABLE_NAME: 't' };

describe('readConfig', () => {
  it('falls back to the defaults of shared/config.ts', () => {
    expect(readConfig(base)).toMatchObject({
      meshTagKey: defaults.meshTagKey,
      snapshotCacheTtlMs: defaults.snapshotCacheTtlMs,
      nodeStatusMinWriteGapMs: defaults.nodeStatusMinWriteGapMs,
      nodeStatusLivenessMs: defaults.nodeStatusLivenessMs,
      certificateLifetimeSeconds: defaults.certificateLifetimeSeconds,
      xdsAuthMode: 'iam',
    });
  });

  it.each([
    ['SNAPSHOT_CACHE_TTL_MS', '0', 'snapshotCacheTtlMs', 0],
    ['NODE_STATUS_MIN_WRITE_GAP_MS', '0', 'nodeStatusMinWriteGapMs', 0],
    ['NODE_STATUS_LIVENESS_MS', '60000', 'nodeStatusLivenessMs', 60000],
    ['CERTIFICATE_LIFETIME_SECONDS', '3600', 'certificateLifetimeSeconds', 3600],
    ['MESH_TAG_KEY', 'team:service', 'meshTagKey', 'team:service'],
  ])('reads %s=%s', (name, raw, field, value) => {
    expect(readConfig({ ...base, [name]: raw })).toMatchObject({ [field]: value });
  });

  it.each([
    ['NODE_STATUS_LIVENESS_MS', '0', 'must be a positive integer'],
    ['CERTIFICATE_LIFETIME_SECONDS', '0', 'must be a positive integer'],
    ['SNAPSHOT_CACHE_TTL_MS', '-1', 'must be a non-negative integer'],
    ['NODE_STATUS_MIN_WRITE_GAP_MS', '1.5', 'must be a non-negative integer'],
    ['XDS_AUTH_MODE', 'open', 'must be iam, token or none'],
  ])('refuses %s=%s at cold start, naming it', (name, raw, message) => {
    expect(() => readConfig({ ...base, [name]: raw })).toThrow(`${name} ${message}`);
  });

  it('renders under the service domain the construct sets, and leaves it to the default without one', () => {
    expect(readConfig({ ...base, MESH_SERVICE_DOMAIN: 'svc.example.internal' }).render.serviceDomain).toBe('svc.example.internal');
    expect(readConfig(base).render).not.toHaveProperty('serviceDomain');
  });

  it('reads proxyless mTLS into the render settings, leaves it unset otherwise, and names the variable when it is not a boolean', () => {
    expect(readConfig({ ...base, MESH_PROXYLESS_MTLS: 'true' }).render.proxylessMtls).toBe(true);
    expect(readConfig({ ...base, MESH_PROXYLESS_MTLS: 'false' }).render.proxylessMtls).toBe(false);
    expect(readConfig(base).render).not.toHaveProperty('proxylessMtls');
    expect(() => readConfig({ ...base, MESH_PROXYLESS_MTLS: 'yes' })).toThrow('MESH_PROXYLESS_MTLS must be true or false, got "yes"');
  });

  it('reads the mesh-wide egress policy and CA bundle into the render settings, leaving them unset otherwise', () => {
    expect(readConfig({ ...base, MESH_EGRESS: 'allow-all', SYSTEM_CA_BUNDLE_PATH: '/etc/pki/tls/certs/ca-bundle.crt' }).render).toMatchObject({
      egress: 'allow-all',
      systemCaBundlePath: '/etc/pki/tls/certs/ca-bundle.crt',
    });
    expect(readConfig(base).render).not.toHaveProperty('egress');
    expect(() => readConfig({ ...base, MESH_EGRESS: 'drop-all' })).toThrow('MESH_EGRESS must be allow-declared or allow-all, got "drop-all"');
  });

  it('refuses to start without its table', () => {
    expect(() => readConfig({})).toThrow('TABLE_NAME is not set');
  });

  it('reads the route delivery from XDS_ROUTE_DELIVERY, rds by default, and a wrong value is named', () => {
    expect(readConfig({ TABLE_NAME: 't' }).render.routeDelivery).toBe('rds');
    expect(readConfig({ TABLE_NAME: 't', XDS_ROUTE_DELIVERY: 'inline' }).render.routeDelivery).toBe('inline');
    expect(() => readConfig({ TABLE_NAME: 't', XDS_ROUTE_DELIVERY: 'lds' })).toThrow('XDS_ROUTE_DELIVERY must be rds or inline, got "lds"');
  });
});
