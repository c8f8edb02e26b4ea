import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { CliError, CliIo } from './io';
import { defaultCredentials, functionUrlRegion, signedHeaders } from './sigv4';

/** defaultEndpoint is the local control plane `npm start` runs. */
export const defaultEndpoint = 'http://127.0.0.1:18000';

export interface ApiAnswer {
  readonly status: number;
  readonly body: unknown;
}

export interface ClientOptions {
  readonly endpoint: string;
  /** Sign with SigV4; default: when the endpoint is a Lambda function URL. */
  readonly sign?: boolean;
  readonly region?: string;
}

/**
 * MeshClient talks to the control plane's management API: plain HTTP to the local one, SigV4
 * signed (service `lambda`, the standard credential chain) to a function URL with IAM auth.
 * Connection failures and error answers become CliErrors that say what to check.
 */
export class MeshClient {
  readonly endpoint: URL;
  private readonly region?: string;
  private credentials?: AwsCredentialIdentityProvider;

  constructor(
    options: ClientOptions,
    private readonly io: CliIo,
  ) {
    let url: URL;
    try {
      url = new URL(options.endpoint);
    } catch {
      throw new CliError(`--endpoint "${options.endpoint}" is not a URL (e.g. ${defaultEndpoint})`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CliError(`--endpoint must be http:// or https://, got ${url.protocol}`);
    this.endpoint = url;
    const sign = options.sign ?? functionUrlRegion(url.hostname) !== undefined;
    if (sign) {
      const region = options.region ?? functionUrlRegion(url.hostname) ?? io.env.AWS_REGION ?? io.env.AWS_DEFAULT_REGION;
      if (!region) throw new CliError('signing needs a region: pass --region or set AWS_REGION');
      this.region = region;
      this.credentials = io.credentials;
    }
  }

  get signs(): boolean {
    return this.region !== undefined;
  }

  async get(path: string): Promise<ApiAnswer> {
    return this.send('GET', path);
  }

  async put(path: string, body: unknown): Promise<ApiAnswer> {
    return this.send('PUT', path, JSON.stringify(body));
  }

  async post(path: string, body?: unknown): Promise<ApiAnswer> {
    return this.send('POST', path, body === undefined ? '' : JSON.stringify(body));
  }

  async delete(path: string): Promise<ApiAnswer> {
    return this.send('DELETE', path);
  }

  /** getOk reads a path and fails with the API's own error message on anything but 200. */
  async getOk<T>(path: string): Promise<T> {
    const answer = await this.get(path);
    if (answer.status !== 200) throw apiError('GET', path, answer);
    return answer.body as T;
  }

  /** fetchRaw sends a request (signed when signing) and returns the answer as text, for the page proxy. */
  async fetchRaw(method: string, path: string, body?: string): Promise<{ status: number; contentType?: string; text: string }> {
    const base = this.endpoint.href.replace(/\/$/, '');
    const url = new URL(base + path);
    let headers: Record<string, string> = body !== undefined ? { 'content-type': 'application/json' } : {};
    if (this.region) {
      this.credentials ??= await defaultCredentials();
      try {
        headers = await signedHeaders({ url, method, ...(body !== undefined ? { body } : {}), region: this.region, credentials: this.credentials });
      } catch (err) {
        throw new CliError(`cannot sign the request with AWS credentials: ${(err as Error).message}`);
      }
      delete headers.host; // fetch sets it from the URL
    }
    let res: Response;
    try {
      res = await fetch(url, { method, headers, ...(body !== undefined ? { body } : {}) });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const hint = this.endpoint.href.startsWith(defaultEndpoint) ? ' (is `npm start` running? or pass --endpoint URL)' : '';
      throw new CliError(`cannot reach the control plane at ${this.endpoint.origin}: ${cause?.code ?? cause?.message ?? (err as Error).message}${hint}`);
    }
    return { status: res.status, ...(res.headers.get('content-type') ? { contentType: res.headers.get('content-type')! } : {}), text: await res.text() };
  }

  private async send(method: string, path: string, body?: string): Promise<ApiAnswer> {
    const { status, text } = await this.fetchRaw(method, path, body);
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text for the error message
    }
    return { status, body: parsed };
  }
}

/** apiError turns a refused request into a CliError carrying the API's message and problems. */
export function apiError(method: string, path: string, answer: ApiAnswer): CliError {
  // Our API answers {"error"}; a function URL refusing a signature answers {"Message": "Forbidden"}.
  const body = answer.body as { error?: string; problems?: { path: string; message: string }[]; message?: string; Message?: string } | string | undefined;
  const message = typeof body === 'string' ? body.slice(0, 300) : (body?.error ?? body?.message ?? body?.Message ?? 'no details');
  const problems = typeof body === 'object' && body?.problems ? body.problems.map((p) => `\n  ${p.path || '(spec)'}: ${p.message}`).join('') : '';
  const auth = answer.status === 403 ? ' (are your AWS credentials allowed to invoke this function URL?)' : '';
  return new CliError(`${method} ${path} failed with ${answer.status}: ${message}${auth}${problems}`, answer.status >= 500 ? 2 : 1);
}
