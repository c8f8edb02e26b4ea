import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import { experimental, ServerCredentials } from '@grpc/grpc-js';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { pushTierIdentityName, spiffeId } from '../shared/pki/identity';
import { PushCertificateAnswer, PushCertificateRequest } from '../shared/state/push-certificate';
import { Principal } from '../shared/xds/authorization';
import { serviceName } from '../shared/model/spec';

/**
 * The push tier's stream identity: mutual TLS with the mesh's own certificates. A node gets
 * its service's certificate over SDS from the REST tier, where IAM binds it to its service
 * (SigV4 on the function URL); it presents that certificate on the ADS stream, the server
 * verifies it against the mesh CA in the handshake, and the certificate's SPIFFE ID names the
 * service the stream may fetch. The binding is as strong as IAM's because IAM issued it, and
 * nothing sits between node and server that could forge it: the load balancer in front passes
 * TCP through (see docs/deploy.md, "The push tier").
 */

/**
 * serverIdentityName is the name in the push tier's own certificate
 * (`spiffe://<mesh>/service/_xds`), which the nodes' ADS bootstraps pin (shared/pki/identity.ts).
 */
export const serverIdentityName = pushTierIdentityName;

/** The verified TLS peer of a stream, as grpc-js reports it. */
export interface PeerAuth {
  readonly sslPeerCertificate?: PeerCertificate | undefined;
}

/**
 * principalOfPeer reads the service a verified client certificate proves: its only URI SAN,
 * `spiffe://<mesh>/service/<name>`. Anything else is nobody: no certificate, another trust
 * domain, several URI SANs, or the server's own identity.
 */
export function principalOfPeer(auth: PeerAuth | undefined, mesh: string): Principal | undefined {
  const san = auth?.sslPeerCertificate?.subjectaltname;
  if (!san) return undefined;
  const uris = san
    .split(', ')
    .filter((entry) => entry.startsWith('URI:'))
    .map((entry) => entry.slice('URI:'.length));
  if (uris.length !== 1) return undefined;
  const prefix = spiffeId(mesh, '');
  const uri = uris[0]!;
  if (!uri.startsWith(prefix)) return undefined;
  const service = uri.slice(prefix.length);
  if (!serviceName.safeParse(service).success) return undefined;
  return { kind: 'certificate', service };
}

/** TlsMaterial is what the server presents and trusts: its certificate and key, and the mesh's trust bundle. */
export interface TlsMaterial {
  readonly certificatePem: string;
  readonly privateKeyPem: string;
  readonly trustBundlePem: string;
}

export interface RenewingTlsOptions {
  /** Issues the server a fresh certificate (and reads the current trust bundle). */
  readonly issue: () => Promise<TlsMaterial>;
  readonly now?: () => number;
  /** Renew when this fraction of the certificate's lifetime has passed. @default 0.5 */
  readonly renewAt?: number;
  /** Retry a failed renewal after this long. @default 60 s */
  readonly retryMs?: number;
  /**
   * The mesh's trust bundle as stored now: checked every `trustCheckMs`, and a bundle other
   * than the one held (a CA rotation began) renews at once, so the server trusts the new CA's
   * certificates and presents one of its own before the old CA is dropped.
   */
  readonly currentTrustBundle?: () => Promise<string | undefined>;
  /** @default 60 s */
  readonly trustCheckMs?: number;
  readonly onError?: (message: string) => void;
}

/**
 * RenewingTls is a grpc-js certificate provider for the server's own certificate and the
 * trust bundle: it issues one at start, and a new one at half its lifetime (like the mesh's
 * renewal function does for services), so a task that lives for weeks never presents an
 * expired certificate and picks up a rotated CA. grpc-js applies each update to new handshakes.
 */
export class RenewingTls implements experimental.CertificateProvider {
  private material: TlsMaterial | undefined;
  private readonly caListeners = new Set<experimental.CaCertificateUpdateListener>();
  private readonly identityListeners = new Set<experimental.IdentityCertificateUpdateListener>();
  private timer: NodeJS.Timeout | undefined;
  private trustTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private checkingTrust = false;

  constructor(private readonly options: RenewingTlsOptions) {}

  /** start issues the first certificate; it rejects when that fails (the task then fails its start). */
  async start(): Promise<void> {
    await this.renew();
    const current = this.options.currentTrustBundle;
    if (current && !this.trustTimer) {
      this.trustTimer = setInterval(() => {
        // One check at a time: a tick that comes while a check (or the renewal it started) is in
        // flight would see the old material and renew a second time for the same new bundle.
        if (this.checkingTrust) return;
        this.checkingTrust = true;
        current()
          .then((bundle) => (bundle !== undefined && bundle !== this.material?.trustBundlePem && !this.stopped ? this.renew() : undefined))
          .catch((err: unknown) => this.options.onError?.(`checking the mesh trust bundle failed: ${(err as Error).message}`))
          .finally(() => {
            this.checkingTrust = false;
          });
      }, this.options.trustCheckMs ?? 60_000);
      this.trustTimer.unref();
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.trustTimer) clearInterval(this.trustTimer);
  }

  /** renewInMs is when the current certificate is due: at `renewAt` of its lifetime, measured by the injected clock. */
  renewInMs(): number | undefined {
    if (!this.material) return undefined;
    const cert = new X509Certificate(this.material.certificatePem);
    const from = Date.parse(cert.validFrom);
    const to = Date.parse(cert.validTo);
    const due = from + (to - from) * (this.options.renewAt ?? 0.5);
    return Math.max(0, due - (this.options.now ?? Date.now)());
  }

  /** renew issues a new certificate now and hands it to every listener. */
  async renew(): Promise<void> {
    this.material = await this.options.issue();
    for (const listener of this.caListeners) listener(this.caUpdate());
    for (const listener of this.identityListeners) listener(this.identityUpdate());
    this.schedule(this.renewInMs()!);
  }

