import { CaCertificate, issueCaCertificate, issueServiceCertificate, IssuedCertificate } from '../../../shared/pki/certificate';
import { CaSigner, createLocalCaSigner } from '../../../shared/pki/signer';

/** A mesh CA for tests: a local signer and its self-signed certificate. */
export interface TestCa {
  readonly signer: CaSigner;
  readonly ca: CaCertificate;
  issue(service: string, options?: { now?: Date; lifetimeSeconds?: number }): Promise<IssuedCertificate>;
}

export const mesh = 'mesh.local';
export const now = new Date('2026-11-25T04:00:00.000Z');

export async function createTestCa(signer: CaSigner = createLocalCaSigner(), meshName = mesh): Promise<TestCa> {
  const ca = await issueCaCertificate(signer, { mesh: meshName, now });
  return {
    signer,
    ca,
    issue: (service, options = {}) =>
      issueServiceCertificate(signer, ca.certificatePem, service, { mesh: meshName, now: options.now ?? now, lifetimeSeconds: options.lifetimeSeconds }),
  };
}
