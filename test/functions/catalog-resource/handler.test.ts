import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type {
  CloudFormationCustomResourceEvent,
  CloudFormationCustomResourceResponse,
  Context,
} from 'aws-lambda';
import { createCatalogResourceHandler } from '../../../functions/catalog-resource/handler';
import { handleAdminRequest } from '../../../shared/api/admin';
import { defaultRenderSettings } from '../../../shared/render/settings';
import { MeshStore } from '../../../shared/store/mesh-store';
import { useDynalite } from '../../support/dynamo';
import { createLocalCaSigner } from '../../../shared/pki/signer';
import { rotationPolicy } from '../../../shared/pki/rotation';
import { AesGcmSealer } from '../../../shared/secrets/sealer';
import { CertificateIssuer, loadCertificateAuthority } from '../../../shared/state/certificates';

const dynamo = useDynalite();
const context = { functionName: 'catalog-resource', awsRequestId: 'req-1' } as Context;

/** A stand-in for CloudFormation's pre-signed S3 URL: records each PUT it receives. */
let cloudFormation: http.Server;
let responseUrl: string;
let uploads: { method?: string; contentType?: string; body: CloudFormationCustomResourceResponse }[];
let uploadStatus = 200;
beforeAll(async () => {
  cloudFormation = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      uploads.push({ method: req.method, contentType: req.headers['content-type'], body: JSON.parse(body) });
      res.writeHead(uploadStatus).end();
    });
  });
  await new Promise<void>((resolve) => cloudFormation.listen(0, '127.0.0.1', resolve));
  responseUrl = `http://127.0.0.1:${(cloudFormation.address() as AddressInfo).port}/cfn-response?X-Amz-Signature=x`;
});
afterAll(() => new Promise((resolve) => cloudFormation.close(resolve)));
beforeEach(() => {
  uploads = [];
  uploadStatus = 200;
});

const payments = { name: 'payments', inboundPort: 15000, appPort: 8080, protocol: 'http', drainSeconds: 60 };
const orders = { name: 'orders', inboundPort: 15000, appPort: 8080, protocol: 'http', dependencies: [{ service: 'payments', localPort: 9001 }] };

const common = {
  ServiceToken: 'arn:aws:lambda:us-east-1:111122223333:function:catalog',
  StackId: 'arn:aws:cloudformation:us-east-1:111122223333:stack/mesh/1',
  RequestId: 'r-1',
  ResourceType: 'Custom::MeshService',
};
const create = (logicalId: string, spec: unknown): CloudFormationCustomResourceEvent => ({
  ...common,
  RequestType: 'Create',
  ResponseURL: responseUrl,
  LogicalResourceId: logicalId,
  ResourceProperties: { ServiceToken: common.ServiceToken, Spec: JSON.stringify(spec) },
});
const update = (logicalId: string, physicalId: string, spec: unknown, old: unknown): CloudFormationCustomResourceEvent => ({
  ...common,
  RequestType: 'Update',
  ResponseURL: responseUrl,
  LogicalResourceId: logicalId,
  PhysicalResourceId: physicalId,
  ResourceProperties: { ServiceToken: common.ServiceToken, Spec: JSON.stringify(spec) },
  OldResourceProperties: { ServiceToken: common.ServiceToken, Spec: JSON.stringify(old) },
});
const remove = (logicalId: string, physicalId: string, spec: unknown): CloudFormationCustomResourceEvent => ({
  ...common,
  RequestType: 'Delete',
  ResponseURL: responseUrl,
  LogicalResourceId: logicalId,
  PhysicalResourceId: physicalId,
  ResourceProperties: { ServiceToken: common.ServiceToken, Spec: JSON.stringify(spec) },
});

async function setup(): Promise<{ store: MeshStore; run: (event: CloudFormationCustomResourceEvent) => Promise<CloudFormationCustomResourceResponse> }> {
  const store = await dynamo.newStore();
  const handler = createCatalogResourceHandler({ store, settings: defaultRenderSettings });
  return { store, run: (event) => handler(event, context) };
}

