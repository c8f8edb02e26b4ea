import { Protocol, ServiceSpec } from '../../../shared/model/spec';
import { adsResource, adsSnapshotForms, adsVersion } from '../../../shared/render/ads-forms';
import { localServiceCluster } from '../../../shared/render/cluster';
import { checkSnapshotConsistency, renderSnapshot, snapshotVersions } from '../../../shared/render/snapshot';
import { adsConfigSource, configSource, restConfigSource } from '../../../shared/render/settings';
import { typeUrls } from '../../../shared/envoy/resources';
import { assertConformant } from '../../support/envoy-schema';
import { fullPolicy, protocols, settings, spec, world } from './fixtures';

const ads = { ...settings, configSources: 'ads' as const };
const dependencies: ServiceSpec[] = protocols.map((protocol, i) => spec({ name: `dep-${protocol}`, protocol, inboundPort: 15000 + i }));
const plaintext: ServiceSpec[] = protocols.map((protocol, i) =>
  spec({ name: `dep-${protocol}`, protocol, inboundPort: 15000 + i, mtls: { enabled: false } }),
);
const jwt = { issuer: 'https://auth.example.com/', audiences: ['orders-api'], jwksUri: 'https://auth.example.com/.well-known/jwks.json' };

function caller(protocol: Protocol, options: Record<string, unknown> = {}): ServiceSpec {
  return spec({ name: `caller-${protocol}`, protocol, dependencies: dependencies.map((d, i) => fullPolicy(d.name, d.protocol, 7000 + i)), ...options });
}

const cases: { name: string; service: ServiceSpec; deps: ServiceSpec[] }[] = [
  ...protocols.map((p) => ({ name: `a ${p} service over mTLS calling every protocol`, service: caller(p), deps: dependencies })),
  ...protocols.map((p) => ({ name: `a ${p} service without mTLS`, service: caller(p, { mtls: { enabled: false } }), deps: plaintext })),
  ...(['http', 'grpc'] as const).map((p) => ({
    name: `a ${p} service with a JWT check and an external listener`,
    service: caller(p, { inbound: { jwt, external: { port: 8443 } } }),
    deps: dependencies,
  })),
];

describe('the ADS forms of an Envoy snapshot', () => {
  it.each(cases)('are what rendering with ADS config sources gives, and conform: $name', ({ service, deps }) => {
    const rest = renderSnapshot(world(service, deps, ['web']), settings);
    const derived = adsSnapshotForms(rest, snapshotVersions(rest));
    expect(derived.resources).toEqual(renderSnapshot(world(service, deps, ['web']), ads));
    for (const type of ['listeners', 'routes', 'clusters'] as const) {
      expect(() => assertConformant({ version_info: 'v', type_url: typeUrls[type], resources: derived.resources[type] ?? [] })).not.toThrow();
    }
    expect(checkSnapshotConsistency(derived.resources, service.name)).toEqual([]);
    expect(JSON.stringify(derived.resources)).not.toContain('api_config_source');
  });

  it('point RDS, EDS and SDS at the ADS stream, and leave the REST forms untouched', () => {
    const rest = renderSnapshot(world(caller('http'), dependencies, ['web']), settings);
    const before = JSON.stringify(rest);
    const derived = adsSnapshotForms(rest, snapshotVersions(rest)).resources;
    const text = JSON.stringify(derived);
    const source = JSON.stringify(adsConfigSource());
    expect({
      rds: text.includes(`"rds":{"config_source":${source}`),
      eds: text.includes(`"eds_config":${source}`),
      sds: text.includes(`"sds_config":${source}`),
    }).toEqual({ rds: true, eds: true, sds: true });
    expect(JSON.stringify(rest)).toBe(before);
  });

  it('version each changed type apart from its REST forms, deterministically; an unchanged type keeps its version and objects', () => {
    const rest = renderSnapshot(world(caller('http'), dependencies, ['web']), settings);
    const versions = snapshotVersions(rest);
    const once = adsSnapshotForms(rest, versions);
    const twice = adsSnapshotForms(renderSnapshot(world(caller('http'), dependencies, ['web']), settings), versions);
    expect(once.versions).toEqual({
      listeners: adsVersion(versions.listeners!),
      routes: versions.routes,
      clusters: adsVersion(versions.clusters!),
    });
    expect(once.versions.listeners).not.toBe(versions.listeners);
    expect(twice.versions).toEqual(once.versions);
    expect(once.resources.routes).toBe(rest.routes);
  });

  it('keeps a resource without config sources as the same object, and rewrites the bootstrap local cluster like a served one', () => {
    const routes = renderSnapshot(world(caller('http'), dependencies), settings).routes!;
    for (const r of routes) expect(adsResource(r)).toBe(r);
    const service = caller('http');
    expect(adsResource(localServiceCluster(service, settings))).toEqual(localServiceCluster(service, ads));
  });

  it('builds config sources from one place: REST by default, ADS when the settings say so', () => {
    expect(configSource(settings)).toEqual(restConfigSource(settings));
    expect(configSource(ads)).toEqual({ ads: {}, resource_api_version: 'V3' });
    expect(() => assertConformant(configSource(ads), 'type.googleapis.com/envoy.config.core.v3.ConfigSource')).not.toThrow();
  });
});

describe('the ADS forms whose SDS stays on REST (the push tier in AWS)', () => {
  const restSds = { sds: 'rest' } as const;

  it.each(cases)('point RDS and EDS at the stream, keep every SDS config source polling REST, and conform: $name', ({ service, deps }) => {
    const rest = renderSnapshot(world(service, deps, ['web']), settings);
    const derived = adsSnapshotForms(rest, snapshotVersions(rest), restSds).resources;
    for (const type of ['listeners', 'routes', 'clusters'] as const) {
      expect(() => assertConformant({ version_info: 'v', type_url: typeUrls[type], resources: derived[type] ?? [] })).not.toThrow();
    }
    expect(checkSnapshotConsistency(derived, service.name)).toEqual([]);
    const text = JSON.stringify(derived);
    const restSource = JSON.stringify(restConfigSource(settings));
    expect(text).not.toContain(`"sds_config":${JSON.stringify(adsConfigSource())}`);
    expect(text.split('"sds_config":').length - 1).toBe(text.split(`"sds_config":${restSource}`).length - 1);
    expect(text.replaceAll(`"sds_config":${restSource}`, '')).not.toContain('api_config_source');
  });

  it('differ from both other forms, and are versioned apart from both', () => {
    const rest = renderSnapshot(world(caller('http'), dependencies, ['web']), settings);
    const versions = snapshotVersions(rest);
    const plain = adsSnapshotForms(rest, versions);
    const keepSds = adsSnapshotForms(rest, versions, restSds);
    expect(JSON.stringify(keepSds.resources.clusters)).toContain(`"eds_config":${JSON.stringify(adsConfigSource())}`);
    expect(keepSds.resources.listeners).not.toEqual(plain.resources.listeners);
    expect(keepSds.versions.listeners).toBe(adsVersion(versions.listeners!, restSds));
    expect(new Set([versions.listeners, plain.versions.listeners, keepSds.versions.listeners]).size).toBe(3);
    expect(keepSds.versions.routes).toBe(versions.routes);
  });
});
