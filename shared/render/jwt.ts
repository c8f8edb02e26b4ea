import { serviceDefaults } from '../model/defaults';
import { ServiceSpec } from '../model/spec';
import { EnvoyResource, typeUrls } from '../envoy/resources';
import { names } from './names';
import { duration } from './policy';

const jwtAuthnType = 'type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication';
const upstreamTlsContextType = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';

/**
 * Optional JWT validation on a service's inbound HTTP listener: every request must carry a
 * bearer token signed by the issuer's keys (JWKS), with the issuer and one of the audiences
 * declared in `inbound.jwt`. The keys are fetched by the sidecar through a cluster of its own.
 */

type JwtSpec = NonNullable<NonNullable<ServiceSpec['inbound']>['jwt']>;

/** jwtOf is the service's JWT check, where one applies: declared, on an HTTP protocol (the spec rejects it on TCP). */
export function jwtOf(spec: ServiceSpec): JwtSpec | undefined {
  const jwt = spec.inbound?.jwt;
  return jwt && spec.protocol !== 'tcp' ? jwt : undefined;
}

/** jwksHost is where the JWKS is fetched: the URI's host and port (443 unless given). */
function jwksHost(jwt: JwtSpec): { host: string; port: number } {
  const url = new URL(jwt.jwksUri);
  return { host: url.hostname, port: url.port === '' ? 443 : Number(url.port) };
}

/**
 * jwtAuthnFilter is the HTTP filter that checks the token before authorization and routing.
 * The token is read from `Authorization: Bearer …` only (never a query parameter, which ends
 * up in access logs) and removed once verified (`forward: false`): the payload gets the claims
 * through `forwardPayloadHeader` if it wants them, never a replayable token.
 */
export function jwtAuthnFilter(spec: ServiceSpec, jwt: JwtSpec): Record<string, unknown> {
  const d = serviceDefaults.jwt;
  const provider = names.jwtProvider(spec.name);
  return {
    name: 'envoy.filters.http.jwt_authn',
    typed_config: {
      '@type': jwtAuthnType,
      providers: {
        [provider]: {
          issuer: jwt.issuer,
          audiences: [...jwt.audiences],
          remote_jwks: {
            http_uri: { uri: jwt.jwksUri, cluster: names.jwksCluster(spec.name), timeout: duration(d.jwksFetchTimeoutMs) },
            cache_duration: `${jwt.cacheDurationSeconds ?? d.cacheDurationSeconds}s`,
            // Fetched on the main thread before the listener takes traffic, shared by every worker.
            async_fetch: {},
          },
          forward: false,
          from_headers: [{ name: 'Authorization', value_prefix: 'Bearer ' }],
          ...(jwt.forwardPayloadHeader ? { forward_payload_header: jwt.forwardPayloadHeader } : {}),
        },
      },
      rules: [{ match: { prefix: '/' }, requires: { provider_name: provider } }],
    },
  };
}

/**
 * jwksCluster reaches the JWKS host. It is no mesh service: plain DNS (LOGICAL_DNS, as the
 * bootstrap's xDS cluster) and TLS verified against the system CA bundle with the host's
 * name as SNI and as the required DNS SAN (Envoy checks no name unless told to).
 */
export function jwksCluster(spec: ServiceSpec, jwt: JwtSpec): EnvoyResource {
  const d = serviceDefaults.jwt;
  const { host, port } = jwksHost(jwt);
  const name = names.jwksCluster(spec.name);
  return {
    '@type': typeUrls.clusters,
    name,
    type: 'LOGICAL_DNS',
    dns_lookup_family: 'V4_PREFERRED',
    connect_timeout: duration(d.jwksConnectTimeoutMs),
    load_assignment: {
      cluster_name: name,
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: host, port_value: port } } } }] }],
    },
    transport_socket: {
      name: 'envoy.transport_sockets.tls',
      typed_config: {
        '@type': upstreamTlsContextType,
        sni: host,
        common_tls_context: {
          validation_context: {
            trusted_ca: { filename: d.systemCaBundlePath },
            match_typed_subject_alt_names: [{ san_type: 'DNS', matcher: { exact: host } }],
          },
        },
      },
    },
  };
}