  addCaCertificateListener(listener: experimental.CaCertificateUpdateListener): void {
    this.caListeners.add(listener);
    this.deliverLater(() => listener(this.caUpdate()));
  }

  removeCaCertificateListener(listener: experimental.CaCertificateUpdateListener): void {
    this.caListeners.delete(listener);
  }

  addIdentityCertificateListener(listener: experimental.IdentityCertificateUpdateListener): void {
    this.identityListeners.add(listener);
    this.deliverLater(() => listener(this.identityUpdate()));
  }

  removeIdentityCertificateListener(listener: experimental.IdentityCertificateUpdateListener): void {
    this.identityListeners.delete(listener);
  }

  /** credentials are the server's: TLS with this certificate, and a client certificate of the mesh required. */
  credentials(): ServerCredentials {
    return experimental.createCertificateProviderServerCredentials(this, this, true);
  }

  /**
   * deliverLater hands a new listener the current material on the next tick: grpc-js (1.14)
   * registers its own watcher only after adding its listeners, so an update delivered at once
   * would reach nobody and the server would drop every handshake ("unloaded credentials").
   */
  private deliverLater(deliver: () => void): void {
    queueMicrotask(() => {
      if (this.material) deliver();
    });
  }

  private caUpdate() {
    return { caCertificate: Buffer.from(this.material!.trustBundlePem) };
  }

  private identityUpdate() {
    return { certificate: Buffer.from(this.material!.certificatePem), privateKey: Buffer.from(this.material!.privateKeyPem) };
  }

  private schedule(inMs: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    // setTimeout holds at most 2^31-1 ms (about 24.8 days); a longer wait is re-armed.
    const wait = Math.min(inMs, 2 ** 31 - 1);
    this.timer = setTimeout(() => {
      if (wait < inMs) return this.schedule(inMs - wait);
      this.renew().catch((err: unknown) => {
        this.options.onError?.(`renewing the push tier's certificate failed: ${(err as Error).message}`);
        this.schedule(this.options.retryMs ?? 60_000);
      });
    }, wait);
    this.timer.unref();
  }
}

/**
 * PushCertificateSource is the port through which the server gets its certificate: it sends
 * the push-certificate function (functions/push-certificate) its public key and gets the
 * answer. In AWS that is a Lambda invocation (pushCertificateFunction); tests call the
 * handler in-process.
 */
export type PushCertificateSource = (request: PushCertificateRequest) => Promise<PushCertificateAnswer>;

/**
 * pushCertificateFunction invokes the push-certificate function with the task role, which may
 * invoke that function and nothing else of the mesh's keys: the CA key's Sign permission is
 * the function's, so a compromised task cannot mint a certificate for a service.
 */
export function pushCertificateFunction(client: LambdaClient, functionName: string): PushCertificateSource {
  return async (request) => {
    const out = await client.send(new InvokeCommand({ FunctionName: functionName, Payload: Buffer.from(JSON.stringify(request)) }));
    const payload = out.Payload ? Buffer.from(out.Payload).toString('utf8') : '';
    if (out.FunctionError) {
      let message = payload;
      try {
        message = (JSON.parse(payload) as { errorMessage?: string }).errorMessage ?? payload;
      } catch {
        // not JSON: the payload as it came
      }
      throw new Error(`the push-certificate function ${functionName} failed: ${message}`);
    }
    return JSON.parse(payload) as PushCertificateAnswer;
  };
}

export interface MeshTlsOptions {
  /** Wait this long between attempts at the first certificate. @default 10 s */
  readonly startRetryMs?: number;
  /** The clock renewals are timed by. @default Date.now */
  readonly now?: () => number;
  /** The stored trust bundle, watched for a CA rotation (RenewingTlsOptions.currentTrustBundle). */
  readonly currentTrustBundle?: () => Promise<string | undefined>;
  readonly trustCheckMs?: number;
}

/**
 * meshTls makes the server's TLS in AWS (XDS_TLS=mesh): a key pair generated here, which never
 * leaves the task, and its certificate for serverIdentityName from the push-certificate
 * function (the source), with the trust bundle. Each renewal makes a new key; the function
 * reads the CA each time, so a rotated CA reaches the server with its next certificate. Until
 * the mesh has a CA (it is made when the first service is declared) the server waits and retries.
 */
export async function meshTls(source: PushCertificateSource, onError: (message: string) => void, options: MeshTlsOptions = {}): Promise<RenewingTls> {
  const tls = new RenewingTls({
    issue: async () => {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }) as string;
      const answer = await source({ publicKeyPem });
      if (answer.status !== 'issued') throw new Error(`the push-certificate function answered ${answer.status}: ${answer.message}`);
      if (new X509Certificate(answer.certificatePem).publicKey.export({ type: 'spki', format: 'pem' }) !== publicKeyPem) {
        throw new Error('the push-certificate function certified another key than the one sent');
      }
      return { certificatePem: answer.certificatePem, privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, trustBundlePem: answer.trustBundlePem };
    },
    onError,
    ...(options.now ? { now: options.now } : {}),
    ...(options.currentTrustBundle ? { currentTrustBundle: options.currentTrustBundle } : {}),
    ...(options.trustCheckMs !== undefined ? { trustCheckMs: options.trustCheckMs } : {}),
  });
  const retryMs = options.startRetryMs ?? 10_000;
  for (;;) {
    try {
      await tls.start();
      return tls;
    } catch (err) {
      onError(`cannot issue the push tier's certificate yet, retrying in ${retryMs / 1000} s: ${(err as Error).message}`);
      await new Promise((resolve) => setTimeout(resolve, retryMs));
    }
  }
}
