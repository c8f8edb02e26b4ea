import { kmsCertificateIssuer } from '../lib/certificates';
import { readRenderConfig } from '../lib/render-config';
import { createRuntime } from '../lib/runtime';
import { createCatalogResourceHandler } from './handler';

const runtime = createRuntime(readRenderConfig());
const certificates = kmsCertificateIssuer(runtime);
export const handler = createCatalogResourceHandler({
  store: runtime.store,
  settings: runtime.config.render,
  ...(certificates ? { certificates } : {}),
});
