import { EnvoyResource } from '../envoy/resources';
import { names } from '../render/names';

/**
 * How a proxyless gRPC node gets the files its bootstrap's `file_watcher` certificate provider
 * reads (grpc-bootstrap.ts): from the same SDS secrets an Envoy of its service is served (REST
 * `POST /v3/discovery:secrets`, authorized as that service), written out as PEM. The push tier
 * serves proxyless nodes no secrets, and gRPC takes none over xDS: the files are the interface.
 */

/** CertificatePems are a node's three PEM files' contents. */
export interface CertificatePems {
  readonly certificatePem: string;
  readonly privateKeyPem: string;
  readonly trustBundlePem: string;
}

/** MissingSecretError says the SDS answer lacked what a proxyless node's files need; it names the secret, never its contents. */
export class MissingSecretError extends Error {
  override readonly name = 'MissingSecretError';
}

interface SecretShape {
  name?: unknown;
  tls_certificate?: { certificate_chain?: { inline_string?: string }; private_key?: { inline_string?: string } };
  validation_context?: { trusted_ca?: { inline_string?: string } };
}

/** certificatePems reads a service's certificate, key and trust bundle out of its SDS secrets. */
export function certificatePems(secrets: readonly EnvoyResource[], service: string): CertificatePems {
  const byName = new Map(secrets.map((s) => [String(s.name), s as SecretShape]));
  const own = byName.get(names.serviceCertificateSecret(service))?.tls_certificate;
  const trust = byName.get(names.trustBundleSecret)?.validation_context?.trusted_ca?.inline_string;
  const certificatePem = own?.certificate_chain?.inline_string;
  const privateKeyPem = own?.private_key?.inline_string;
  if (!certificatePem || !privateKeyPem) throw new MissingSecretError(`secret "${names.serviceCertificateSecret(service)}" with a certificate chain and private key is missing`);
  if (!trust) throw new MissingSecretError(`secret "${names.trustBundleSecret}" with a trusted CA is missing`);
  return { certificatePem, privateKeyPem, trustBundlePem: trust };
}
