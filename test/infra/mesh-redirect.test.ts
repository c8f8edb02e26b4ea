import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { interceptionDefaults } from '../../shared/model/defaults';
import { meshRedirectScript } from '../../infra/sidecar/scripts';

/**
 * The redirection script (infra/sidecar/mesh-redirect.sh), run for real: two network
 * namespaces joined by a veth pair stand for a host and the rest of the VPC. The host runs the
 * script as its systemd unit would, a listener on the egress port plays Envoy, and connections
 * from the payload's UID and from Envoy's UID show where the rules send them. Needs root,
 * `ip netns` and iptables (CI runs as root with the iptables package): without them it fails,
 * saying so, rather than skipping.
 */

const probe = fs.readFileSync(path.join(__dirname, 'support', 'netns-probe.py'), 'utf8');
const python = '/usr/bin/python3';
const id = `${process.pid.toString(36)}${randomBytes(3).toString('hex')}`.slice(-8);
const hostNs = `mr-host-${id}`;
const vpcNs = `mr-vpc-${id}`;
const hostIf = `mrh${id}`.slice(0, 15);
const vpcIf = `mrv${id}`.slice(0, 15);

const appUid = 4242;
const envoyUid = 4343;
const egressPort = interceptionDefaults.egressPort;
const inboundPort = 15000;
const appPort = 8080;
/** What MeshDns makes every service name resolve to: an /etc/hosts of the mesh. */
const hosts: Record<string, string> = { 'payments.mesh.internal': interceptionDefaults.serviceAddress };

const script = meshRedirectScript({
  ignoredUid: envoyUid,
  egressPort,
  ingressPort: inboundPort,
  appPorts: [appPort],
  egressIgnoredIps: [...interceptionDefaults.egressIgnoredIps],
  egressIgnoredPorts: [22],
});

function run(command: string, args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(command, args, { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? (r.error ? String(r.error) : '') };
}

function must(command: string, ...args: string[]): string {
  const r = run(command, args);
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** redirect runs the script in the host namespace as the unit does: `install`, `remove` or `status`. */
const redirect = (action: string) => run('ip', ['netns', 'exec', hostNs, 'bash', '-c', script, 'mesh-redirect', action]);

/** natRules lists the host namespace's nat table. */
const natRules = () => must('ip', 'netns', 'exec', hostNs, 'iptables', '-w', '10', '-t', 'nat', '-S');

/** connect opens a TCP connection from the host namespace as `uid` and returns the answer line. */
function connect(uid: number, host: string, port: number): string {
  const address = hosts[host] ?? host;
  const args = ['netns', 'exec', hostNs, 'setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', python, '-c', probe, 'connect', address, String(port)];
  return must('ip', ...args).trim();
}

/** connectFromVpc opens a TCP connection from the other end of the link (another VPC host). */
const connectFromVpc = (host: string, port: number) => must('ip', 'netns', 'exec', vpcNs, python, '-c', probe, 'connect', host, String(port)).trim();

const servers: ChildProcess[] = [];

/** serve starts a probe server in a namespace and resolves once it has bound every port (bounded). */
function serve(ns: string, specs: readonly string[]): Promise<void> {
  const child = spawn('ip', ['netns', 'exec', ns, python, '-c', probe, 'serve', ...specs], { stdio: ['ignore', 'pipe', 'pipe'] });
  servers.push(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`probe server in ${ns} not ready after 20 s: ${stderr}`)), 20_000);
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line === 'ready') {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`probe server in ${ns} exited (${code}): ${stderr}`));
    });
  });
}

function requireRootAndNetns(): void {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root (the test creates network namespaces)');
  for (const [command, args] of [['ip', ['netns', 'list']], ['iptables', ['--version']], ['setpriv', ['--version']], [python, ['--version']]] as const) {
    if (run(command, args).status !== 0) missing.push(`${command} (${[command, ...args].join(' ')} failed)`);
  }
  if (missing.length > 0) {
    throw new Error(`the redirection test needs ${missing.join(', ')}: run it as root with iproute2, iptables, util-linux and python3 (apt-get install iptables)`);
  }
}

