import { issueServiceCertificate } from '../../../shared/pki/certificate';
import {
  downstreamTlsTransportSocket,
  needsPrivateKey,
  renderServiceSecrets,
  SecretRenderError,
  serviceSecrets,
  tlsCertificateSecret,
  trustBundleSecret,
  upstreamTlsTransportSocket,
  withPrivateKey,
} from '../../../shared/render/secret';
import { defaultRenderSettings, restConfigSource } from '../../../shared/render/settings';
import { contentVersion } from '../../../shared/envoy/version';
import { typeUrls } from '../../../shared/envoy/resources';
import { assertConformant } from '../../support/envoy-schema';
import { createTestCa, mesh, now } from '../pki/fixtures';

const settings = defaultRenderSettings;
const sds = restConfigSource(settings);

async function issued() {
  const ca = await createTestCa();
  return { ca, payments: await ca.issue('payments') };
}

describe('serviceSecrets', () => {
  test('are the service certificate and the trust bundle, inline, sorted by name', async () => {
    const { ca, payments } = await issued();
    expect(serviceSecrets(payments, ca.ca.certificatePem, 'payments')).toEqual([
      {
        '@type': typeUrls.secrets,
        name: 'mesh_trust_bundle',
        validation_context: { trusted_ca: { inline_string: ca.ca.certificatePem } },
      },
      {
        '@type': typeUrls.secrets,
        name: 'service_certificate_payments',
        tls_certificate: {
          certificate_chain: { inline_string: payments.certificatePem },
          private_key: { inline_string: payments.privateKeyPem },
        },
      },
    ]);
  });

  test('decode strictly as Envoy Secrets and satisfy their validation rules', async () => {
    const { ca, payments } = await issued();
    for (const secret of serviceSecrets(payments, ca.ca.certificatePem, 'payments')) expect(() => assertConformant(secret)).not.toThrow();
  });

  test('change version when the certificate rotates, and only the certificate secret changes', async () => {
    const { ca, payments } = await issued();
    const renewed = await issueServiceCertificate(ca.signer, ca.ca.certificatePem, 'payments', { mesh, now: new Date(now.getTime() + 12 * 3600_000) });
    const [bundleBefore, certBefore] = serviceSecrets(payments, ca.ca.certificatePem, 'payments').map(contentVersion);
    const [bundleAfter, certAfter] = serviceSecrets(renewed, ca.ca.certificatePem, 'payments').map(contentVersion);
    expect({ bundleChanged: bundleAfter !== bundleBefore, certificateChanged: certAfter !== certBefore }).toEqual({
      bundleChanged: false,
      certificateChanged: true,
    });
  });

  test('accept a trust bundle of several CA certificates, as during a CA rotation', async () => {
    const { ca } = await issued();
    const next = await createTestCa();
    const bundle = ca.ca.certificatePem + next.ca.certificatePem;
    expect(trustBundleSecret(bundle)).toEqual({
      '@type': typeUrls.secrets,
      name: 'mesh_trust_bundle',
      validation_context: { trusted_ca: { inline_string: bundle } },
    });
  });
});

describe('secret builders refuse material that is not PEM, without echoing it', () => {
  const garbageKey = 'MHcCAQEEIDJ1c3QtYS1zZWNyZXQta2V5LXRoYXQtbXVzdC1uZXZlci1sZWFr';
  test.each([
    ['a private key that is not PEM', () => tlsCertificateSecret('payments', { certificatePem: validCert, privateKeyPem: garbageKey }), 'privateKeyPem: must be PEM with at least one PRIVATE KEY block'],
    ['a certificate chain that is not PEM', () => tlsCertificateSecret('payments', { certificatePem: garbageKey, privateKeyPem: validKey }), 'certificatePem: must be PEM with at least one CERTIFICATE block'],
    ['a private key given where the trust bundle goes', () => trustBundleSecret(validKey), 'trustBundlePem: must be PEM with at least one CERTIFICATE block'],
  ])('%s', (_label, build, message) => {
    let error: unknown;
    try {
      build();
    } catch (err) {
      error = err;
    }
    expect(error).toEqual(new SecretRenderError(message));
    expect(String(error)).not.toContain(garbageKey);
    expect(String(error)).not.toContain(validKey.split('\n')[1]);
  });

  let validCert = '';
  let validKey = '';
  beforeAll(async () => {
    const { payments } = await issued();
    validCert = payments.certificatePem;
    validKey = payments.privateKeyPem;
  });
});

