import { declareService } from '../../../shared/state/catalog';
import { CertificateIssuer, ensureServiceCertificate, loadCertificateAuthority } from '../../../shared/state/certificates';
import { defaultRenderSettings } from '../../../shared/render/settings';
import { names } from '../../../shared/render/names';
import { DiscoveryDeps, XdsAnswer, discover } from '../../../shared/xds/discovery';
import { XdsRequest } from '../../../shared/xds/request';
import { Principal } from '../../../shared/xds/authorization';
import { SnapshotCache } from '../../../shared/xds/snapshot-cache';
import { RefusalKind } from '../../../shared/xds/refusal';
import { createLocalCaSigner } from '../../../shared/pki/signer';
import { rotationPolicy } from '../../../shared/pki/rotation';
import { AesGcmSealer } from '../../../shared/secrets/sealer';
import { typeUrls } from '../../../shared/envoy/resources';
import { MeshStore } from '../../../shared/store/mesh-store';
import { useDynalite } from '../../support/dynamo';

const dynalite = useDynalite();

const payments = { name: 'payments', inboundPort: 15000, appPort: 8080, protocol: 'http' };
const orders = { name: 'orders', inboundPort: 15000, appPort: 8080, protocol: 'http', dependencies: [{ service: 'payments', localPort: 9001 }] };
const node = { id: 'orders-1', cluster: 'orders' };
const ordersRole = 'arn:aws:iam::111122223333:role/orders';

let store: MeshStore;
let sealer: AesGcmSealer;
beforeAll(async () => {
  store = await dynalite.newStore();
  await declareService(store, payments, defaultRenderSettings);
  await declareService(store, { ...orders, identity: { iamRoleArns: [ordersRole] } }, defaultRenderSettings);
  const ca = await loadCertificateAuthority(store, createLocalCaSigner(), { mesh: 'mesh.local', now: new Date(), replaceForeign: false });
  sealer = AesGcmSealer.generate();
  const issuer: CertificateIssuer = { ca, sealer, policy: rotationPolicy(), now: () => new Date() };
  await ensureServiceCertificate(store, issuer, 'orders');
});

const request = (overrides: Partial<XdsRequest> = {}): XdsRequest => ({ type: 'clusters', node, resourceNames: [], versionInfo: '', ...overrides });
const deps = (overrides: Partial<DiscoveryDeps> = {}): DiscoveryDeps => ({ cache: new SnapshotCache(store, { ttlMs: 0 }), sealer, ...overrides });
const refusalOf = (answer: XdsAnswer) => (answer.kind === 'refusal' ? { kind: answer.refusal.kind, message: answer.refusal.message } : answer.kind);

describe('the transport-free xDS core', () => {
  it('answers a first request with a response of the asked type', async () => {
    const answer = await discover(deps(), request());
    expect(answer).toMatchObject({ kind: 'response', typeUrl: typeUrls.clusters, versionInfo: expect.any(String) });
  });

  it('answers not-modified when the node already has the version, never to an empty version', async () => {
    const first = await discover(deps(), request());
    const version = first.kind === 'response' ? first.versionInfo : '';
    expect(await discover(deps(), request({ versionInfo: version }))).toMatchObject({ kind: 'not-modified', versionInfo: version });
  });

  const iam = (arn: string): Principal => ({ kind: 'iam', arn });
  it.each<[string, Partial<DiscoveryDeps>, Partial<XdsRequest>, Principal | undefined, RefusalKind, string]>([
    ['a type URL of another type', {}, { typeUrl: typeUrls.listeners }, undefined, 'bad-request', 'does not match'],
    ['no node', {}, { node: undefined }, undefined, 'bad-request', 'no node'],
    ['a node without a service', {}, { node: { id: 'x' } }, undefined, 'bad-request', 'node.cluster'],
    ['a node without an id', {}, { node: { cluster: 'orders' } }, undefined, 'bad-request', 'node.id'],
    ['an endpoints request that names nothing', {}, { type: 'endpoints' }, undefined, 'bad-request', 'resource_names'],
    ['a secrets request that names nothing', {}, { type: 'secrets' }, undefined, 'bad-request', 'resource_names'],
    ['a node of an undeclared service', {}, { node: { id: 'x', cluster: 'nobody' } }, undefined, 'not-found', 'not declared'],
    ['secrets where SDS is not configured', { sealer: undefined }, { type: 'secrets', resourceNames: [names.trustBundleSecret] }, undefined, 'not-found', 'SDS is not configured'],
    ['endpoints of a service it does not call', {}, { type: 'endpoints', resourceNames: ['ledger'] }, undefined, 'refused', '"ledger"'],
    ['another service\'s certificate', {}, { type: 'secrets', resourceNames: [names.serviceCertificateSecret('payments')] }, undefined, 'refused', 'may not fetch'],
    ['no principal where IAM is required', { authMode: 'iam' }, {}, undefined, 'unauthenticated', 'not authenticated'],
    ['a role not bound to the service', { authMode: 'iam' }, {}, iam('arn:aws:iam::111122223333:role/payments'), 'refused', 'not allowed'],
    ['a token of another service', { authMode: 'token' }, {}, { kind: 'service-token', service: 'payments' }, 'refused', 'not allowed'],
    ['secrets while the data key cannot be opened', { sealer: 'unavailable' }, { type: 'secrets', resourceNames: [names.trustBundleSecret] }, undefined, 'unavailable', 'retry'],
    ['secrets of a service not issued a certificate yet', {}, { node: { id: 'p', cluster: 'payments' }, type: 'secrets', resourceNames: [names.trustBundleSecret] }, undefined, 'unavailable', 'not issued yet'],
  ])('refuses %s', async (_what, d, r, principal, kind, message) => {
    expect(refusalOf(await discover(deps(d), request(r), principal))).toEqual({ kind, message: expect.stringContaining(message) });
  });

  it('serves the role bound to the service', async () => {
    expect((await discover(deps({ authMode: 'iam' }), request(), iam(ordersRole))).kind).toBe('response');
  });

  it('answers unavailable when the table cannot be read and nothing is cached', async () => {
    const broken = new MeshStore(dynalite.db().doc, 'no-such-table');
    const answer = await discover({ cache: new SnapshotCache(broken, { ttlMs: 0 }) }, request());
    expect(refusalOf(answer)).toEqual({ kind: 'unavailable', message: expect.stringContaining('retry') });
  });

  it('serves the certificate with its private key opened, and the trust bundle without opening anything', async () => {
    const opened: string[] = [];
    const counting = {
      seal: (pem: string, context: string) => sealer.seal(pem, context),
      open: (sealed: Uint8Array, context: string) => (opened.push('key'), sealer.open(sealed, context)),
    };
    const bundle = await discover(deps({ sealer: counting }), request({ type: 'secrets', resourceNames: [names.trustBundleSecret] }));
    expect(opened).toEqual([]);
    const cert = await discover(deps({ sealer: counting }), request({ type: 'secrets', resourceNames: [names.serviceCertificateSecret('orders')] }));
    expect(opened).toEqual(['key']);
    expect(bundle.kind === 'response' && bundle.resources.map((r) => r.name)).toEqual([names.trustBundleSecret]);
    expect(cert.kind === 'response' && cert.resources[0]).toMatchObject({
      tls_certificate: { private_key: { inline_string: expect.stringContaining('BEGIN PRIVATE KEY') } },
    });
  });
});
