import { MeshStore } from '../store/mesh-store';
import { NodeStatus } from '../model/node-status';

/**
 * nodesReport tells, per service, which Envoys poll it and what they have applied. The
 * convergence view (who is on the latest version, and how long the last change took to
 * reach them) is built from the same node status items.
 */
export async function nodesReport(store: MeshStore, _now: Date): Promise<{ services: ServiceNodes[] }> {
  const services = await store.listServices();
  const out: ServiceNodes[] = [];
  for (const { spec } of services) {
    const nodes = await store.listNodeStatus(spec.name);
    out.push({ service: spec.name, nodes: nodes.sort((a, b) => (a.nodeId < b.nodeId ? -1 : 1)) });
  }
  return { services: out };
}

export interface ServiceNodes {
  readonly service: string;
  readonly nodes: NodeStatus[];
}
