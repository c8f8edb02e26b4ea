import { CatalogRepository, NodeStatusRepository, RenderedRepository } from '../store/repositories';
import { NodeStatus, ServedForms } from '../model/node-status';
import { selectAssignments, selectFromSnapshot, selectProxylessAssignments } from '../xds/selection';
import { adsSnapshotOf, isAdsForms } from '../xds/ads-node';
import { EndpointAssignmentItem, SnapshotItem } from '../store/records';
import { ServiceSpec } from '../model/spec';
import { PlaintextCaller, plaintextCallers } from '../state/edges';

/** ServiceConvergence is the fleet view of one service: who polls it, who is on the latest config, and how fast it got there. */
export interface ServiceConvergence {
  readonly service: string;
  /** Nodes that polled within their status TTL. */
  readonly liveNodes: number;
  /** Nodes whose every subscription has applied the current version. */
  readonly onLatest: number;
  readonly behind: readonly NodeBehind[];
  /** The newest change among the versions nodes have applied, and how long it took to reach them. */
  readonly lastChange?: {
    readonly at: string;
    readonly reachedNodes: number;
    readonly convergenceMs: { readonly p50: number; readonly max: number };
  };
  readonly nodes: readonly ReportedNode[];
  /**
   * For a permissive service: the callers that still come in plaintext (their mTLS is off, the
   * rule `meshctl analyze` warns on), each with its live Envoys. Absent when none does.
   */
  readonly plaintextCallers?: readonly PlaintextCallerNodes[];
}

/** ReportedNode is a node's status, with the permissive services it calls in plaintext (absent: none). */
export type ReportedNode = NodeStatus & { readonly plaintextTo?: readonly string[] };

/** PlaintextCallerNodes is one caller of a permissive service that comes in plaintext, and its live Envoys (sorted). */
export interface PlaintextCallerNodes {
  readonly caller: string;
  readonly nodes: readonly string[];
}

export interface NodeBehind {
  readonly nodeId: string;
  /**
   * Subscriptions whose applied version is not the current one, with both versions, and when
   * the change that made `current` happened (`currentSince`, if known): how long it has been behind.
   */
  readonly subscriptions: readonly { key: string; applied: string; current: string; currentSince?: string }[];
  readonly lastNack?: NodeStatus['lastNack'];
}

/**
 * currentVersionOf computes what a subscription should have now, and since when, from the same
 * selection the xDS handler serves, in the forms the node is served (their versions differ).
 */
function currentVersionOf(
  sub: NodeStatus['subscriptions'][string],
  snapshot: SnapshotItem | undefined,
  assignments: ReadonlyMap<string, EndpointAssignmentItem>,
  forms: ServedForms | undefined,
): { version: string; changedAt?: string } {
  if (sub.type === 'endpoints') {
    return forms === 'proxyless' ? selectProxylessAssignments(assignments, sub.resourceNames) : selectAssignments(assignments, sub.resourceNames);
  }
  if (!snapshot) return { version: '' };
  const served =
    forms === 'proxyless' && snapshot.proxyless ? { ...snapshot, ...snapshot.proxyless } : isAdsForms(forms) ? adsSnapshotOf(snapshot, forms) : snapshot;
  return selectFromSnapshot(served, sub.type, sub.resourceNames);
}

