import { ServiceSpec } from '../model/spec';
import { spiffeId } from '../pki/identity';
import { EnvoyResource, NamedVersionedResources, typeUrls } from '../envoy/resources';
import { contentVersion } from '../envoy/version';
import { names } from './names';
import { RenderSettings, configSource } from './settings';

/**
 * SDS secrets and the TLS transport sockets that consume them. Listeners and clusters name
 * their secrets and fetch them from the control plane's SDS (REST, or the ADS stream), so a certificate renewal is a
 * new secret version and never a listener or cluster update (which would drain connections).
 *
 * Envoy opens one SDS subscription per secret name and wants exactly that one secret in each
 * response (source/common/secret/sds_api.cc, `validateUpdateSize`), so discovery must answer a
 * `:secrets` poll with the single secret its `resource_names` asks for.
 */

const downstreamTlsContextType = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';
const upstreamTlsContextType = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';
const tlsTransportSocketName = 'envoy.transport_sockets.tls';

/** The certificate and key a service proves its identity with, as PEM. */
export interface ServiceKeyPair {
  readonly certificatePem: string;
  readonly privateKeyPem: string;
}

/** SecretRenderError says a secret could not be rendered; it names the field, never its contents. */
export class SecretRenderError extends Error {
  override readonly name = 'SecretRenderError';
}

function requirePem(value: string, label: string, field: string): string {
  if (typeof value !== 'string' || !value.includes(`-----BEGIN ${label}-----`) || !value.includes(`-----END ${label}-----`)) {
    throw new SecretRenderError(`${field}: must be PEM with at least one ${label} block`);
  }
  return value;
}

/**
 * tlsCertificateSecret is the SDS secret with a service's certificate chain and private key,
 * inline: Envoy gets them over SDS, never from a file on the host.
 */
export function tlsCertificateSecret(service: string, keyPair: ServiceKeyPair): EnvoyResource {
  return {
    '@type': typeUrls.secrets,
    name: names.serviceCertificateSecret(service),
    tls_certificate: {
      certificate_chain: { inline_string: requirePem(keyPair.certificatePem, 'CERTIFICATE', 'certificatePem') },
      private_key: { inline_string: requirePem(keyPair.privateKeyPem, 'PRIVATE KEY', 'privateKeyPem') },
    },
  };
}

/**
 * trustBundleSecret is the SDS secret with the mesh CA certificates peers are verified against.
 * It may hold several CA certificates (concatenated PEM) while the CA itself is being rotated.
 */
export function trustBundleSecret(trustBundlePem: string): EnvoyResource {
  return {
    '@type': typeUrls.secrets,
    name: names.trustBundleSecret,
    validation_context: { trusted_ca: { inline_string: requirePem(trustBundlePem, 'CERTIFICATE', 'trustBundlePem') } },
  };
}

/** serviceSecrets are all the SDS secrets the nodes of `service` may ask for, sorted by name. */
export function serviceSecrets(keyPair: ServiceKeyPair, trustBundlePem: string, service: string): EnvoyResource[] {
  return [tlsCertificateSecret(service, keyPair), trustBundleSecret(trustBundlePem)].sort((a, b) =>
    String(a.name) < String(b.name) ? -1 : String(a.name) > String(b.name) ? 1 : 0,
  );
}

/**
 * renderServiceSecrets renders a service's SDS secrets once, when its certificate is issued:
 * each is versioned over its whole content, private key included (so a new key is a new
 * version), and stored without the key, which stays sealed. Per request only the key is
 * opened and put back (`withPrivateKey`): nothing is rendered or hashed on a poll.
 */
export function renderServiceSecrets(keyPair: ServiceKeyPair, trustBundlePem: string, service: string): NamedVersionedResources {
  const secrets = serviceSecrets(keyPair, trustBundlePem, service);
  return {
    resources: secrets.map(withoutPrivateKey),
    versions: Object.fromEntries(secrets.map((s) => [String(s.name), contentVersion([s])])),
  };
}

