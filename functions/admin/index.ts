import { readRenderConfig } from '../lib/render-config';
import { createRuntime } from '../lib/runtime';
import { kmsCertificateIssuer } from '../lib/certificates';
import { join } from 'node:path';
import { createAdminHandler, readPushTier } from './handler';
import { meshPageDirName, readMeshPageFiles } from './page-files';

const config = readRenderConfig();
const runtime = createRuntime(config);
const certificates = kmsCertificateIssuer(runtime);
const xdsUrl = process.env.XDS_URL;
const pushTier = readPushTier(process.env);

export const handler = createAdminHandler(runtime, {
  // Beside the bundle: the stack copies the page's files there (infra/mesh-function.ts).
  pageFiles: readMeshPageFiles(join(__dirname, meshPageDirName)),
  ...(certificates ? { certificates } : {}),
  ...(xdsUrl ? { bootstrap: { controlPlaneUrl: xdsUrl, signing: { region: config.region, serviceName: 'lambda' }, ...(pushTier ? { pushTier } : {}) } } : {}),
});
