import type { ServiceConvergence } from '../../shared/api/nodes';
import { XdsTypeName } from '../../shared/envoy/resources';
import type { RolloutState } from '../../shared/model/rollout-state';
import { Command, printJson } from '../command';
import { CliError } from '../io';
import { ago, parseDuration, shortVersion, table } from '../table';

/** The per-type columns, in istioctl proxy-status order. */
const types: readonly [XdsTypeName, string][] = [
  ['clusters', 'CDS'],
  ['listeners', 'LDS'],
  ['endpoints', 'EDS'],
  ['routes', 'RDS'],
  ['secrets', 'SDS'],
];

/** TypeState is one xDS type of one Envoy: every subscription on the current version, some behind, or one rejected. */
export type TypeState = 'SYNCED' | 'STALE' | 'NACKED' | 'NOT SENT';

export interface NodeRow {
  readonly nodeId: string;
  readonly service: string;
  readonly zone?: string;
  readonly lastPollAt: string;
  readonly sinceLastPollMs: number;
  readonly types: Partial<Record<XdsTypeName, { state: TypeState; applied: string; current: string }>>;
  readonly nack?: { type: string; message: string; at: string };
  /** How long the node has been off the current version (from the change it has not applied); 0 when synced. */
  readonly behindForMs: number;
  readonly behindTooLong: boolean;
  /** Permissive services this Envoy calls in plaintext (its mTLS is off); absent: none. */
  readonly plaintextTo?: readonly string[];
}

/** nodeRows reads a `/nodes` report into one row per Envoy, with ages computed against `now`. */
export function nodeRows(services: readonly ServiceConvergence[], now: Date, thresholdMs: number): NodeRow[] {
  return services.flatMap((svc) =>
    svc.nodes.map((node): NodeRow => {
      const behind = svc.behind.find((b) => b.nodeId === node.nodeId);
      const stale = new Map((behind?.subscriptions ?? []).map((s) => [s.key, s]));
      const rowTypes: NodeRow['types'] = {};
      for (const [type] of types) {
        const subs = Object.entries(node.subscriptions).filter(([, s]) => s.type === type);
        if (subs.length === 0) continue;
        const behindSubs = subs.filter(([key]) => stale.has(key));
        const nacked = node.lastNack?.type === type && behindSubs.length > 0;
        const [key, sub] = behindSubs[0] ?? subs[0]!;
        rowTypes[type] = {
          state: nacked ? 'NACKED' : behindSubs.length > 0 ? 'STALE' : 'SYNCED',
          applied: sub.appliedVersion,
          current: stale.get(key)?.current ?? sub.appliedVersion,
        };
      }
      const since = (behind?.subscriptions ?? []).map((s) => s.currentSince ?? behind?.lastNack?.at ?? node.lastPollAt).sort()[0];
      const behindForMs = since ? Math.max(0, now.getTime() - Date.parse(since)) : 0;
      return {
        nodeId: node.nodeId,
        service: node.service,
        ...(node.zone ? { zone: node.zone } : {}),
        lastPollAt: node.lastPollAt,
        sinceLastPollMs: Math.max(0, now.getTime() - Date.parse(node.lastPollAt)),
        types: rowTypes,
        ...(node.lastNack ? { nack: { type: node.lastNack.type, message: node.lastNack.message, at: node.lastNack.at } } : {}),
        behindForMs,
        behindTooLong: behind !== undefined && behindForMs > thresholdMs,
        ...(node.plaintextTo ? { plaintextTo: node.plaintextTo } : {}),
      };
    }),
  );
}

