import { packJson } from '../codec';
import { keys } from '../layout';
import { ServiceSecretsItem } from '../records';
import { CertificateRepository } from '../repositories';
import { ChangeLogWriter, secretsChangeVersion } from '../change-log';
import { StateTable, written } from './table';
import { caCertificate, caRetiredCertificate, dataKeyCiphertext, toServiceSecrets } from './rows';

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

  async putServiceSecrets(service: string, secrets: ServiceSecretsItem): Promise<void> {
    const { rendered, ...issued } = secrets;
    await this.table.put('putServiceSecrets', {
      Item: {
        ...keys.secrets(service),
        kind: 'secrets',
        ...issued,
        ...(rendered ? { sds: packJson(rendered.resources), sdsVersions: rendered.versions } : {}),
      },
    });
    await this.changes.append(service, 'secrets', secretsChangeVersion(secrets));
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
