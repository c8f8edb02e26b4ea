import { packJson } from '../codec';
import { keys } from '../layout';
import { ConditionFailedError, NotFoundError } from '../../errors';
import { GatewayCertificateItem, ServiceSecretsItem } from '../records';
import { CertificateRepository } from '../repositories';
import { ChangeLogWriter, secretsChangeVersion } from '../change-log';
import { StateTable, written } from './table';
import { caCertificate, caRetiredCertificate, dataKeyCiphertext, gatewayCertificateAttribute, toServiceSecrets } from './rows';

/**
 * DynamoCertificates keeps the mesh CA certificate (`CATALOG / CA`), the KMS-encrypted data key
 * that seals private keys (`CATALOG / DATAKEY`) and each service's certificate with its sealed
 * key and its rendered SDS secrets (`SVC#<name> / SECRETS`); a secrets write is recorded in
 * the change log after it.
 */
export class DynamoCertificates implements CertificateRepository {
  constructor(
    private readonly table: StateTable,
    private readonly changes: ChangeLogWriter,
  ) {}

  /**
   * putServiceSecrets writes the issued fields of the secrets item and nothing else: a gateway's
   * listener certificates, in the same item, stay as they are (an UpdateItem, not a Put).
   */
  async putServiceSecrets(service: string, secrets: ServiceSecretsItem): Promise<void> {
    const { rendered, gatewayCertificates: _kept, ...issued } = secrets;
    const fields: Record<string, unknown> = Object.fromEntries(
      Object.entries({
        kind: 'secrets',
        ...issued,
        ...(rendered ? { sds: packJson(rendered.resources), sdsVersions: rendered.versions } : {}),
      }).filter(([, value]) => value !== undefined),
    );
    const removed = ['issuedForRoles', 'sds', 'sdsVersions'].filter((f) => !(f in fields));
    const names = Object.fromEntries([...Object.keys(fields), ...removed].map((f) => [`#${f}`, f]));
    const stored = await this.table.update('putServiceSecrets', {
      Key: keys.secrets(service),
      UpdateExpression:
        `SET ${Object.keys(fields).map((f) => `#${f} = :${f}`).join(', ')}` + (removed.length > 0 ? ` REMOVE ${removed.map((f) => `#${f}`).join(', ')}` : ''),
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: Object.fromEntries(Object.entries(fields).map(([f, v]) => [`:${f}`, v])),
      ReturnValues: 'ALL_NEW',
    });
    await this.changes.append(service, 'secrets', secretsChangeVersion(stored ? toServiceSecrets(stored) : secrets));
  }

  async putGatewayCertificate(gateway: string, certificate: GatewayCertificateItem): Promise<void> {
    const { port, ...slot } = certificate;
    let stored;
    try {
      stored = await this.table.update('putGatewayCertificate', {
        Key: keys.secrets(gateway),
        UpdateExpression: 'SET #slot = :slot',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: { '#slot': gatewayCertificateAttribute(port) },
        ExpressionAttributeValues: { ':slot': slot },
        ReturnValues: 'ALL_NEW',
      });
    } catch (err) {
      if (err instanceof ConditionFailedError) throw new NotFoundError(`the secrets of gateway "${gateway}" (its own certificate is issued before its listeners' are stored)`);
      throw err;
    }
    await this.changes.append(gateway, 'secrets', secretsChangeVersion(stored ? toServiceSecrets(stored) : undefined));
  }

  async removeGatewayCertificates(gateway: string, ports: readonly number[]): Promise<void> {
    if (ports.length === 0) return;
    const stored = await this.table.update('removeGatewayCertificates', {
      Key: keys.secrets(gateway),
      UpdateExpression: `REMOVE ${ports.map((_, i) => `#s${i}`).join(', ')}`,
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeNames: Object.fromEntries(ports.map((p, i) => [`#s${i}`, gatewayCertificateAttribute(p)])),
      ReturnValues: 'ALL_NEW',
    });
    await this.changes.append(gateway, 'secrets', secretsChangeVersion(stored ? toServiceSecrets(stored) : undefined));
  }

  async getServiceSecrets(service: string): Promise<ServiceSecretsItem | undefined> {
    const item = await this.table.get('getServiceSecrets', keys.secrets(service), { consistent: true });
    return item ? toServiceSecrets(item) : undefined;
  }

  async getCertificateAuthority(): Promise<string | undefined> {
    const item = await this.table.get('getCertificateAuthority', keys.certificateAuthority(), { consistent: true });
    return item ? caCertificate(item) : undefined;
  }

  /** With `replace` false it only creates one: two cold starts racing keep the first. */
  async putCertificateAuthority(certificatePem: string, replace: boolean): Promise<string> {
    const previous = replace ? await this.getCertificateAuthority() : undefined;
    const retired = previous !== undefined && previous !== certificatePem ? { retiredCertificatePem: previous } : {};
    const stored = await written(
      this.table.put('putCertificateAuthority', {
        Item: { ...keys.certificateAuthority(), kind: 'ca', certificatePem, ...retired },
        ...(replace ? {} : { ConditionExpression: 'attribute_not_exists(pk)' }),
      }),
    );
    return stored ? certificatePem : (await this.getCertificateAuthority())!;
  }

  async getRetiredCertificateAuthority(): Promise<string | undefined> {
    const item = await this.table.get('getRetiredCertificateAuthority', keys.certificateAuthority(), { consistent: true });
    return item ? caRetiredCertificate(item) : undefined;
  }

  async forgetRetiredCertificateAuthority(): Promise<void> {
    await this.table.update('forgetRetiredCertificateAuthority', {
      Key: keys.certificateAuthority(),
      UpdateExpression: 'REMOVE retiredCertificatePem',
      ConditionExpression: 'attribute_exists(pk)',
    });
  }

  async getSealedDataKey(): Promise<Uint8Array | undefined> {
    const item = await this.table.get('getSealedDataKey', keys.dataKey(), { consistent: true });
    return item ? dataKeyCiphertext(item) : undefined;
  }

  async putSealedDataKey(ciphertext: Uint8Array): Promise<Uint8Array> {
    const stored = await written(
      this.table.put('putSealedDataKey', {
        Item: { ...keys.dataKey(), kind: 'datakey', ciphertext },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    return stored ? ciphertext : (await this.getSealedDataKey())!;
  }
}
