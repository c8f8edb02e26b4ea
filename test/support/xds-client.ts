import { ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Server, ServerCredentials, ServerUnaryCall, sendUnaryData, status } from '@grpc/grpc-js';
import { whoService } from './who-service.cjs';

const childScript = path.join(__dirname, 'xds-client-child.cjs');
/** WhoServer is a real gRPC server on loopback that answers `/test.Who/Who` with its id. */
export interface WhoServer {
  readonly id: string;
  readonly port: number;
  /** What it received: attempts (a retried call counts once per attempt), and those it failed. */
  readonly stats: { attempts: number; failed: number; retried: number };
  close(): void;
}

export interface WhoServerOptions {
  /**
   * Fail the first attempt of every call with UNAVAILABLE and answer a retried one: gRPC marks
   * an attempt after the first with `grpc-previous-rpc-attempts` metadata (gRFC A6).
   */
  readonly failFirstAttempt?: boolean;
}

/** startWhoServer starts one; with `delayMs`, it answers that late (a slow server). */
export async function startWhoServer(id: string, delayMs = 0, options: WhoServerOptions = {}): Promise<WhoServer> {
  const server = new Server();
  const timers = new Set<NodeJS.Timeout>();
  const stats = { attempts: 0, failed: 0, retried: 0 };
  server.addService(whoService, {
    Who: (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => {
      stats.attempts++;
      const retried = call.metadata.get('grpc-previous-rpc-attempts').length > 0;
      if (retried) stats.retried++;
      if (options.failFirstAttempt && !retried) {
        stats.failed++;
        return callback({ code: status.UNAVAILABLE, details: `${id} fails every first attempt` });
      }
      if (delayMs === 0) return callback(null, Buffer.from(id));
      const timer = setTimeout(() => {
        timers.delete(timer);
        callback(null, Buffer.from(id));
      }, delayMs);
      timers.add(timer);
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    id,
    port,
    stats,
    close: () => {
      for (const t of timers) clearTimeout(t);
      server.forceShutdown();
    },
  };
}

/** CallBatch is what one batch of calls reached: answers per server id, and failures. */
export interface CallBatch {
  readonly counts: Record<string, number>;
  readonly failed: number;
  readonly lastError?: string;
}

/**
 * XdsClientProcess runs a real @grpc/grpc-js-xds client in a child process (see
 * xds-client-child.cjs), as node `nodeId` of service `service`, against an ADS server on
 * loopback, dialing `xds:///<target>`.
 */
export class XdsClientProcess {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly lines: string[] = [];
  private waiter: (() => void) | undefined;
  private stderr = '';

  /**
   * With `bootstrap`, the child uses it as given (e.g. grpcBootstrap's, with certificate
   * providers) and dials with XdsChannelCredentials, so clusters with TLS contexts are dialed
   * over mTLS (plaintext stays the fallback).
   */
  constructor(adsPort: number, node: { id: string; cluster: string }, target: string, callDeadlineMs = 5000, bootstrapConfig?: Record<string, unknown>) {
    const bootstrap = bootstrapConfig ?? {
      xds_servers: [{ server_uri: `127.0.0.1:${adsPort}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
      // This client version insists on a locality in the node, even an empty one.
      node: { locality: {}, ...node },
    };
    this.child = spawn(process.execPath, [childScript, target, String(callDeadlineMs)], {
      env: { ...process.env, GRPC_XDS_BOOTSTRAP_CONFIG: JSON.stringify(bootstrap), ...(bootstrapConfig ? { XDS_CLIENT_CREDENTIALS: 'xds' } : {}) },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      this.lines.push(line);
      this.waiter?.();
    });
    this.child.stderr.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    this.child.on('exit', () => this.waiter?.());
  }

  /** calls makes n calls one after another (with `header` as metadata) and says where they went; bounded by boundMs. */
  async calls(n: number, boundMs = 30_000, header?: { name: string; value: string }): Promise<CallBatch> {
    this.child.stdin.write(header ? `call ${n} ${header.name}=${header.value}\n` : `call ${n}\n`);
    const deadline = Date.now() + boundMs;
    while (this.lines.length === 0) {
      if (this.child.exitCode !== null) throw new Error(`the xDS client exited (${this.child.exitCode}): ${this.stderr}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no answer to ${n} calls within ${boundMs} ms: ${this.stderr}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    return JSON.parse(this.lines.shift()!) as CallBatch;
  }

  /** close ends the child: it closes its channel and exits when its stdin closes. */
  async close(): Promise<void> {
    await endChild(this.child);
  }
}

/**
 * endChild ends a test's child process as the children here expect: its stdin closes and it
 * exits by itself; one that has not exited 10 s later is killed.
 */
export async function endChild(child: ChildProcessWithoutNullStreams): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.stdin.end();
  const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(killer);
}
