import type { ServiceConfigView } from '../../shared/api/config-view';
import type { ServiceConvergence } from '../../shared/api/nodes';
import { xdsTypeNames } from '../../shared/envoy/resources';
import { Command, printJson } from '../command';
import { CliError } from '../io';
import { ago, shortVersion, table } from '../table';

type Resource = Record<string, unknown>;

/** listenerAddress reads `address:port` from a rendered Listener. */
function listenerAddress(l: Resource): string {
  const sa = (l.address as { socket_address?: { address?: string; port_value?: number } } | undefined)?.socket_address;
  return sa ? `${sa.address}:${sa.port_value}` : '-';
}

/** endpointCounts reads `healthy/all` from a ClusterLoadAssignment. */
function endpointCounts(cla: Resource | undefined): string {
  if (!cla) return '-';
  const lbs = ((cla.endpoints as { lb_endpoints?: { health_status?: string }[] }[] | undefined) ?? []).flatMap((l) => l.lb_endpoints ?? []);
  return `${lbs.filter((e) => (e.health_status ?? 'HEALTHY') === 'HEALTHY').length}/${lbs.length}`;
}

export const configCommand: Command = {
  name: 'config',
  summary: "what a service's Envoys are served: listeners, routes, clusters, endpoints, secrets",
  usage: 'meshctl config <service> [--node id] [--type listeners|routes|clusters|endpoints|secrets]',
  description: `Shows the configuration the control plane serves the Envoys of a service (read from the stored
snapshot, without polling as one), as a summary for people or, with -o json, the Envoy
resources themselves in proto3 JSON. Secrets are listed by name only. With --node, also what
that Envoy has applied of each subscription, against what is current.`,
  optionsHelp: `  --node ID           also show this Envoy's applied versions, NACK and last poll
  --type TYPE         only one xDS type: ${xdsTypeNames.join(', ')}`,
  options: { node: { type: 'string' }, type: { type: 'string' } },
  minArgs: 1,
  maxArgs: 1,
  async run(ctx) {
    const service = ctx.args[0]!;
    const type = ctx.option('type');
    if (type !== undefined && !(xdsTypeNames as readonly string[]).includes(type)) {
      throw new CliError(`--type must be one of ${xdsTypeNames.join(', ')}, got "${type}"`);
    }
    const client = ctx.client();
    const view = await client.getOk<ServiceConfigView>(`/config/${encodeURIComponent(service)}${type ? `?type=${type}` : ''}`);
    const nodeId = ctx.option('node');
    let node: { status: ServiceConvergence['nodes'][number]; behind?: ServiceConvergence['behind'][number] } | undefined;
    if (nodeId) {
      const report = await client.getOk<{ services: ServiceConvergence[] }>(`/nodes?service=${encodeURIComponent(service)}`);
      const conv = report.services[0];
      const status = conv?.nodes.find((n) => n.nodeId === nodeId);
      if (!conv || !status) throw new CliError(`Envoy "${nodeId}" has not polled as a node of "${service}" (or its status expired)`, 1);
      node = { status, ...(conv.behind.find((b) => b.nodeId === nodeId) ? { behind: conv.behind.find((b) => b.nodeId === nodeId)! } : {}) };
    }
    const subscriptions = node
      ? Object.entries(node.status.subscriptions)
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([key, sub]) => {
            const stale = node!.behind?.subscriptions.find((s) => s.key === key);
            return { key, type: sub.type, applied: sub.appliedVersion, current: stale?.current ?? sub.appliedVersion, upToDate: !stale, lastPollAt: sub.lastPollAt };
          })
      : undefined;
    if (ctx.json) {
      printJson(ctx.io, {
        ...view,
        ...(node ? { node: { nodeId, zone: node.status.zone, lastPollAt: node.status.lastPollAt, lastNack: node.status.lastNack, subscriptions } } : {}),
      });
      return 0;
    }
    const now = ctx.io.now().getTime();
    const out: string[] = [`${view.service} · spec revision ${view.specRevision} · rendered ${ago(now - Date.parse(view.renderedAt))} ago\n`];
    const r = view.resources;
    const counts = { listeners: r.listeners?.length, routes: r.routes?.length, clusters: r.clusters?.length, endpoints: r.endpoints?.length, secrets: r.secrets?.length };
    out.push(
      table(
        ['TYPE', 'VERSION', 'RESOURCES'],
        xdsTypeNames.filter((t) => counts[t] !== undefined).map((t) => [t, t === 'endpoints' || t === 'secrets' ? '(per resource)' : shortVersion(view.versions[t]), String(counts[t])]),
      ),
    );
    if (r.listeners?.length) out.push(table(['LISTENER', 'ADDRESS'], r.listeners.map((l) => [String(l.name), listenerAddress(l)])));
    if (r.routes?.length) {
      out.push(
        table(
          ['ROUTE CONFIG', 'VIRTUAL HOSTS', 'ROUTES'],
          r.routes.map((rc) => {
            const vhosts = (rc.virtual_hosts as { routes?: unknown[] }[] | undefined) ?? [];
            return [String(rc.name), String(vhosts.length), String(vhosts.reduce((n, v) => n + (v.routes?.length ?? 0), 0))];
          }),
        ),
      );
    }
    if (r.clusters?.length) {
      const cla = new Map((r.endpoints ?? []).map((e) => [String(e.cluster_name), e]));
      out.push(table(['CLUSTER', 'TYPE', 'ENDPOINTS healthy/all'], r.clusters.map((c) => [String(c.name), String(c.type ?? '-'), c.type === 'EDS' ? endpointCounts(cla.get(String(c.name))) : '-'])));
    } else if (r.endpoints?.length) {
      out.push(table(['ASSIGNMENT', 'ENDPOINTS healthy/all'], r.endpoints.map((e) => [String(e.cluster_name), endpointCounts(e)])));
    }
    if (r.secrets?.length) out.push(table(['SECRET'], r.secrets.map((s) => [s.name])));
    if (node && subscriptions) {
      out.push(`Envoy ${nodeId}${node.status.zone ? ` (${node.status.zone})` : ''} · last poll ${ago(now - Date.parse(node.status.lastPollAt))} ago\n`);
      out.push(table(['SUBSCRIPTION', 'APPLIED', 'CURRENT', 'STATE'], subscriptions.map((s) => [s.key, shortVersion(s.applied), shortVersion(s.current), s.upToDate ? 'SYNCED' : 'STALE'])));
      if (node.status.lastNack) out.push(`last NACK (${node.status.lastNack.subscription}, ${ago(now - Date.parse(node.status.lastNack.at))} ago): ${node.status.lastNack.message}\n`);
    }
    ctx.io.stdout(out.join('\n'));
    return 0;
  },
};
