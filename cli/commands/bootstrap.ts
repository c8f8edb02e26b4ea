import { writeFileSync } from 'node:fs';
import { Command, printJson } from '../command';
import { CliError } from '../io';

export const bootstrapCommand: Command = {
  name: 'bootstrap',
  summary: 'the Envoy bootstrap for one node of a service',
  usage: 'meshctl bootstrap <service> --node ID [--zone AZ] [--tier rest|grpc] [--out FILE]',
  description: `Prints (or writes to --out) a complete Envoy bootstrap for one node of a declared service,
pointing at this control plane, with its admin interface and its local payload cluster. Run it
with: envoy -c FILE. The bootstrap is JSON whatever --output says.
--tier rest (default): REST xDS polls (signed with SigV4 when the control plane is deployed).
--tier grpc: one ADS stream to the push tier (gRPC) carries every type, the node's RDS, EDS and
SDS included; the control plane must run one (npm start does, on --grpc-port). Deployed with a push
tier: ADS over mutual TLS to its load balancer, the certificate and SDS polled from the front door.`,
  optionsHelp: `  --node ID           the Envoy's unique id (required)
  --zone AZ           its availability zone, for zone-aware routing
  --tier TIER         rest (default) or grpc (ADS on the push tier)
  --out FILE          write the bootstrap to FILE instead of stdout`,
  options: { node: { type: 'string' }, zone: { type: 'string' }, tier: { type: 'string' }, out: { type: 'string' } },
  minArgs: 1,
  maxArgs: 1,
  async run(ctx) {
    const service = ctx.args[0]!;
    const tier = ctx.option('tier') ?? 'rest';
    if (tier !== 'rest' && tier !== 'grpc') throw new CliError(`--tier must be rest or grpc, got "${tier}"`);
    const node = ctx.option('node');
    if (!node) throw new CliError('--node is required: the Envoy\'s unique id, e.g. --node orders-i-0abc');
    const zone = ctx.option('zone');
    const query = new URLSearchParams({ node, ...(zone ? { zone } : {}), ...(tier === 'grpc' ? { tier } : {}) });
    const bootstrap = await ctx.client().getOk<unknown>(`/bootstrap/${encodeURIComponent(service)}?${query}`);
    const out = ctx.option('out');
    if (out) {
      writeFileSync(out, JSON.stringify(bootstrap, null, 2) + '\n');
      ctx.io.stderr(`wrote the ${tier === 'grpc' ? 'ADS ' : ''}bootstrap of ${service}/${node} to ${out}; run: envoy -c ${out}\n`);
    } else printJson(ctx.io, bootstrap);
    return 0;
  },
};
