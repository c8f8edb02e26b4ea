import { EnvoyResource, typeUrls } from '../envoy/resources';
import { contentVersion } from '../envoy/version';
import { names } from './names';
import { ServiceKeyPair } from './secret';

/**
 * gatewayCertificateSecret is the SDS secret a gateway's TLS listener terminates with
 * (render/gateway.ts names it in the listener's DownstreamTlsContext): the operator's
 * certificate chain, leaf first, and its private key, inline. Only the gateway's own nodes are
 * served it (xds/selection.ts).
 */
export function gatewayCertificateSecret(gateway: string, port: number, keyPair: ServiceKeyPair): EnvoyResource {
  return {
    '@type': typeUrls.secrets,
    name: names.gatewayCertificateSecret(gateway, port),
    tls_certificate: {
      certificate_chain: { inline_string: keyPair.certificatePem },
      private_key: { inline_string: keyPair.privateKeyPem },
    },
  };
}

/**
 * gatewayCertificateVersion is the version of a listener's secret over its whole content, key
 * included: computed once when the certificate is copied and stored with it, so a poll hashes
 * nothing, and a rotated certificate (or key) is a new version.
 */
export function gatewayCertificateVersion(gateway: string, port: number, keyPair: ServiceKeyPair): string {
  return contentVersion([gatewayCertificateSecret(gateway, port, keyPair)]);
}
