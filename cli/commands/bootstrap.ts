import { writeFileSync } from 'node:fs';
import { Command, printJson } from '../command';
import { CliError } from '../io';

export const bootstrapCommand: Command = {
  name: 'bootstrap',
  summary: 'the Envoy bootstrap for one node of a service',
  usage: 'meshctl bootstrap <service> --node ID [--zone AZ] [--tier rest] [--out FILE]',
  description: `Prints (or writes to --out) a complete Envoy bootstrap for one node of a declared service,
pointing at this control plane: REST xDS polls (signed with SigV4 when the control plane is
deployed), its admin interface and its local payload cluster. Run it with: envoy -c FILE.
The bootstrap is JSON whatever --output says. --tier grpc (ADS over a gRPC stream) is not
served by this control plane yet: it answers REST xDS only.`,
  optionsHelp: `  --node ID           the Envoy's unique id (required)
  --zone AZ           its availability zone, for zone-aware routing
  --tier TIER         rest (default); grpc is refused until the control plane serves ADS
  --out FILE          write the bootstrap to FILE instead of stdout`,
  options: { node: { type: 'string' }, zone: { type: 'string' }, tier: { type: 'string' }, out: { type: 'string' } },
  minArgs: 1,
  maxArgs: 1,
  async run(ctx) {
    const service = ctx.args[0]!;
    const tier = ctx.option('tier') ?? 'rest';
    if (tier === 'grpc') {
      throw new CliError('--tier grpc: ADS bootstraps are not generated yet (README, The push tier, shows one to write by hand); use --tier rest');
    }
    if (tier !== 'rest') throw new CliError(`--tier must be rest or grpc, got "${tier}"`);
    const node = ctx.option('node');
    if (!node) throw new CliError('--node is required: the Envoy\'s unique id, e.g. --node orders-i-0abc');
    const zone = ctx.option('zone');
    const query = new URLSearchParams({ node, ...(zone ? { zone } : {}) });
    const bootstrap = await ctx.client().getOk<unknown>(`/bootstrap/${encodeURIComponent(service)}?${query}`);
    const out = ctx.option('out');
    if (out) {
      writeFileSync(out, JSON.stringify(bootstrap, null, 2) + '\n');
      ctx.io.stderr(`wrote the bootstrap of ${service}/${node} to ${out}; run: envoy -c ${out}\n`);
    } else printJson(ctx.io, bootstrap);
    return 0;
  },
};
