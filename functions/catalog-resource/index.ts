import { kmsCertificateIssuer } from '../lib/certificates';
import { readConfig } from '../lib/config';
import { createRuntime } from '../lib/runtime';
import { createCatalogResourceHandler } from './handler';

const runtime = createRuntime(readConfig());
const certificates = kmsCertificateIssuer(runtime);
export const handler = createCatalogResourceHandler({
  store: runtime.store,
  settings: runtime.config.render,
  ...(certificates ? { certificates } : {}),
});