describe('downstreamTlsTransportSocket', () => {
  test('requires a client certificate from the mesh CA and presents the service certificate, both over REST SDS', () => {
    expect(downstreamTlsTransportSocket({ name: 'payments' }, settings)).toEqual({
      name: 'envoy.transport_sockets.tls',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
        require_client_certificate: true,
        common_tls_context: {
          tls_certificate_sds_secret_configs: [{ name: 'service_certificate_payments', sds_config: sds }],
          validation_context_sds_secret_config: { name: 'mesh_trust_bundle', sds_config: sds },
        },
      },
    });
  });

  test('decodes strictly on its own and on an inbound listener filter chain', () => {
    const socket = downstreamTlsTransportSocket({ name: 'payments' }, settings);
    expect(() => assertConformant(socket.typed_config)).not.toThrow();
    const listener = {
      '@type': typeUrls.listeners,
      name: 'inbound',
      address: { socket_address: { address: '0.0.0.0', port_value: 15006 } },
      filter_chains: [
        {
          filters: [{ name: 'envoy.filters.network.tcp_proxy', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy', stat_prefix: 'inbound', cluster: 'local_app' } }],
          transport_socket: socket,
        },
      ],
    };
    expect(() => assertConformant(listener)).not.toThrow();
  });
});

describe('upstreamTlsTransportSocket', () => {
  test('presents the caller certificate and accepts only the dependency SPIFFE ID from the mesh CA', () => {
    expect(upstreamTlsTransportSocket({ caller: 'orders', dependency: 'payments', mesh }, settings)).toEqual({
      name: 'envoy.transport_sockets.tls',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
        sni: 'payments.mesh.local',
        common_tls_context: {
          tls_certificate_sds_secret_configs: [{ name: 'service_certificate_orders', sds_config: sds }],
          combined_validation_context: {
            default_validation_context: {
              match_typed_subject_alt_names: [{ san_type: 'URI', matcher: { exact: 'spiffe://mesh.local/service/payments' } }],
            },
            validation_context_sds_secret_config: { name: 'mesh_trust_bundle', sds_config: sds },
          },
        },
      },
    });
  });

  test('decodes strictly on its own and on a dependency cluster', () => {
    const socket = upstreamTlsTransportSocket({ caller: 'orders', dependency: 'payments', mesh }, settings);
    expect(() => assertConformant(socket.typed_config)).not.toThrow();
    const cluster = {
      '@type': typeUrls.clusters,
      name: 'payments',
      type: 'EDS',
      eds_cluster_config: { eds_config: sds, service_name: 'payments' },
      connect_timeout: '1s',
      transport_socket: socket,
    };
    expect(() => assertConformant(cluster)).not.toThrow();
  });
});

describe('renderServiceSecrets', () => {
  test('stores every secret without the private key, versioned as the whole secret, and withPrivateKey restores it', async () => {
    const { ca, payments } = await issued();
    const whole = serviceSecrets(payments, ca.ca.certificatePem, 'payments');
    const rendered = renderServiceSecrets(payments, ca.ca.certificatePem, 'payments');
    expect(JSON.stringify(rendered.resources)).not.toContain('PRIVATE KEY');
    expect(rendered.versions).toEqual(Object.fromEntries(whole.map((s) => [s.name, contentVersion([s])])));
    const served = rendered.resources.map((r) => (needsPrivateKey(r) ? withPrivateKey(r, payments.privateKeyPem) : r));
    expect(JSON.stringify(served)).toBe(JSON.stringify(whole));
  });

  test('withPrivateKey refuses a key that is not PEM, naming the field', async () => {
    const { ca, payments } = await issued();
    const [, certificate] = renderServiceSecrets(payments, ca.ca.certificatePem, 'payments').resources;
    expect(() => withPrivateKey(certificate!, 'not a key')).toThrow(SecretRenderError);
  });
});
