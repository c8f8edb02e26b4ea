import type { ServiceSpec } from '../model/spec';
import { kindOf, mtlsModeOf } from '../model/service-terms';
import { spiffeId } from '../pki/identity';
import { names } from './names';
import { RenderSettings } from './settings';

/**
 * Mutual TLS for proxyless gRPC nodes (gRFC A29). gRPC takes no SDS: its TLS contexts name a
 * certificate provider instance of the node's bootstrap (`certificate_providers`, the
 * `file_watcher` plugin reading PEM files it reloads), so a certificate renewal is new files,
 * never a new listener or cluster. One instance (names.proxylessCertificateProvider) gives both
 * the node's certificate and key and the mesh trust bundle. Only with `proxylessMtls` on
 * (settings.ts), since a gRPC node whose bootstrap lacks the instance rejects what names it.
 */

const tlsTransportSocketName = 'envoy.transport_sockets.tls';
const downstreamTlsContextType = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';
const upstreamTlsContextType = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';

const identity = () => ({ tls_certificate_provider_instance: { instance_name: names.proxylessCertificateProvider } });
const trustBundle = () => ({ ca_certificate_provider_instance: { instance_name: names.proxylessCertificateProvider } });

/**
 * proxylessServerTransportSocket is what a proxyless server of `spec` terminates: mTLS, client
 * certificate required and verified against the trust bundle, where the service asks for mTLS
 * strictly and the mesh turned proxyless mTLS on. Undefined otherwise: plaintext. A permissive
 * service is served plaintext too: a gRPC server cannot tell TLS from plaintext on one port (its
 * listeners take no listener filters, so no TLS inspector, and it matches only the
 * `raw_buffer` transport protocol), so it cannot accept both as Envoy's permissive listener does.
 */
export function proxylessServerTransportSocket(spec: ServiceSpec, settings: RenderSettings): Record<string, unknown> | undefined {
  if (!settings.proxylessMtls || mtlsModeOf(spec) !== 'strict') return undefined;
  return {
    name: tlsTransportSocketName,
    typed_config: {
      '@type': downstreamTlsContextType,
      require_client_certificate: true,
      common_tls_context: { ...identity(), validation_context: trustBundle() },
    },
  };
}

/** proxylessServerEnforcesCallers: a proxyless server checks the allow-list only where it verifies client certificates (an identity to match). */
export function proxylessServerEnforcesCallers(spec: ServiceSpec, settings: RenderSettings): boolean {
  return proxylessServerTransportSocket(spec, settings) !== undefined;
}

/**
 * proxylessClusterTransportSocket is how a proxyless client reaches a mesh dependency: mTLS to a
 * strict one (with the mesh's proxyless mTLS on), presenting the node's certificate and accepting
 * the peer only if it chains to the trust bundle and carries the dependency's SPIFFE ID (gRPC
 * reads `match_subject_alt_names`, not the typed form Envoy's clusters use; an exact matcher
 * compares every SAN, URI ones included). Undefined: plaintext, which a permissive dependency
 * accepts (Envoy's permissive listener, or a proxyless server's plaintext one).
 */
export function proxylessClusterTransportSocket(dependency: ServiceSpec, settings: RenderSettings): Record<string, unknown> | undefined {
  if (!settings.proxylessMtls || kindOf(dependency) === 'external' || mtlsModeOf(dependency) !== 'strict') return undefined;
  return {
    name: tlsTransportSocketName,
    typed_config: {
      '@type': upstreamTlsContextType,
      common_tls_context: {
        ...identity(),
        validation_context: { ...trustBundle(), match_subject_alt_names: [{ exact: spiffeId(settings.meshName, dependency.name) }] },
      },
    },
  };
}
