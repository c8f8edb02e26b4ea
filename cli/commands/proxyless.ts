import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EnvoyResource } from '../../shared/envoy/resources';
import { certificatePems } from '../../shared/bootstrap/certificate-files';
import { grpcBootstrap } from '../../shared/bootstrap/grpc-bootstrap';
import { names } from '../../shared/render/names';
import { apiError } from '../client';
import { Command } from '../command';
import { CliError } from '../io';

export const proxylessCommand: Command = {
  name: 'proxyless',
  summary: 'the gRPC bootstrap (and certificate files) for one proxyless node of a service',
  usage: 'meshctl proxyless <service> --node ID --xds HOST:PORT --dir DIR [--zone AZ] [--certs]',
  description: `Writes DIR/bootstrap.json, the xDS bootstrap of one proxyless gRPC node of a service (a client,
an XdsServer, or both): the push tier's ADS address, the node, and the Listener name template
of xDS servers. Run the node with GRPC_XDS_BOOTSTRAP=DIR/bootstrap.json.
--certs (for a mesh with proxyless mTLS): also fetches the service's certificate, private key
and trust bundle from this control plane's SDS, as the service's Envoys are served them (so the
caller must be allowed to fetch that service's configuration: its task role under IAM), writes
them to DIR/cert.pem, DIR/key.pem (mode 600) and DIR/ca.pem, and names them in the bootstrap's
file_watcher certificate provider. gRPC re-reads the files every 10 minutes: run this again
before the certificate expires (a renewal is new files, never a new listener or cluster).`,
  optionsHelp: `  --node ID           the node's unique id (required)
  --xds HOST:PORT     the push tier's gRPC address (required)
  --dir DIR           where to write bootstrap.json and the certificate files (required)
  --zone AZ           its availability zone
  --certs             fetch and write the certificate files (proxyless mTLS)`,
  options: { node: { type: 'string' }, xds: { type: 'string' }, dir: { type: 'string' }, zone: { type: 'string' }, certs: { type: 'boolean' } },
  minArgs: 1,
  maxArgs: 1,
  async run(ctx) {
    const service = ctx.args[0]!;
    const nodeId = ctx.option('node');
    const serverUri = ctx.option('xds');
    const dirOption = ctx.option('dir');
    if (!nodeId) throw new CliError("--node is required: the node's unique id, e.g. --node orders-task-1");
    if (!serverUri || !/^[^\s:/]+:[0-9]{1,5}$/.test(serverUri)) throw new CliError(`--xds must be HOST:PORT of the push tier, got "${serverUri ?? ''}"`);
    if (!dirOption) throw new CliError('--dir is required: where the bootstrap and certificate files go');
    const dir = resolve(dirOption);
    mkdirSync(dir, { recursive: true });
    const zone = ctx.option('zone');
    let certificates;
    if (ctx.values.certs === true) {
      const path = '/v3/discovery:secrets';
      const body = JSON.stringify({ node: { id: nodeId, cluster: service }, resource_names: [names.serviceCertificateSecret(service), names.trustBundleSecret] });
      const answer = await ctx.client().fetchRaw('POST', path, body);
      if (answer.status !== 200) throw apiError('POST', path, { status: answer.status, body: answer.text });
      const pems = certificatePems((JSON.parse(answer.text) as { resources?: EnvoyResource[] }).resources ?? [], service);
      certificates = { certificateFile: join(dir, 'cert.pem'), privateKeyFile: join(dir, 'key.pem'), caCertificateFile: join(dir, 'ca.pem') };
      writeFileSync(certificates.certificateFile, pems.certificatePem);
      writeFileSync(certificates.privateKeyFile, pems.privateKeyPem, { mode: 0o600 });
      writeFileSync(certificates.caCertificateFile, pems.trustBundlePem);
    }
    const file = join(dir, 'bootstrap.json');
    writeFileSync(file, JSON.stringify(grpcBootstrap({ serverUri, service, nodeId, ...(zone ? { zone } : {}), ...(certificates ? { certificates } : {}) }), null, 2) + '\n');
    ctx.io.stderr(`wrote the proxyless bootstrap of ${service}/${nodeId}${certificates ? ' and its certificate files' : ''} to ${dir}; run with GRPC_XDS_BOOTSTRAP=${file}\n`);
    return 0;
  },
};
