import middy from '@middy/core';
import { CertificateIssuer, rotateCertificates } from '../../shared/state/certificates';
import { CatalogRepository, CertificateRepository } from '../../shared/store/repositories';
import { MetricUnit, createLogger, createMetrics, telemetry } from '../lib/telemetry';

/** RenewalReport is what one scheduled renewal run did: what rotateCertificates reports. */
export type RenewalReport = Awaited<ReturnType<typeof rotateCertificates>>;

/**
 * createRenewalHandler renews service certificates on a schedule of its own (infra/renewal.ts):
 * certificates live 24 h and are renewed at half-life, so a run every few minutes renews each
 * long before expiry. It used to ride on the reconciler, after reconcileFleet returned, where a
 * failed or slow fleet listing skipped it. Each completed run counts `RenewalRuns`: the
 * "renewal missed" alarm fires when no run completed for an hour (failed, throttled, or never
 * invoked), and a failure throws, so the function's error alarm fires at once too.
 */
export function createRenewalHandler(
  store: Pick<CatalogRepository, 'listServices'> & CertificateRepository,
  certificates: () => Promise<CertificateIssuer>,
) {
  const logger = createLogger('renewal');
  const metrics = createMetrics('renewal');
  const handle = async (): Promise<RenewalReport> => {
    const rotation = await rotateCertificates(store, await certificates());
    metrics.addMetric('CertificatesRenewed', MetricUnit.Count, rotation.issued.length);
    metrics.addMetric('RenewalRuns', MetricUnit.Count, 1);
    if (rotation.issued.length > 0) logger.info('certificates renewed', { services: rotation.issued });
    // Gateway listener certificates: a rotated secret copied, or one that cannot be served (the last good copy stays).
    const gateways = rotation.gatewayCertificates;
    metrics.addMetric('GatewayCertificatesCopied', MetricUnit.Count, gateways.copied.length);
    metrics.addMetric('GatewayCertificateProblems', MetricUnit.Count, gateways.problems.length);
    if (gateways.copied.length > 0) logger.info('gateway certificates copied', { listeners: gateways.copied });
    for (const problem of gateways.problems) logger.error('gateway certificate not served', problem);
    return rotation;
  };
  return middy(handle).use(telemetry(logger, metrics));
}
