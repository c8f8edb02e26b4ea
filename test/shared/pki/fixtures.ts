import { CaCertificate, issueCaCertificate, issueServiceCertificate, IssuedCertificate } from '../../../shared/pki/certificate';
import { CaSigner, createLocalCaSigner } from '../../../shared/pki/signer';

/** A mesh CA for tests: a local signer and its self-signed certificate. */
export interface TestCa {
  readonly signer: CaSigner;
  readonly ca: CaCertificate;
  issue(service: string, options?: { now?: Date; lifetimeSeconds?: number }): Promise<IssuedCertificate>;
}

export const mesh = 'mesh.local';

/**
 * now is the fixed instant of tests whose certificates only code of ours reads (DER, dates,
 * rotation), with the clock injected. It must never meet a check against the real clock:
 * OpenSSL verifies validity against the machine's time, so certificates used in real
 * handshakes are issued at `realNow()` instead.
 */
export const now = new Date('2026-11-25T04:00:00.000Z');

/** realNow is the instant OpenSSL will compare validity with: the machine's clock, read when called. */
export const realNow = (): Date => new Date();

export async function createTestCa(signer: CaSigner = createLocalCaSigner(), meshName = mesh, issuedAt: Date = now): Promise<TestCa> {
  const ca = await issueCaCertificate(signer, { mesh: meshName, now: issuedAt });
  return {
    signer,
    ca,
    issue: (service, options = {}) =>
      issueServiceCertificate(signer, ca.certificatePem, service, { mesh: meshName, now: options.now ?? issuedAt, lifetimeSeconds: options.lifetimeSeconds }),
  };
}