/** withoutPrivateKey is a secret as stored: a certificate secret loses its private key. */
function withoutPrivateKey(secret: EnvoyResource): EnvoyResource {
  const tls = secret.tls_certificate as { certificate_chain: unknown } | undefined;
  return tls ? { ...secret, tls_certificate: { certificate_chain: tls.certificate_chain } } : secret;
}

/** needsPrivateKey tells whether a stored secret is served only with its private key put back. */
export function needsPrivateKey(secret: EnvoyResource): boolean {
  return secret.tls_certificate !== undefined;
}

/** withPrivateKey puts a certificate secret's opened private key back, as `tlsCertificateSecret` renders it. */
export function withPrivateKey(secret: EnvoyResource, privateKeyPem: string): EnvoyResource {
  const tls = secret.tls_certificate as { certificate_chain: unknown };
  return {
    ...secret,
    tls_certificate: {
      certificate_chain: tls.certificate_chain,
      private_key: { inline_string: requirePem(privateKeyPem, 'PRIVATE KEY', 'privateKeyPem') },
    },
  };
}

/** sdsSecretConfig points at one secret on the control plane's SDS. */
function sdsSecretConfig(name: string, settings: RenderSettings): Record<string, unknown> {
  return { name, sds_config: configSource(settings) };
}

/**
 * TlsOptions are what a listener or cluster adds to its TLS context: the ALPN protocols it
 * offers (a client, in order of preference) or accepts (a server), e.g. h2 for HTTP/2.
 */
export interface TlsOptions {
  readonly alpnProtocols?: readonly string[];
  /** The SNI an upstream context sends. @default `<dependency>.<mesh>` */
  readonly sni?: string;
}

function alpn(options: TlsOptions): Record<string, unknown> {
  return options.alpnProtocols && options.alpnProtocols.length > 0 ? { alpn_protocols: [...options.alpnProtocols] } : {};
}

/**
 * downstreamTlsTransportSocket makes an inbound listener's filter chain terminate mTLS: it
 * presents the service's certificate and accepts only clients whose certificate chains to the
 * mesh CA. Which callers may then talk to it is authorization, decided after the handshake.
 */
export function downstreamTlsTransportSocket(
  spec: Pick<ServiceSpec, 'name'>,
  settings: RenderSettings,
  options: TlsOptions = {},
): Record<string, unknown> {
  return {
    name: tlsTransportSocketName,
    typed_config: {
      '@type': downstreamTlsContextType,
      require_client_certificate: true,
      common_tls_context: {
        ...alpn(options),
        tls_certificate_sds_secret_configs: [sdsSecretConfig(names.serviceCertificateSecret(spec.name), settings)],
        validation_context_sds_secret_config: sdsSecretConfig(names.trustBundleSecret, settings),
      },
    },
  };
}

/** The two ends of one outbound mTLS connection, and the mesh whose CA both trust. */
export interface MeshPeer {
  /** The calling service: its certificate is presented. */
  readonly caller: string;
  /** The service called: its certificate must carry this service's SPIFFE ID. */
  readonly dependency: string;
  readonly mesh: string;
}

/**
 * upstreamTlsTransportSocket makes a dependency's cluster originate mTLS: it presents the
 * caller's certificate and accepts the peer only if its certificate chains to the mesh CA and
 * carries the dependency's SPIFFE ID, so a valid certificate of some other service is refused.
 */
export function upstreamTlsTransportSocket(peer: MeshPeer, settings: RenderSettings, options: TlsOptions = {}): Record<string, unknown> {
  return {
    name: tlsTransportSocketName,
    typed_config: {
      '@type': upstreamTlsContextType,
      // SNI is informational here (identity is checked by SAN), but a stable one helps in traces.
      sni: options.sni ?? `${peer.dependency}.${peer.mesh}`,
      common_tls_context: {
        ...alpn(options),
        tls_certificate_sds_secret_configs: [sdsSecretConfig(names.serviceCertificateSecret(peer.caller), settings)],
        combined_validation_context: {
          default_validation_context: {
            match_typed_subject_alt_names: [{ san_type: 'URI', matcher: { exact: spiffeId(peer.mesh, peer.dependency) } }],
          },
          validation_context_sds_secret_config: sdsSecretConfig(names.trustBundleSecret, settings),
        },
      },
    },
  };
}
