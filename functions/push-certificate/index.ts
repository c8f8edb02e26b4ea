import { fromEnv } from '@aws-sdk/credential-provider-env';
import { kmsClient } from '../lib/kms';
import { readConfig } from '../lib/config';
import { createKmsCaSigner } from '../lib/kms-ca-signer';
import { createRuntime } from '../lib/runtime';
import { CaSigner } from '../../shared/pki/signer';
import { createPushCertificateHandler } from './handler';

const runtime = createRuntime(readConfig());
const { caKeyId, region, render } = runtime.config;
// The stack deploys this function only with the push tier, which needs the mesh keys.
if (!caKeyId) throw new Error('the push-certificate function needs CA_KEY_ID');

let signer: Promise<CaSigner> | undefined;
/** caSigner reads the CA key once per container; a failed read is tried again on the next invocation. */
const caSigner = () =>
  (signer ??= createKmsCaSigner(kmsClient({ region, credentials: fromEnv() }), caKeyId).catch((err: unknown) => {
    signer = undefined;
    throw err;
  }));

export const handler = createPushCertificateHandler(runtime.store, caSigner, { mesh: render.meshName });
