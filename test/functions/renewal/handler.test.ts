import type { Context } from 'aws-lambda';
import { createRenewalHandler } from '../../../functions/renewal/handler';
import { useDynalite } from '../../support/dynamo';
import { declare, spec } from '../../shared/lifecycle/fixtures';
import { CertificateIssuer, loadCertificateAuthority } from '../../../shared/state/certificates';
import { createLocalCaSigner } from '../../../shared/pki/signer';
import { rotationPolicy } from '../../../shared/pki/rotation';
import { AesGcmSealer } from '../../../shared/secrets/sealer';
import { declareService } from '../../../shared/state/catalog';
import { defaultRenderSettings } from '../../../shared/render/settings';
import { operatorChain, secretJson } from '../../support/operator-certificates';

const dynamo = useDynalite();
const context = { functionName: 'renewal', awsRequestId: 'req-1' } as Context;

describe('renewal handler', () => {
  it('issues missing certificates, keeps current ones, and renews those past half-life', async () => {
    const store = await dynamo.newStore();
    await declare(store, spec({ name: 'orders', ecs: { cluster: 'prod' } }));
    const ca = await loadCertificateAuthority(store, createLocalCaSigner(), { mesh: 'mesh.local', now: new Date(), replaceForeign: false });
    const issuer: CertificateIssuer = { ca, sealer: AesGcmSealer.generate(), policy: rotationPolicy(), now: () => new Date() };
    const handler = createRenewalHandler(store, async () => issuer);

    expect(await handler({}, context)).toMatchObject({ issued: ['orders'], current: 0 });
    const issued = await store.getServiceSecrets('orders');
    expect(issued?.trustBundlePem).toBe(ca.certificatePem);
    expect(await handler({}, context)).toMatchObject({ issued: [], current: 1 });
    expect((await store.getServiceSecrets('orders'))?.serial).toBe(issued?.serial); // not due yet: kept

    const later = createRenewalHandler(store, async () => ({ ...issuer, now: () => new Date(Date.parse(issued!.notBefore) + 13 * 3600 * 1000) }));
    expect(await later({}, context)).toMatchObject({ issued: ['orders'], current: 0 });
    expect((await store.getServiceSecrets('orders'))?.serial).not.toBe(issued?.serial); // past half-life: renewed
  });

  it('copies a gateway listener certificate whose secret rotated, and reports one it cannot serve without failing the run', async () => {
    const store = await dynamo.newStore();
    const arn = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:edge-tls-AbCdEf';
    const start = new Date(Date.UTC(2031, 4, 10));
    const versions = [{ versionId: 'v1', text: secretJson(operatorChain(start)) }];
    const ca = await loadCertificateAuthority(store, createLocalCaSigner(), { mesh: 'mesh.local', now: new Date(), replaceForeign: false });
    const issuer: CertificateIssuer = {
      ca,
      sealer: AesGcmSealer.generate(),
      policy: rotationPolicy(),
      now: () => start,
      operatorCertificates: { read: async () => versions.at(-1)! },
    };
    await declare(store, spec({ name: 'orders', ecs: { cluster: 'prod' } }));
    const gateway = { name: 'edge', kind: 'gateway', listeners: [{ port: 443, protocol: 'http', tls: { certificateSecretArn: arn } }], routes: [{ pathPrefix: '/', service: 'orders' }] };
    await declareService(store, gateway, defaultRenderSettings, { certificates: { issuer, store } });
    const handler = createRenewalHandler(store, async () => issuer);

    expect((await handler({}, context)).gatewayCertificates).toEqual({ copied: [], removed: [], problems: [] });
    versions.push({ versionId: 'v2', text: secretJson(operatorChain(start)) });
    expect((await handler({}, context)).gatewayCertificates).toEqual({ copied: ['edge:443'], removed: [], problems: [] });
    versions.push({ versionId: 'v3', text: '{"certificateChain": "nothing"}' });
    const bad = await handler({}, context);
    expect(bad.gatewayCertificates.problems).toEqual([{ gateway: 'edge', path: 'listeners.0.tls.certificateSecretArn', message: expect.stringContaining('version v3') }]);
    expect((await store.getServiceSecrets('edge'))!.gatewayCertificates![0]!.sourceVersion).toBe('v2');
  });

  it('fails the run when the issuer cannot be loaded, so the error alarm fires and no run is counted', async () => {
    const store = await dynamo.newStore();
    await declare(store, spec({ name: 'orders', ecs: { cluster: 'prod' } }));
    const handler = createRenewalHandler(store, async () => {
      throw new Error('KMS unavailable');
    });
    await expect(handler({}, context)).rejects.toThrow('KMS unavailable');
    expect(await store.getServiceSecrets('orders')).toBeUndefined();
  });
});
