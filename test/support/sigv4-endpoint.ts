import { createServer, IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignatureV4 } from '@smithy/signature-v4';
import { NodeSha256 } from '../../cli/sigv4';

export const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken: 'session-token-example' };
export const fixedCredentials = async () => credentials;

/**
 * A stand-in for a function URL with AWS_IAM auth: it recomputes each request's SigV4
 * signature from what arrived (method, path, query, signed headers, body, x-amz-date) with the
 * same fixed credentials, and answers 403 unless it matches, as Lambda would.
 */
export async function verifyingServer(region: string): Promise<{ url: string; seen: string[]; server: Server }> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    readBody(req).then(async (body) => {
      const auth = String(req.headers.authorization ?? '');
      const signedNames = /SignedHeaders=([^,]+)/.exec(auth)?.[1]?.split(';') ?? [];
      const headers = Object.fromEntries(signedNames.map((h) => [h, String(req.headers[h] ?? '')]));
      const url = new URL(req.url ?? '/', 'http://placeholder');
      const query: Record<string, string> = {};
      url.searchParams.forEach((v, k) => (query[k] = v));
      const amzDate = String(req.headers['x-amz-date'] ?? '');
      const signingDate = new Date(amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'));
      const signer = new SignatureV4({ service: 'lambda', region, credentials: fixedCredentials, sha256: NodeSha256 });
      const expected = await signer.sign(
        { method: req.method ?? 'GET', protocol: 'http:', hostname: '127.0.0.1', path: url.pathname, query, headers, ...(body ? { body } : {}) },
        { signingDate },
      );
      const ok = auth.startsWith(`AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/${amzDate.slice(0, 8)}/${region}/lambda/aws4_request`) && expected.headers.authorization === auth;
      seen.push(`${req.method} ${req.url} ${ok ? 'verified' : 'refused'} token=${String(req.headers['x-amz-security-token'])}`);
      res.writeHead(ok ? 200 : 403, { 'content-type': 'application/json' });
      res.end(JSON.stringify(ok ? { services: [] } : { Message: 'Forbidden' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

/** readBody reads a request's whole body as UTF-8. */
export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

/**
 * postSignature is what a stand-in of an AWS API (the external boundary of the lean clients,
 * functions/lib/aws-request.ts) checks of a `POST /` that reached it: the SigV4 signature
 * recomputed from what arrived (signed headers, body, x-amz-date) with the fixed credentials is
 * the one sent, for `service` in `region`; and which headers were signed.
 */
export async function postSignature(req: IncomingMessage, body: string, service: string, region: string): Promise<{ valid: boolean; signedHeaders: string[] }> {
  const auth = String(req.headers.authorization ?? '');
  const signedHeaders = /SignedHeaders=([^,]+)/.exec(auth)?.[1]?.split(';') ?? [];
  const headers = Object.fromEntries(signedHeaders.map((h) => [h, String(req.headers[h] ?? '')]));
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  const signingDate = new Date(amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'));
  const signer = new SignatureV4({ service, region, credentials: fixedCredentials, sha256: NodeSha256 });
  const expected = await signer.sign({ method: 'POST', protocol: 'http:', hostname: '127.0.0.1', path: '/', query: {}, headers, body }, { signingDate });
  return { valid: expected.headers.authorization === auth && auth.includes(`/${region}/${service}/aws4_request`), signedHeaders };
}
