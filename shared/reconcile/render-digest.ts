import { contentVersion } from '../envoy/version';
import { buildNodeWorld } from '../model/node-world';
import { parseServiceSpec } from '../model/parse-spec';
import { ServiceSpec } from '../model/spec';
import { EndpointView, clusterLoadAssignment } from '../render/endpoint';
import { renderProxylessSnapshot } from '../render/proxyless';
import { RenderSettings } from '../render/settings';
import { renderSnapshot } from '../render/snapshot';

/**
 * renderEpoch is bumped by hand when rendering changes in a way the probe fleet below does not
 * show (a feature none of its specs uses): the next deploy then rebuilds every snapshot.
 */
export const renderEpoch = 1;

/**
 * The probe fleet: three services whose specs touch the common forms (HTTP with retries,
 * outlier detection and health checks, gRPC, TCP, transparent interception). Rendering it is
 * a fingerprint of the rendering code itself: new code that renders any of them differently
 * gives another digest without anyone bumping `renderEpoch`.
 */
const probeSpecs: readonly unknown[] = [
  {
    name: 'probe-orders',
    inboundPort: 15002,
    appPort: 8082,
    protocol: 'http',
    inbound: { allowedCallers: ['*'] },
    interception: { mode: 'transparent' },
    dependencies: [
      {
        service: 'probe-payments',
        localPort: 9001,
        timeoutMs: 3000,
        retries: { retryOn: ['5xx', 'retriable-status-codes'], statusCodes: [503], numRetries: 3 },
        outlierDetection: { consecutive5xx: 5 },
        healthCheck: { path: '/healthz' },
      },
      { service: 'probe-ledger', localPort: 9002, retries: { retryOn: ['unavailable'] }, healthCheck: { grpcServiceName: 'ledger.v1.Ledger' } },
    ],
  },
  { name: 'probe-payments', inboundPort: 15000, appPort: 8080, protocol: 'http' },
  { name: 'probe-ledger', inboundPort: 15001, appPort: 8081, protocol: 'grpc', dependencies: [{ service: 'probe-store', localPort: 9003 }] },
  { name: 'probe-store', inboundPort: 15003, appPort: 5432, protocol: 'tcp' },
];

const probeEndpoints: readonly EndpointView[] = [
  { id: 'i-0probe0000000001', address: '10.0.0.1', port: 15000, zone: 'us-east-1a', health: 'healthy', labels: { version: 'v1' } },
  { id: 'i-0probe0000000002', address: '10.0.0.2', port: 15000, zone: 'us-east-1b', health: 'draining', labels: { weight: '5' } },
];

/**
 * renderDigest names what stored snapshots rendered with these settings by this code look
 * like: a content hash of the settings, `renderEpoch` and the probe fleet's rendering. The
 * rebuild driver compares it with the digest of the last finished rebuild: when a deploy
 * changes a render setting (route delivery, refresh delay, observability default, system CA
 * path, ...) or ships code that renders differently, the digests differ and the fleet is
 * rendered again. It is pure and deterministic: the same settings and code give the same digest
 * in any process.
 */
export function renderDigest(settings: RenderSettings): string {
  const specs = new Map<string, ServiceSpec>(probeSpecs.map((raw) => {
    const spec = parseServiceSpec(raw);
    return [spec.name, spec];
  }));
  const callers = new Map<string, string[]>();
  for (const spec of specs.values()) for (const d of spec.dependencies) callers.set(d.service, [...(callers.get(d.service) ?? []), spec.name]);
  const rendered = [...specs.values()].map((spec) => {
    const built = buildNodeWorld(spec, specs, callers.get(spec.name) ?? []);
    if (!('world' in built)) throw new Error(`the probe fleet is incomplete: ${spec.name} misses ${built.missingDependencies.join(', ')}`);
    return { snapshot: renderSnapshot(built.world, settings), proxyless: renderProxylessSnapshot(built.world, settings), endpoints: clusterLoadAssignment(spec.name, probeEndpoints) };
  });
  return contentVersion({ epoch: renderEpoch, settings, rendered });
}