export const statusCommand: Command = {
  name: 'status',
  summary: 'each Envoy: its service, zone, per-type version applied vs current, NACKs, last poll',
  usage: 'meshctl status [service] [--threshold 60s]',
  description: `Like istioctl proxy-status: per service, its live Envoys, how many are on the latest config
and how fast the last change reached them (with a service named, its progressive rollouts:
status, percent on the new subset, the last decision and why); per Envoy, each xDS type's version applied and
current (SYNCED, STALE or NACKED), its last NACK with the message, and the time since its last
poll; per permissive mTLS service, the callers (and their Envoys) that still come in plaintext.
Exits 1 when an Envoy has been behind for longer than --threshold.`,
  optionsHelp: '  --threshold DUR     how long an Envoy may be behind before the exit code is 1 (default 60s; 30s, 5m, ...)',
  options: { threshold: { type: 'string' } },
  minArgs: 0,
  maxArgs: 1,
  async run(ctx) {
    const thresholdText = ctx.option('threshold') ?? '60s';
    const thresholdMs = parseDuration(thresholdText);
    if (thresholdMs === undefined) throw new CliError(`--threshold must be a duration such as 30s, 5m or 500ms, got "${thresholdText}"`);
    const only = ctx.args[0];
    const report = await ctx.client().getOk<{ services: ServiceConvergence[] }>(`/nodes${only ? `?service=${encodeURIComponent(only)}` : ''}`);
    // A service's progressive rollouts (its own, and its callers' of its traffic): steps and the last decision.
    const rollouts = only ? ((await ctx.client().getOk<{ rollouts?: RolloutState[] }>(`/services/${encodeURIComponent(only)}`)).rollouts ?? []) : [];
    const now = ctx.io.now();
    const rows = nodeRows(report.services, now, thresholdMs);
    const late = rows.filter((r) => r.behindTooLong);
    const services = report.services.map((s) => ({
      service: s.service,
      liveNodes: s.liveNodes,
      onLatest: s.onLatest,
      behind: s.behind.length,
      ...(s.lastChange ? { lastChange: s.lastChange } : {}),
      ...(s.plaintextCallers ? { plaintextCallers: s.plaintextCallers } : {}),
    }));
    const plaintext = services.flatMap((s) => (s.plaintextCallers ?? []).map((c) => [s.service, c.caller, c.nodes.length > 0 ? c.nodes.join(', ') : '-']));
    if (ctx.json) {
      printJson(ctx.io, { now: now.toISOString(), thresholdMs, services, nodes: rows, behindTooLong: late.map((r) => r.nodeId), ...(only ? { rollouts } : {}) });
    } else {
      ctx.io.stdout(
        table(
          ['SERVICE', 'ENVOYS', 'ON LATEST', 'BEHIND', 'LAST CHANGE', 'CONVERGENCE p50/max'],
          services.map((s) => [
            s.service,
            String(s.liveNodes),
            String(s.onLatest),
            String(s.behind),
            s.lastChange ? `${ago(now.getTime() - Date.parse(s.lastChange.at))} ago` : '-',
            s.lastChange ? `${s.lastChange.convergenceMs.p50} ms / ${s.lastChange.convergenceMs.max} ms` : '-',
          ]),
        ),
      );
      if (rows.length === 0) ctx.io.stdout('\nNo Envoy has polled yet.\n');
      else {
        ctx.io.stdout('\n');
        ctx.io.stdout(
          table(
            ['NODE', 'SERVICE', 'ZONE', ...types.map(([, label]) => label), 'LAST POLL', 'BEHIND FOR', 'NACK'],
            rows.map((r) => [
              r.nodeId,
              r.service,
              r.zone ?? '-',
              ...types.map(([type]) => cell(r.types[type])),
              `${ago(r.sinceLastPollMs)} ago`,
              r.behindForMs > 0 ? ago(r.behindForMs) : '-',
              r.nack ? `${r.nack.type}: ${r.nack.message}` : '',
            ]),
          ),
        );
      }
      if (plaintext.length > 0) {
        // Permissive services' callers without mTLS: what still blocks turning the service strict.
        ctx.io.stdout('\n');
        ctx.io.stdout(table(['PERMISSIVE SERVICE', 'PLAINTEXT CALLER', 'ITS ENVOYS'], plaintext));
      }
      if (rollouts.length > 0) {
        ctx.io.stdout('\n');
        ctx.io.stdout(
          table(
            ['ROLLOUT', 'STATUS', 'TO NEW SUBSET', 'LAST DECISION'],
            rollouts.map((r) => {
              const last = r.history[r.history.length - 1];
              return [r.id, r.status, `${r.percent} %`, last ? `${last.action}, ${ago(now.getTime() - Date.parse(last.at))} ago: ${last.reason}` : 'not started'];
            }),
          ),
        );
      }
      if (late.length > 0) {
        ctx.io.stderr(`\n${late.length} Envoy(s) behind for longer than ${thresholdText}: ${late.map((r) => r.nodeId).join(', ')}\n`);
      }
    }
    return late.length > 0 ? 1 : 0;
  },
};

function cell(t: NodeRow['types'][XdsTypeName]): string {
  if (!t) return 'NOT SENT';
  if (t.state === 'SYNCED') return `SYNCED ${shortVersion(t.applied)}`;
  return `${t.state} ${shortVersion(t.applied)}→${shortVersion(t.current)}`;
}
