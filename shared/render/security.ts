import type { ServiceSpec } from '../model/spec';
import { mtlsEnabledOf } from '../model/service-terms';
import { EnvoyResource } from '../envoy/resources';
import { usesHttp2 } from './cluster';
import { jwksCluster, jwtAuthnFilter, jwtOf } from './jwt';
import { ListenerOptions } from './listener';
import { AllowedCallers, allowedCallers, networkRbacFilter } from './rbac';
import { inboundRbacListenerFilter } from './inbound-policy';
import { kindOf, mtlsModeOf } from '../model/service-terms';
import { downstreamTlsTransportSocket, upstreamTlsTransportSocket } from './secret';
import { RenderSettings } from './settings';

/**
 * The security layer of a snapshot, put together from the TLS, RBAC and JWT builders: what
 * the inbound listener terminates and checks, and how a caller's cluster reaches a dependency.
 */

/** InboundSecurity is what the inbound listener gets, and the clusters that serves it (the JWKS one). */
export interface InboundSecurity {
  readonly listenerOptions: ListenerOptions;
  /** What the external listener (inbound.external) keeps: the JWT check, never mTLS or the allow-list. */
  readonly externalListenerOptions: Pick<ListenerOptions, 'httpFilters'>;
  readonly clusters: readonly EnvoyResource[];
  /**
   * The allow-list of an HTTP service, which rides on its inbound route (inbound-policy.ts) so a
   * caller change never touches the listener. Undefined: no allow-list, or a TCP service (whose
   * network RBAC stays in the listener).
   */
  readonly routeCallerPolicy?: AllowedCallers;
}

/**
 * inboundSecurity: with mTLS, the listener terminates TLS (client certificate required) and
 * lets only allowed callers through; a JWT check, where declared, runs before authorization,
 * so a caller that is allowed still needs a valid token. ALPN offers h2 and http/1.1 on HTTP
 * protocols, so an HTTP/2 caller negotiates HTTP/2 (the codec is AUTO either way).
 */
export function inboundSecurity(spec: ServiceSpec, callers: readonly string[], settings: RenderSettings): InboundSecurity {
  const http = spec.protocol !== 'tcp';
  const allowed = allowedCallers(spec, callers);
  const jwt = jwtOf(spec);
  const transportSocket = mtlsEnabledOf(spec)
    ? downstreamTlsTransportSocket(spec, settings, http ? { alpnProtocols: ['h2', 'http/1.1'] } : {})
    : undefined;
  const httpFilters = http
    ? [...(jwt ? [jwtAuthnFilter(spec, jwt)] : []), ...(allowed ? [inboundRbacListenerFilter(settings)] : [])]
    : [];
  const networkFilters = !http && allowed ? [networkRbacFilter(spec, allowed, settings)] : [];
  return {
    listenerOptions: {
      ...(transportSocket ? { transportSocket } : {}),
      ...(httpFilters.length > 0 ? { httpFilters } : {}),
      ...(networkFilters.length > 0 ? { networkFilters } : {}),
    },
    externalListenerOptions: http && jwt ? { httpFilters: [jwtAuthnFilter(spec, jwt)] } : {},
    clusters: jwt ? [jwksCluster(spec, jwt)] : [],
    ...(http && allowed ? { routeCallerPolicy: allowed } : {}),
  };
}

/**
 * dependencyTransportSocket is how the caller's cluster reaches a mesh dependency: mTLS when
 * the dependency's listener requires it (strict: its spec decides, not the caller's), or
 * accepts it (permissive) and the caller has mTLS on; offering h2 by ALPN where the cluster
 * speaks HTTP/2. Undefined: plaintext (an external service's TLS is external.ts's).
 */
export function dependencyTransportSocket(
  caller: ServiceSpec,
  dependency: ServiceSpec,
  settings: RenderSettings,
): Record<string, unknown> | undefined {
  const mode = mtlsModeOf(dependency);
  if (kindOf(dependency) === 'external' || mode === 'off' || (mode === 'permissive' && !mtlsEnabledOf(caller))) return undefined;
  return upstreamTlsTransportSocket(
    { caller: caller.name, dependency: dependency.name, mesh: settings.meshName },
    settings,
    usesHttp2(dependency.protocol) ? { alpnProtocols: ['h2'] } : {},
  );
}
