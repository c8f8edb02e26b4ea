import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { envoyReadyCheck, envoyStartScript } from '../../infra/sidecar/ecs';
import { envoyUserDataCommands } from '../../infra/sidecar/ec2';
import { placeholders, substitute } from '../../infra/sidecar/placeholders';
import { sidecarBootstrapJson } from '../../infra/sidecar/bootstrap';
import { ControlPlane } from '../../infra/control-plane';
import { MeshService } from '../../infra/mesh-service';
import { decodeStrict, validateRules } from '../support/envoy-schema';
import { newUnbundledStack } from './support/synth';
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

describe('the ECS sidecar start script', () => {
  it('writes the bootstrap with the task id and zone from the task metadata, then execs Envoy on it', async () => {
    const seen: string[] = [];
    const port = await serve(
      200,
      JSON.stringify({ Cluster: 'mesh', TaskARN: 'arn:aws:ecs:eu-west-1:123456789012:task/mesh/0f1e2d3c4b5a', AvailabilityZone: 'eu-west-1b' }),
      seen,
    );
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sidecar-'));
    // A stand-in for the envoy binary: shows how it was called and the file it was given.
    fs.writeFileSync(path.join(dir, 'envoy'), '#!/bin/sh\necho "args: $*"\ncat "$2"\n', { mode: 0o755 });
    const bootstrap = JSON.stringify({ node: { id: placeholders.nodeId, locality: { zone: placeholders.zone } } });
    const configPath = path.join(dir, 'envoy.json');

    const run = await bash(envoyStartScript(20, configPath), {
      ECS_CONTAINER_METADATA_URI_V4: `http://127.0.0.1:${port}/v4/0f1e2d3c4b5a-123`,
      ENVOY_BOOTSTRAP: bootstrap,
      PATH: `${dir}:${process.env.PATH}`,
    });

    expect(run.stderr).toBe('');
    expect(seen).toEqual(['/v4/0f1e2d3c4b5a-123/task']);
    expect(run.stdout).toBe(
      `args: -c ${configPath} --drain-time-s 20\n${JSON.stringify({ node: { id: '0f1e2d3c4b5a', locality: { zone: 'eu-west-1b' } } })}`,
    );
    fs.rmSync(dir, { recursive: true });
  });

  it('stops with a reason when the metadata names no task', async () => {
    const port = await serve(200, '{}');
    const run = await bash(envoyStartScript(20, '/dev/null'), { ECS_CONTAINER_METADATA_URI_V4: `http://127.0.0.1:${port}/v4/x`, ENVOY_BOOTSTRAP: '{}' });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('no TaskARN in the task metadata');
  });
});

describe('the ECS health check', () => {
  it.each([
    [200, 0],
    [503, 1],
  ])('with /ready answering %i exits %i', async (status, exitCode) => {
    const seen: string[] = [];
    const port = await serve(status, status === 200 ? 'LIVE' : 'PRE_INITIALIZING', seen);
    const run = await bash(envoyReadyCheck(port));
    expect(run.code).toBe(exitCode);
    expect(seen).toEqual(['/ready']);
  });

  it('fails when nothing listens on the admin port', async () => {
    const port = await serve(200, '');
    await new Promise((resolve) => server!.close(resolve));
    server = undefined;
    expect((await bash(envoyReadyCheck(port))).code).not.toBe(0);
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

  it('runs the official image on the host network by default', () => {
    const script = envoyUserDataCommands({ bootstrapJson: '{}', service: 'payments' }).join('\n');
    expect(script).toContain(
      'ExecStart=/usr/bin/docker run --rm --name envoy-payments --network host -v /etc/envoy:/etc/envoy:ro envoyproxy/envoy:v1.36.2 -c /etc/envoy/envoy.json --drain-time-s 30',
    );
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
});
