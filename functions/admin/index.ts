import { readRenderConfig } from '../lib/render-config';
import { createRuntime } from '../lib/runtime';
import { kmsCertificateIssuer } from '../lib/certificates';
import { createAdminHandler, readPushTier } from './handler';

const config = readRenderConfig();
const runtime = createRuntime(config);
const certificates = kmsCertificateIssuer(runtime);
const xdsUrl = process.env.XDS_URL;
const pushTier = readPushTier(process.env);

export const handler = createAdminHandler(runtime, {
  ...(certificates ? { certificates } : {}),
  ...(xdsUrl ? { bootstrap: { controlPlaneUrl: xdsUrl, signing: { region: config.region, serviceName: 'lambda' }, ...(pushTier ? { pushTier } : {}) } } : {}),
});
