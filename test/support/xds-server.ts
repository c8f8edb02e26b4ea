import { ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { endChild } from './xds-client';

const childScript = path.join(__dirname, 'xds-server-child.cjs');

/** freePort is a loopback port nothing listens on right now (the OS picks it). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * XdsServerProcess runs a real @grpc/grpc-js-xds XdsServer (xds-server-child.cjs) with the given
 * bootstrap, answering `/test.Who/Who` with `id` on `0.0.0.0:<port>`; gRPC's RBAC filter is on
 * (GRPC_XDS_EXPERIMENTAL_RBAC: off by default in grpc-js-xds 1.14).
 */
export class XdsServerProcess {
  private readonly child: ChildProcessWithoutNullStreams;
  private stderr = '';
  private readonly serving: Promise<number>;

  /** With `rbacPerRouteShim`, the child works around grpc-js-xds 1.14.1's dropped RBACPerRoute (xds-server-child.cjs). */
  constructor(id: string, port: number, bootstrap: Record<string, unknown>, options: { rbacPerRouteShim?: boolean } = {}) {
    this.child = spawn(process.execPath, [childScript, id, `0.0.0.0:${port}`], {
      env: {
        ...process.env,
        GRPC_XDS_BOOTSTRAP_CONFIG: JSON.stringify(bootstrap),
        GRPC_XDS_EXPERIMENTAL_RBAC: 'true',
        ...(options.rbacPerRouteShim ? { RBAC_PER_ROUTE_SHIM: '1' } : {}),
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stderr.on('data', (d: Buffer) => {
      if (process.env.DEBUG_XDS_SERVER) process.stderr.write(d);
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    this.serving = new Promise<number>((resolve, reject) => {
      createInterface({ input: this.child.stdout }).on('line', (line) => resolve((JSON.parse(line) as { serving: number }).serving));
      this.child.on('exit', (code) => reject(new Error(`the xDS server exited (${code}): ${this.stderr}`)));
    });
    this.serving.catch(() => undefined);
  }

  /** servingWithin resolves with the port once the server serves (its Listener and routes arrived), bounded by boundMs. */
  async servingWithin(boundMs = 30_000): Promise<number> {
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the xDS server did not serve within ${boundMs} ms: ${this.stderr}`)), boundMs);
    });
    try {
      return await Promise.race([this.serving, bound]);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    await endChild(this.child);
  }
}