/** convergenceOf builds one service's fleet view from its node status items. */
export function convergenceOf(
  service: string,
  nodes: readonly NodeStatus[],
  snapshot: SnapshotItem | undefined,
  assignments: ReadonlyMap<string, EndpointAssignmentItem>,
): ServiceConvergence {
  const behind: NodeBehind[] = [];
  let newest = '';
  for (const node of nodes) {
    const stale = Object.entries(node.subscriptions).flatMap(([key, sub]) => {
      const { version: current, changedAt } = currentVersionOf(sub, snapshot, assignments, node.forms);
      if (sub.appliedChangedAt && sub.appliedVersion === current && sub.appliedChangedAt > newest) newest = sub.appliedChangedAt;
      return sub.appliedVersion === current ? [] : [{ key, applied: sub.appliedVersion, current, ...(changedAt ? { currentSince: changedAt } : {}) }];
    });
    if (stale.length > 0) behind.push({ nodeId: node.nodeId, subscriptions: stale, ...(node.lastNack ? { lastNack: node.lastNack } : {}) });
  }
  const times = nodes
    .flatMap((n) => Object.values(n.subscriptions))
    .filter((s) => s.appliedChangedAt === newest && s.convergenceMs !== undefined)
    .map((s) => s.convergenceMs!)
    .sort((a, b) => a - b);
  const reached = nodes.filter((n) => Object.values(n.subscriptions).some((s) => s.appliedChangedAt === newest)).length;
  return {
    service,
    liveNodes: nodes.length,
    onLatest: nodes.length - behind.length,
    behind,
    ...(newest && times.length > 0
      ? {
          lastChange: {
            at: newest,
            reachedNodes: reached,
            convergenceMs: { p50: times[Math.ceil(times.length / 2) - 1]!, max: times[times.length - 1]! },
          },
        }
      : {}),
    nodes: [...nodes].sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0)),
  };
}

/**
 * nodesReport tells, per service (or for one), how many live Envoys poll it, how many are on
 * the latest version of everything they subscribe to, and how long the last change took to
 * reach them (change time → first poll that applied it): the control plane's convergence.
 */
export async function nodesReport(
  store: Pick<CatalogRepository, 'listServices'> & Pick<RenderedRepository, 'getSnapshot' | 'getEndpointAssignments'> & NodeStatusRepository,
  only?: string,
  options: NodesReportOptions = {},
): Promise<{ services: ServiceConvergence[] }> {
  const withPlaintext = options.plaintext ?? true;
  const specs = withPlaintext || !only ? (await store.listServices()).map((r) => r.spec) : [];
  const names = only ? [only] : specs.map((s) => s.name);
  // Live nodes per service, listed once however many reports need them (a caller's nodes show under each service it calls).
  const listed = new Map<string, Promise<NodeStatus[]>>();
  const nodesOf = (service: string) => {
    if (!listed.has(service)) listed.set(service, store.listNodeStatus(service));
    return listed.get(service)!;
  };
  const plaintext = withPlaintext ? plaintextCallers(new Map(specs.map((s): [string, ServiceSpec] => [s.name, s]))) : [];
  const services: ServiceConvergence[] = [];
  for (const service of names.sort()) {
    const [nodes, snapshot] = await Promise.all([nodesOf(service), store.getSnapshot(service)]);
    const edsNames = new Set(
      nodes.flatMap((n) => Object.values(n.subscriptions).filter((s) => s.type === 'endpoints').flatMap((s) => s.resourceNames)),
    );
    const assignments = edsNames.size > 0 ? await store.getEndpointAssignments([...edsNames]) : new Map();
    const convergence = convergenceOf(service, nodes, snapshot, assignments);
    services.push(withPlaintext ? await withPlaintextCallers(convergence, plaintext, nodesOf) : convergence);
  }
  return { services };
}

export interface NodesReportOptions {
  /**
   * Whether to add who calls permissive services in plaintext (default true): it reads the
   * whole catalog, which the reconciler's per-service convergence check does not need.
   */
  readonly plaintext?: boolean;
}

/**
 * withPlaintextCallers adds to a service's report, from the catalog's plaintext edges
 * (state/edges.ts), the callers that reach it in plaintext with their live nodes, and, on each
 * of its own nodes, the permissive services that node calls in plaintext.
 */
async function withPlaintextCallers(
  report: ServiceConvergence,
  plaintext: readonly PlaintextCaller[],
  nodesOf: (service: string) => Promise<readonly NodeStatus[]>,
): Promise<ServiceConvergence> {
  const callers: PlaintextCallerNodes[] = [];
  for (const { caller } of plaintext.filter((p) => p.service === report.service)) {
    callers.push({ caller, nodes: (await nodesOf(caller)).map((n) => n.nodeId).sort() });
  }
  const calls = plaintext.filter((p) => p.caller === report.service).map((p) => p.service);
  return {
    ...report,
    nodes: calls.length > 0 ? report.nodes.map((n) => ({ ...n, plaintextTo: calls })) : report.nodes,
    ...(callers.length > 0 ? { plaintextCallers: callers } : {}),
  };
}