beforeAll(async () => {
  requireRootAndNetns();
  must('ip', 'netns', 'add', hostNs);
  must('ip', 'netns', 'add', vpcNs);
  must('ip', 'link', 'add', hostIf, 'netns', hostNs, 'type', 'veth', 'peer', 'name', vpcIf, 'netns', vpcNs);
  const inHost = (...args: string[]) => must('ip', 'netns', 'exec', hostNs, ...args);
  const inVpc = (...args: string[]) => must('ip', 'netns', 'exec', vpcNs, ...args);
  inHost('ip', 'link', 'set', 'lo', 'up');
  inHost('ip', 'addr', 'add', '10.231.0.2/24', 'dev', hostIf);
  inHost('ip', 'link', 'set', hostIf, 'up');
  inHost('ip', 'route', 'add', 'default', 'via', '10.231.0.1');
  inVpc('ip', 'link', 'set', 'lo', 'up');
  inVpc('ip', 'addr', 'add', '10.231.0.1/24', 'dev', vpcIf);
  // The far side also answers at the service names' address and at IMDS's, so a connection the
  // rules leave alone visibly arrives there.
  inVpc('ip', 'addr', 'add', `${interceptionDefaults.serviceAddress}/32`, 'dev', vpcIf);
  inVpc('ip', 'addr', 'add', '169.254.169.254/32', 'dev', vpcIf);
  inVpc('ip', 'link', 'set', vpcIf, 'up');
  await Promise.all([
    // Envoy's listeners (egress on loopback, inbound everywhere) and the payload itself.
    serve(hostNs, [`egress:${egressPort}:127.0.0.1`, `inbound:${inboundPort}`, `app:${appPort}`]),
    serve(vpcNs, [`vpc:${appPort}`, 'vpc:80', 'vpc:22', 'vpc:5432']),
  ]);
  const installed = redirect('install');
  if (installed.status !== 0) throw new Error(`mesh-redirect install failed: ${installed.stderr}`);
}, 60_000);

afterAll(() => {
  for (const child of servers) if (child.exitCode === null) child.kill('SIGKILL');
  for (const ns of [hostNs, vpcNs]) run('ip', ['netns', 'delete', ns]);
});

describe('mesh-redirect in a network namespace', () => {
  it('sends the payload’s call to a service name to the egress port, its original destination recoverable', () => {
    expect(connect(appUid, 'payments.mesh.internal', appPort)).toBe(`egress ${interceptionDefaults.serviceAddress}:${appPort}`);
    expect(connect(appUid, '10.231.0.1', 5432)).toBe('egress 10.231.0.1:5432');
  });

  it('leaves Envoy’s own connections alone: they reach the address they were made to', () => {
    expect(connect(envoyUid, 'payments.mesh.internal', appPort)).toBe(`vpc ${interceptionDefaults.serviceAddress}:${appPort}`);
  });

  it('leaves the instance metadata service, ignored ports and local addresses alone', () => {
    expect(connect(appUid, '169.254.169.254', 80)).toBe('vpc 169.254.169.254:80');
    expect(connect(appUid, '10.231.0.1', 22)).toBe('vpc 10.231.0.1:22');
    expect(connect(appUid, '127.0.0.1', appPort)).toBe(`app 127.0.0.1:${appPort}`);
    expect(connect(appUid, '10.231.0.2', appPort)).toBe(`app 10.231.0.2:${appPort}`);
  });

  it('sends traffic from elsewhere arriving at the app port to Envoy’s inbound port', () => {
    expect(connectFromVpc('10.231.0.2', appPort)).toBe(`inbound 10.231.0.2:${appPort}`);
    expect(connectFromVpc('10.231.0.2', inboundPort)).toBe(`inbound 10.231.0.2:${inboundPort}`);
  });

  it('installs idempotently, reports its rules, removes exactly what it added, and removes twice without failing', () => {
    const before = natRules();
    expect(redirect('install').status).toBe(0);
    expect(natRules()).toBe(before);
    const status = redirect('status');
    expect(status.status).toBe(0);
    expect(status.stdout).toContain(`-A MESH_EGRESS -m owner --uid-owner ${envoyUid} -j RETURN`);
    expect(status.stdout).toContain(`--to-ports ${egressPort}`);

    expect(redirect('remove').status).toBe(0);
    expect(natRules()).not.toMatch(/MESH_/);
    expect(redirect('status').status).toBe(1);
    expect(redirect('remove').status).toBe(0);
    expect(connect(appUid, 'payments.mesh.internal', appPort)).toBe(`vpc ${interceptionDefaults.serviceAddress}:${appPort}`);
    expect(connectFromVpc('10.231.0.2', appPort)).toBe(`app 10.231.0.2:${appPort}`);
  });

  it('refuses settings it cannot apply, and leaves no rule behind', () => {
    const bad = run('ip', ['netns', 'exec', hostNs, 'bash', '-c', `MESH_IGNORED_UID=envoy\n${script.replace(/^MESH_IGNORED_UID=.*$/m, '')}`, 'mesh-redirect', 'install']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("MESH_IGNORED_UID must be Envoy's numeric UID (got 'envoy')");
    expect(natRules()).not.toMatch(/MESH_/);
  });
});
