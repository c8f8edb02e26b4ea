import { fittingEndpoints } from '../state/endpoints';
import { AssignmentDigest, addDigest, digestOf, emptyDigest, entryOf, sameEntry, shardIndexOf } from '../store/assignment-shards';
import { EndpointState } from '../store/records';

/**
 * AssignmentCheck is what the reconciler makes of a service's stored assignment against its
 * endpoints, read together in one Query: whether it must be rendered in full (and why), and
 * which shards of older generations a render left behind (harmless to readers, which read
 * only the head's generation; deleted to keep the partition small).
 */
export interface AssignmentCheck {
  readonly render?: string;
  readonly leftovers: readonly { readonly generation: number; readonly index: number }[];
}

/**
 * checkAssignment finds drift between a service's endpoints and the assignment folded from
 * them: a fold that stopped between its writes (a crash, a timeout), a shard that is missing
 * or holds what it should not, a head whose digest is not its shards', or shards far more
 * numerous than the endpoints they hold (a service that shrank: its polls read empty shards).
 * A fold in flight while it read can look like drift: the render it asks for is then merely
 * redundant, never wrong.
 */
export function checkAssignment(service: string, state: EndpointState, maxBytes: number): AssignmentCheck {
  const layout = state.head?.layout;
  const leftovers = state.shards
    .filter((s) => layout !== undefined && s.generation < layout.generation)
    .map(({ generation, index }) => ({ generation, index }));
  if (!layout) return { render: state.head?.legacy ? 'stored whole, before shards' : 'not rendered yet', leftovers };
  const live = state.endpoints.flatMap((s) => (s.removed ? [] : [s.endpoint]));
  const served = layout.overLimit > 0 ? fittingEndpoints(service, live, maxBytes).kept : live;
  const current = state.shards.filter((s) => s.generation === layout.generation);
  if (current.length !== layout.shards || current.some((s, i) => s.index !== i)) return { render: 'a shard is missing', leftovers };
  const expected = new Map(served.map((ep) => [ep.id, entryOf(ep)]));
  for (const shard of current) {
    for (const entry of shard.entries) {
      if (shardIndexOf(entry.i, layout.shards) !== shard.index) return { render: `shard ${shard.index} holds ${entry.i}, which is not its`, leftovers };
      if (!sameEntry(entry, expected.get(entry.i))) return { render: `shard ${shard.index} holds ${entry.i} not as stored`, leftovers };
    }
  }
  const held = current.reduce((n, s) => n + s.entries.length, 0);
  if (held !== expected.size) return { render: `${expected.size - held} endpoint(s) missing from the shards`, leftovers };
  const shardsDigest = current.map((s) => s.digest).reduce<AssignmentDigest>(addDigest, emptyDigest);
  const truth = digestOf([...expected.values()]);
  if (!sameDigest(shardsDigest, truth) || !sameDigest(layout.digest, truth)) return { render: 'the digest does not match the endpoints', leftovers };
  if (layout.shards > 1 && layout.shards > 2 * Math.max(1, expected.size)) return { render: `${layout.shards} shards for ${expected.size} endpoint(s)`, leftovers };
  return { leftovers };
}

const sameDigest = (a: AssignmentDigest, b: AssignmentDigest) => a.count === b.count && a.sum1 === b.sum1 && a.sum2 === b.sum2 && a.bytes === b.bytes;
