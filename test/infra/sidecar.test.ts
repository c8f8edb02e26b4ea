import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { envoyEntrypoint, envoyHealthCheck } from '../../infra/sidecar/scripts';
import { envoyUserDataCommands } from '../../infra/sidecar/ec2';
import { placeholders, substitute } from '../../infra/sidecar/placeholders';
import { sidecarBootstrapJson } from '../../infra/sidecar/bootstrap';
import { ControlPlane } from '../../infra/control-plane';
import { MeshService } from '../../infra/mesh-service';
import { decodeStrict, validateRules } from '../support/envoy-schema';
import { newUnbundledStack } from './support/synth';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { checkEnvoyImage, defaultEnvoyImage } from '../../infra/sidecar/image';
import { renderJoin } from './support/deploy-time';

/** serve answers every request with the given status and body; closed after each test. */
let server: http.Server | undefined;
async function serve(status: number, body: string, seen: string[] = []): Promise<number> {
  server = http.createServer((req, res) => {
    seen.push(req.url ?? '');
    res.writeHead(status, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}
afterEach(async () => {
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
});

function bash(script: string, env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', script], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** serveRoutes answers each path (with its query) from a table, 404 otherwise, and records `METHOD url` in order. */
async function serveRoutes(routes: Record<string, [number, string]>, seen: string[] = []): Promise<number> {
  server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    const [status, body] = routes[req.url ?? ''] ?? [404, 'not found'];
    res.writeHead(status, { 'content-type': 'text/plain' }).end(body);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

describe('the sidecar entrypoint', () => {
  it('writes the bootstrap with the task id, zone and task definition revision from the task metadata, then runs Envoy on it', async () => {
    const seen: string[] = [];
    const port = await serve(
      200,
      JSON.stringify({ Cluster: 'mesh', TaskARN: 'arn:aws:ecs:eu-west-1:123456789012:task/mesh/0f1e2d3c4b5a', Family: 'payments', Revision: '13', AvailabilityZone: 'eu-west-1b' }),
      seen,
    );
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sidecar-'));
    // A stand-in for the envoy binary: shows how it was called and the file it was given.
    fs.writeFileSync(path.join(dir, 'envoy'), '#!/bin/sh\necho "args: $*"\ncat "$2"\n', { mode: 0o755 });
    const bootstrap = JSON.stringify({
      node: { id: placeholders.nodeId, locality: { zone: placeholders.zone } },
      stats_config: { stats_tags: [{ tag_name: 'mesh_revision', fixed_value: placeholders.revision }] },
    });
    const configPath = path.join(dir, 'envoy.json');

    const run = await bash(envoyEntrypoint({ drainSeconds: 20, adminPort: 1, configPath, drainMarker: path.join(dir, 'draining') }), {
      ECS_CONTAINER_METADATA_URI_V4: `http://127.0.0.1:${port}/v4/0f1e2d3c4b5a-123`,
      ENVOY_BOOTSTRAP: bootstrap,
      PATH: `${dir}:${process.env.PATH}`,
    });

    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(seen).toEqual(['/v4/0f1e2d3c4b5a-123/task']);
    expect(run.stdout).toBe(
      `args: -c ${configPath} --drain-time-s 20\n${JSON.stringify({
        node: { id: '0f1e2d3c4b5a', locality: { zone: 'eu-west-1b' } },
        stats_config: { stats_tags: [{ tag_name: 'mesh_revision', fixed_value: '13' }] },
      })}`,
    );
    fs.rmSync(dir, { recursive: true });
  });

  it('passes ENVOY_LOG_LEVEL on as --log-level (the variable App Mesh\u2019s image read)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sidecar-'));
    fs.writeFileSync(path.join(dir, 'envoy'), '#!/bin/sh\necho "args: $*"\n', { mode: 0o755 });
    const run = await bash(envoyEntrypoint({ drainSeconds: 5, adminPort: 1, configPath: '/etc/envoy/envoy.json', drainMarker: path.join(dir, 'draining') }), {
      ENVOY_LOG_LEVEL: 'debug',
      PATH: `${dir}:${process.env.PATH}`,
    });
    expect(run.stdout).toBe('args: -c /etc/envoy/envoy.json --drain-time-s 5 --log-level debug\n');
    fs.rmSync(dir, { recursive: true });
  });

  it('stops with a reason when the metadata names no task', async () => {
    const port = await serve(200, '{}');
    const run = await bash(envoyEntrypoint({ drainSeconds: 1, adminPort: 1, configPath: '/dev/null', drainMarker: '/nonexistent/marker' }), {
      ECS_CONTAINER_METADATA_URI_V4: `http://127.0.0.1:${port}/v4/x`,
      ENVOY_BOOTSTRAP: '{}',
    });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('no TaskARN in the task metadata');
  });

  it('on SIGTERM fails health checks, drains listeners gracefully, waits the drain period, then stops Envoy', async () => {
    const events: string[] = [];
    const port = await serveRoutes({ '/healthcheck/fail': [200, 'OK'], '/drain_listeners?graceful': [200, 'OK'] }, events);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sidecar-'));
    const marker = path.join(dir, 'draining');
    // A fake Envoy: says it started, and says so when it is told to stop (bounded: it ends by itself after 30 s).
    fs.writeFileSync(
      path.join(dir, 'envoy'),
      '#!/bin/bash\ntrap \'echo "envoy: SIGTERM"; kill $s; exit 0\' TERM\nsleep 30 & s=$!\necho "envoy: started"\nwait $s\n',
      { mode: 0o755 },
    );
    const child = spawn('bash', ['-c', envoyEntrypoint({ drainSeconds: 1, adminPort: port, configPath: '/dev/null', drainMarker: marker })], {
      env: { ...process.env, PATH: `${dir}:${process.env.PATH}` },
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    let markerWhileDraining = false;
    child.stdout.on('data', (data: Buffer) => {
      for (const line of data.toString().split('\n').filter(Boolean)) {
        events.push(line);
        if (line === 'envoy: started') child.kill('SIGTERM');
        if (line === 'envoy: SIGTERM') markerWhileDraining = fs.existsSync(marker);
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));

    expect(events).toEqual(['envoy: started', 'POST /healthcheck/fail', 'POST /drain_listeners?graceful', 'envoy: SIGTERM']);
    expect(markerWhileDraining).toBe(true);
    expect(stderr).toContain('draining listeners for 1 s');
    expect(code).toBe(0);
    fs.rmSync(dir, { recursive: true });
  });
});

describe('the sidecar health check', () => {
  const stats = (cds: number, lds: number) =>
    `cluster_manager.cds.update_success: ${cds}\nlistener_manager.lds.update_success: ${lds}\nhttp.inbound.rds.inbound.update_success: 1\n`;
  it.each([
    ['passes when Envoy is LIVE with clusters and listeners applied', 200, stats(2, 1), 0],
    ['fails when Envoy went LIVE after the initial fetch timed out with nothing applied (every poll refused)', 200, stats(0, 0), 1],
    ['fails when Envoy has clusters but no listeners applied', 200, stats(3, 0), 1],
    ['fails when Envoy is not LIVE yet', 503, stats(0, 0), 1],
  ])('%s', async (_case, readyStatus, statsBody, exitCode) => {
    const seen: string[] = [];
    const port = await serveRoutes({ '/ready': [readyStatus, 'LIVE'], '/stats?filter=update_success': [200, statsBody] }, seen);
    const run = await bash(envoyHealthCheck(port, '/nonexistent/marker'));
    expect(run.code).toBe(exitCode);
    expect(seen[0]).toBe('GET /ready');
  });

  it('fails while the node drains, without asking Envoy', async () => {
    const seen: string[] = [];
    const port = await serveRoutes({ '/ready': [200, 'LIVE'], '/stats?filter=update_success': [200, stats(1, 1)] }, seen);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sidecar-'));
    fs.writeFileSync(path.join(dir, 'draining'), '');
    expect((await bash(envoyHealthCheck(port, path.join(dir, 'draining')))).code).toBe(1);
    expect(seen).toEqual([]);
    fs.rmSync(dir, { recursive: true });
  });

  it('fails when nothing listens on the admin port', async () => {
    const port = await serve(200, '');
    await new Promise((resolve) => server!.close(resolve));
    server = undefined;
    expect((await bash(envoyHealthCheck(port, '/nonexistent/marker'))).code).not.toBe(0);
  });
});

describe('the EC2 user data', () => {
  it.each([
    ['Docker', {}],
    ['a binary', { envoyBinary: '/usr/local/bin/envoy' }],
  ])('with Envoy from %s is valid bash that installs and starts the unit', async (_name, extra) => {
    const script = envoyUserDataCommands({ bootstrapJson: '{"node":{"id":"__MESH_NODE_ID__"}}', service: 'payments', ...extra }).join('\n');
    const syntax = await bash(`bash -n <<'CHECK_EOF'\n${script}\nCHECK_EOF`);
    expect(syntax.stderr).toBe('');
    expect(syntax.code).toBe(0);
    expect(script).toContain('systemctl enable --now envoy.service');
    expect(script).toContain("http://169.254.169.254/latest/api/token");
  });

  it('runs the official image on the host network, logging to CloudWatch Logs, through the draining entrypoint', () => {
    const script = envoyUserDataCommands({ bootstrapJson: '{}', service: 'payments', logGroupName: 'envoy-logs', drainTimeSeconds: 45 }).join('\n');
    expect(script).toContain(
      'exec /usr/bin/docker run --rm --name envoy-payments --network host -v /etc/envoy:/etc/envoy:ro --log-driver awslogs --log-opt awslogs-region=$REGION --log-opt awslogs-group=envoy-logs --log-opt awslogs-stream=envoy/$INSTANCE_ID public.ecr.aws/envoyproxy/envoy:v1.36.2 "\\$@"',
    );
    expect(script).toContain("MESH_DRAIN_SECONDS='45'");
    for (const line of ['ExecStart=/usr/local/bin/mesh-envoy', 'ExecStartPost=/usr/local/bin/mesh-envoy-wait-ready', 'KillMode=mixed', 'TimeoutStopSec=75']) {
      expect(script.split('\n')).toContain(line);
    }
  });

  it('points a host binary at the CA bundle the OS has (Amazon Linux 2023 and 2 have no ca-certificates.crt)', async () => {
    const script = envoyUserDataCommands({ bootstrapJson: '{}', service: 'payments', envoyBinary: '/usr/local/bin/envoy' });
    const pick = script.find((line) => line.startsWith('CA_BUNDLE='))!;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ca-'));
    // The same choice against a stand-in root: only the Amazon Linux path exists there.
    fs.mkdirSync(path.join(dir, 'etc/pki/tls/certs'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'etc/pki/tls/certs/ca-bundle.crt'), '');
    const rooted = pick.replaceAll(' /etc/', ` ${dir}/etc/`);
    const run = await bash(`${rooted}\necho "$CA_BUNDLE"`);
    expect(run.stdout.trim()).toBe(`${dir}/etc/pki/tls/certs/ca-bundle.crt`);
    fs.rmSync(dir, { recursive: true });
  });

  it('installs scripts that are valid bash', async () => {
    const script = envoyUserDataCommands({ bootstrapJson: '{}', service: 'payments' }).join('\n');
    for (const marker of ['MESH_ENTRYPOINT_EOF', 'MESH_HEALTH_EOF', 'MESH_WAIT_EOF']) {
      const body = new RegExp(`<<'${marker}'\\n([\\s\\S]*?)\\n${marker}`).exec(script)?.[1];
      expect(body).toBeDefined();
      const syntax = await bash(`bash -n <<'CHECK_EOF'\n${body}\nCHECK_EOF`);
      expect(syntax.stderr).toBe('');
    }
  });
});

describe('substitute', () => {
  it('replaces every occurrence of every key', () => {
    expect(substitute('a-b-a', { a: 'x', b: 'y' })).toBe('x-y-x');
  });
});

describe('the sidecar bootstrap rendered at synth time', () => {
  it('decodes strictly as an Envoy Bootstrap once deploy and boot fill in host, region, node and zone', () => {
    const stack = newUnbundledStack();
    const controlPlane = new ControlPlane(stack, 'ControlPlane');
    new MeshService(stack, 'Payments', { controlPlane, name: 'payments', inboundPort: 15000, appPort: 8080, protocol: 'http' });
    const orders = new MeshService(stack, 'Orders', {
      controlPlane,
      name: 'orders',
      inboundPort: 15000,
      appPort: 8080,
      protocol: 'http',
      dependencies: [{ service: 'payments', localPort: 9001 }],
    });
    const host = 'abcdefghijklmnop.lambda-url.eu-west-1.on.aws';
    // What CloudFormation does at deploy time: the URL's host and the stack's region.
    const deployed = renderJoin(stack.resolve(sidecarBootstrapJson(controlPlane, orders.spec)), (part) => {
      const text = JSON.stringify(part);
      if (text.includes('FunctionUrl')) return host;
      if (text === JSON.stringify({ Ref: 'AWS::Region' })) return 'eu-west-1';
      throw new Error(`unexpected deploy-time value ${text}`);
    });
    // What the host does at boot.
    const booted = substitute(deployed, { [placeholders.nodeId]: '0f1e2d3c4b5a', [placeholders.zone]: 'eu-west-1b' });
    const bootstrap = JSON.parse(booted);

    expect(validateRules(decodeStrict('type.googleapis.com/envoy.config.bootstrap.v3.Bootstrap', bootstrap))).toEqual([]);
    expect(bootstrap.node).toMatchObject({ id: '0f1e2d3c4b5a', cluster: 'orders', locality: { zone: 'eu-west-1b' } });
    const xds = bootstrap.static_resources.clusters.find((c: { name: string }) => c.name === controlPlane.renderSettings.xdsClusterName);
    const signing = xds.typed_extension_protocol_options['envoy.extensions.upstreams.http.v3.HttpProtocolOptions'].http_filters[0].typed_config;
    expect(signing).toMatchObject({ service_name: 'lambda', region: 'eu-west-1', host_rewrite: host });
    expect(booted).not.toMatch(/__MESH_|mesh\.invalid/);
  });

  it('polls LDS at the refresh delay when routes are inline in listeners, and tells the functions so', () => {
    const stack = newUnbundledStack();
    const controlPlane = new ControlPlane(stack, 'ControlPlane', { routeDelivery: 'inline', refreshDelay: '20s' });
    const service = new MeshService(stack, 'Payments', {
      controlPlane,
      name: 'payments',
      inboundPort: 15000,
      appPort: 8080,
      protocol: 'http',
      identity: { iamRoleArns: ['arn:aws:iam::111122223333:role/payments'] },
    });
    const text = JSON.stringify(stack.resolve(sidecarBootstrapJson(controlPlane, service.spec)));
    // The bootstrap is a joined CloudFormation string; its LDS source is the first config source in it.
    expect(text).toMatch(/lds_config.{0,400}refresh_delay[^0-9]+20s/);
    const env = Template.fromStack(stack).findResources('AWS::Lambda::Function');
    const deliveries = Object.values(env).map((f) => (f as { Properties: { Environment?: { Variables?: Record<string, unknown> } } }).Properties.Environment?.Variables?.XDS_ROUTE_DELIVERY);
    expect(deliveries).toContain('inline');
    expect(deliveries).not.toContain('rds');
  });
});

describe('the Envoy image', () => {
  const digest = 'a'.repeat(64);
  it('defaults to Envoy on ECR Public, not Docker Hub', () => {
    expect(defaultEnvoyImage).toBe('public.ecr.aws/envoyproxy/envoy:v1.36.2');
  });

  it.each([
    [`public.ecr.aws/envoyproxy/envoy:v1.36.2@sha256:${digest}`],
    [`123456789012.dkr.ecr.eu-west-1.amazonaws.com/ecr-public/envoyproxy/envoy@sha256:${digest}`],
  ])('accepts %s, pinned by digest, without a warning', (image) => {
    const stack = newUnbundledStack();
    expect(checkEnvoyImage(stack, image)).toBe(image);
    expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
  });

  it('refuses a malformed digest at synth', () => {
    expect(() => checkEnvoyImage(newUnbundledStack(), 'public.ecr.aws/envoyproxy/envoy@sha256:abc')).toThrow(
      'Envoy image "public.ecr.aws/envoyproxy/envoy@sha256:abc": a digest must be "@sha256:" followed by 64 lowercase hex digits',
    );
  });

  it('warns about an image pinned by tag only, saying how to get its digest', () => {
    const stack = newUnbundledStack();
    checkEnvoyImage(stack, defaultEnvoyImage);
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('not pinned by digest')).map((w) => String(w.entry.data))).toEqual([
      expect.stringContaining('docker buildx imagetools inspect public.ecr.aws/envoyproxy/envoy:v1.36.2'),
    ]);
  });
});
