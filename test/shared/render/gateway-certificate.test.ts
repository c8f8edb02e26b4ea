import { gatewayCertificateSecret, gatewayCertificateVersion } from '../../../shared/render/gateway-certificate';
import { names } from '../../../shared/render/names';
import { checkSnapshotConsistency } from '../../../shared/render/snapshot';
import { renderGatewaySnapshot } from '../../../shared/render/gateway';
import { assertConformant } from '../../support/envoy-schema';
import { operatorChain } from '../../support/operator-certificates';
import { settings, spec, world } from './fixtures';

const at = new Date(Date.UTC(2031, 4, 10));
const chain = operatorChain(at);
const other = operatorChain(at);

describe('gatewayCertificateSecret', () => {
  it('is the SDS Secret the gateway listener names: the chain and key inline, strict-valid against Envoy’s protos', () => {
    const secret = gatewayCertificateSecret('edge', 443, { certificatePem: chain.chainPem, privateKeyPem: chain.keyPem });
    expect(() => assertConformant(secret)).not.toThrow();
    expect(secret).toEqual({
      '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret',
      name: names.gatewayCertificateSecret('edge', 443),
      tls_certificate: { certificate_chain: { inline_string: chain.chainPem }, private_key: { inline_string: chain.keyPem } },
    });
  });

  it('is named as render/gateway.ts names it in the listener’s TLS context', () => {
    const gateway = spec({
      name: 'edge',
      kind: 'gateway',
      listeners: [{ port: 443, protocol: 'http', tls: { certificateSecretArn: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:x-AbCdEf' } }],
      routes: [{ pathPrefix: '/', service: 'web' }],
    });
    const snapshot = renderGatewaySnapshot(world(gateway, [spec({ name: 'web' })]), settings);
    const listener = snapshot.listeners![0]!;
    expect(JSON.stringify(listener)).toContain(`"name":"${names.gatewayCertificateSecret('edge', 443)}"`);
    expect(checkSnapshotConsistency(snapshot, 'edge')).toEqual([]);
  });

  it('has a version over its whole content: another key or another certificate is another version, the same is the same', () => {
    const v = gatewayCertificateVersion('edge', 443, { certificatePem: chain.chainPem, privateKeyPem: chain.keyPem });
    expect(gatewayCertificateVersion('edge', 443, { certificatePem: chain.chainPem, privateKeyPem: chain.keyPem })).toBe(v);
    expect(gatewayCertificateVersion('edge', 443, { certificatePem: chain.chainPem, privateKeyPem: other.keyPem })).not.toBe(v);
    expect(gatewayCertificateVersion('edge', 443, { certificatePem: other.chainPem, privateKeyPem: chain.keyPem })).not.toBe(v);
    expect(gatewayCertificateVersion('edge', 8443, { certificatePem: chain.chainPem, privateKeyPem: chain.keyPem })).not.toBe(v);
  });
});