describe('the MeshService custom resource', () => {
  it('declares the service on Create and tells CloudFormation its name and revision', async () => {
    const { store, run } = await setup();
    await run(create('Payments', payments));
    expect(uploads).toEqual([
      {
        method: 'PUT',
        contentType: '',
        body: {
          Status: 'SUCCESS',
          PhysicalResourceId: 'payments',
          StackId: common.StackId,
          RequestId: common.RequestId,
          LogicalResourceId: 'Payments',
          Data: { Name: 'payments', Revision: '1' },
        },
      },
    ]);
    expect((await store.getService('payments'))?.spec).toMatchObject(payments);
  });

  it.each([
    ['a spec that fails on its own', { ...payments, appPort: 15000 }],
    ['a spec with an undeclared dependency', orders],
    ['a spec with an unknown field', { ...payments, colour: 'red' }],
  ])('fails Create on %s with the management API’s message and writes nothing', async (_case, spec) => {
    const { store, run } = await setup();
    const api = await handleAdminRequest(
      { store, settings: defaultRenderSettings },
      { method: 'PUT', path: `/services/${spec.name}`, query: {}, headers: {}, body: JSON.stringify(spec) },
    );
    expect(api.status).toBe(400);
    await run(create('Service', spec));
    expect(uploads.map((u) => u.body)).toEqual([
      expect.objectContaining({ Status: 'FAILED', Reason: (api.body as { error: string }).error, PhysicalResourceId: 'Service' }),
    ]);
    expect(await store.listServices()).toEqual([]);
  });

  it('declares the new name on an Update that renames, leaving the old one for CloudFormation’s Delete', async () => {
    const { store, run } = await setup();
    await run(create('Payments', payments));
    await run(update('Payments', 'payments', { ...payments, name: 'billing' }, payments));
    expect(uploads[1]!.body).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'billing' });
    expect((await store.listServices()).map((r) => r.spec.name).sort()).toEqual(['billing', 'payments']);
    await run(remove('Payments', 'payments', payments));
    expect((await store.listServices()).map((r) => r.spec.name)).toEqual(['billing']);
  });

  it('raises the revision on an Update of the same service', async () => {
    const { run } = await setup();
    await run(create('Payments', payments));
    await run(update('Payments', 'payments', { ...payments, drainSeconds: 120 }, payments));
    expect(uploads[1]!.body).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'payments', Data: { Revision: '2' } });
  });

  it('refuses to Delete a service others still depend on, with the catalog’s reason', async () => {
    const { store, run } = await setup();
    await run(create('Payments', payments));
    await run(create('Orders', orders));
    await run(remove('Payments', 'payments', payments));
    expect(uploads[2]!.body).toMatchObject({
      Status: 'FAILED',
      PhysicalResourceId: 'payments',
      Reason: 'service "payments" is a dependency of "orders"; remove it from their specs first',
    });
    expect(await store.getService('payments')).toBeDefined();
  });

  it.each([
    ['a service removed already', 'payments'],
    ['the id of a Create that failed', 'Payments'],
  ])('treats a Delete of %s as done', async (_case, physicalId) => {
    const { run } = await setup();
    await run(remove('Payments', physicalId, payments));
    expect(uploads.map((u) => u.body)).toEqual([expect.objectContaining({ Status: 'SUCCESS', PhysicalResourceId: physicalId })]);
  });

  it('issues the declared service its certificate, as the management API does', async () => {
    const store = await dynamo.newStore();
    const now = () => new Date();
    const ca = await loadCertificateAuthority(store, createLocalCaSigner(), { mesh: defaultRenderSettings.meshName, now: now(), replaceForeign: false });
    const issuer: CertificateIssuer = { ca, sealer: AesGcmSealer.generate(), policy: rotationPolicy({ lifetimeSeconds: 3600 }), now };
    const handler = createCatalogResourceHandler({ store, settings: defaultRenderSettings, certificates: async () => issuer });
    await handler(create('Payments', payments), context);
    expect(uploads.map((u) => u.body.Status)).toEqual(['SUCCESS']);
    const secrets = await store.getServiceSecrets('payments');
    expect(secrets?.trustBundlePem).toBe(ca.certificatePem);
    expect(secrets?.certificatePem).toContain('BEGIN CERTIFICATE');
  });

  it('re-issues the service its key at once when an Update revokes one of its roles', async () => {
    const store = await dynamo.newStore();
    const now = () => new Date();
    const ca = await loadCertificateAuthority(store, createLocalCaSigner(), { mesh: defaultRenderSettings.meshName, now: now(), replaceForeign: false });
    const issuer: CertificateIssuer = { ca, sealer: AesGcmSealer.generate(), policy: rotationPolicy(), now };
    const handler = createCatalogResourceHandler({ store, settings: defaultRenderSettings, certificates: async () => issuer });
    const roles = (...names: string[]) => ({ ...payments, identity: { iamRoleArns: names.map((n) => `arn:aws:iam::111122223333:role/${n}`) } });
    await handler(create('Payments', roles('payments', 'compromised')), context);
    const before = (await store.getServiceSecrets('payments'))!;
    await handler(update('Payments', 'payments', { ...roles('payments', 'compromised'), drainSeconds: 120 }, roles('payments', 'compromised')), context);
    expect((await store.getServiceSecrets('payments'))!.serial).toBe(before.serial); // nothing revoked: kept
    await handler(update('Payments', 'payments', roles('payments'), roles('payments', 'compromised')), context);
    expect(uploads.map((u) => u.body.Status)).toEqual(['SUCCESS', 'SUCCESS', 'SUCCESS']);
    const after = (await store.getServiceSecrets('payments'))!;
    expect(after.serial).not.toBe(before.serial);
    expect(Buffer.from(after.sealedPrivateKey).equals(Buffer.from(before.sealedPrivateKey))).toBe(false);
  });

  it('throws when CloudFormation’s URL refuses the answer, so Lambda retries the (idempotent) request', async () => {
    const { run } = await setup();
    uploadStatus = 403;
    await expect(run(create('Payments', payments))).rejects.toThrow('CloudFormation response upload failed with HTTP 403');
  });
});
