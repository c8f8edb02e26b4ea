import { readConfig } from '../lib/config';
import { createRuntime } from '../lib/runtime';
import { kmsCertificateIssuer } from '../lib/certificates';
import { createRenewalHandler } from './handler';

const runtime = createRuntime(readConfig());
const certificates = kmsCertificateIssuer(runtime);
// The stack deploys this function only with the mesh keys: without them it has nothing to do.
if (!certificates) throw new Error('the renewal function needs CA_KEY_ID and DATA_KEY_ID');
export const handler = createRenewalHandler(runtime.store, certificates);
