import middy from '@middy/core';
import { CaSigner } from '../../shared/pki/signer';
import { issuePushTierCertificate, PushCertificateAnswer } from '../../shared/state/push-certificate';
import { CertificateRepository } from '../../shared/store/repositories';
import { MetricUnit, createLogger, createMetrics, telemetry } from '../lib/telemetry';

export interface PushCertificateHandlerOptions {
  readonly mesh: string;
  /** @default the real clock */
  readonly now?: () => Date;
}

/**
 * createPushCertificateHandler issues the push tier's tasks their own certificate
 * (shared/state/push-certificate.ts): the event is `{ publicKeyPem }`, invoked directly by the
 * task role (lambda:InvokeFunction on this function only), and the answer is the certificate
 * for the `_xds` identity and the trust bundle, or a refusal. This function holds the CA key's
 * Sign permission so that the tasks need not: it signs that one identity and nothing else.
 * Issued certificates count `PushCertificatesIssued`; a refusal is logged, not thrown.
 */
export function createPushCertificateHandler(store: CertificateRepository, signer: () => Promise<CaSigner>, options: PushCertificateHandlerOptions) {
  const logger = createLogger('push-certificate');
  const metrics = createMetrics('push-certificate');
  const now = options.now ?? (() => new Date());
  const handle = async (event: unknown): Promise<PushCertificateAnswer> => {
    const answer = await issuePushTierCertificate(store, signer, event, { mesh: options.mesh, now: now() });
    if (answer.status === 'issued') {
      metrics.addMetric('PushCertificatesIssued', MetricUnit.Count, 1);
      logger.info('push tier certificate issued', { notAfter: answer.notAfter });
    } else {
      logger.warn('push tier certificate refused', { status: answer.status, reason: answer.message });
    }
    return answer;
  };
  return middy(handle).use(telemetry(logger, metrics));
}
