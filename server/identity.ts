import { X509Certificate } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import { experimental, ServerCredentials } from '@grpc/grpc-js';
import { KMSClient } from '@aws-sdk/client-kms';
import { createKmsCaSigner } from '../functions/lib/kms-ca-signer';
import { FunctionConfig } from '../functions/lib/config';
import { MeshStore } from '../shared/store/mesh-store';
import { issueServiceCertificate } from '../shared/pki/certificate';
import { loadCertificateAuthority } from '../shared/state/certificates';
import { pushTierIdentityName, spiffeId } from '../shared/pki/identity';
import { Principal } from '../shared/xds/authorization';

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
  if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(service)) return undefined;
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
  private stopped = false;

  constructor(private readonly options: RenewingTlsOptions) {}

  /** start issues the first certificate; it rejects when that fails (the task then fails its start). */
  async start(): Promise<void> {
    await this.renew();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
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
 * meshTls makes the server's TLS in AWS (XDS_TLS=mesh): its certificate issued by the mesh CA
 * (the KMS key in CA_KEY_ID, as the renewal function issues services') for serverIdentityName,
 * trusting the stored trust bundle. Issuance reads the CA again each time, so a rotated CA
 * reaches the server with its next certificate.
 */
export async function meshTls(
  runtime: { readonly config: Pick<FunctionConfig, 'caKeyId' | 'region' | 'render'>; readonly store: MeshStore },
  onError: (message: string) => void,
): Promise<RenewingTls> {
  const { caKeyId, region, render } = runtime.config;
  if (!caKeyId) throw new Error('XDS_TLS=mesh needs CA_KEY_ID: the mesh CA issues the push tier its certificate');
  const signer = await createKmsCaSigner(new KMSClient({ region }), caKeyId);
  const tls = new RenewingTls({
    issue: async () => {
      const now = new Date();
      // The task may read the CA, never write it (its role cannot write the catalog): the CA is
      // made when the first service is declared, and until then the server waits (retries).
      if (!(await runtime.store.getCertificateAuthority())) throw new Error('the mesh CA does not exist yet: declare a service first');
      const ca = await loadCertificateAuthority(runtime.store, signer, { mesh: render.meshName, now, replaceForeign: false });
      const issued = await issueServiceCertificate(signer, ca.certificatePem, serverIdentityName, { mesh: render.meshName, now });
      return { certificatePem: issued.certificatePem, privateKeyPem: issued.privateKeyPem, trustBundlePem: ca.trustBundlePem };
    },
    onError,
  });
  for (;;) {
    try {
      await tls.start();
      return tls;
    } catch (err) {
      onError(`cannot issue the push tier's certificate yet, retrying in 10 s: ${(err as Error).message}`);
      await new Promise((resolve) => setTimeout(resolve, 10_000));
    }
  }
}
