import { createHash } from 'node:crypto';
import { Endpoint } from '../model/endpoint';
import { EndpointView, clusterLoadAssignment, lbEndpoint } from '../render/endpoint';
import { EnvoyResource } from '../envoy/resources';
import { canonicalJson, contentVersion } from '../envoy/version';

/**
 * A service's rendered ClusterLoadAssignment is stored as shards (`SVC#<name> / EDS#<gen>#<i>`),
 * each small enough to be written with one write unit, under a small head (`SVC#<name> / EDS`):
 * an endpoint change rewrites the one shard its endpoint hashes to and adds its difference to
 * the head, so it costs the same units whatever the size of the service
 * (docs/table-layout.md, "Assignments in shards"). This module is the pure part: the stored
 * form of an endpoint, which shard it lives in, and the digest the served version is made of.
 */

/** AssignmentEntry is what a shard keeps of one endpoint: exactly what rendering reads (EndpointView), compactly. */
export interface AssignmentEntry {
  readonly i: string;
  readonly a: string;
  readonly p: number;
  readonly z?: string;
  readonly h: Endpoint['health'];
  readonly l?: Readonly<Record<string, string>>;
}

export function entryOf(ep: EndpointView): AssignmentEntry {
  return {
    i: ep.id,
    a: ep.address,
    p: ep.port,
    ...(ep.zone !== undefined ? { z: ep.zone } : {}),
    h: ep.health,
    ...(Object.keys(ep.labels).length > 0 ? { l: ep.labels } : {}),
  };
}

export function viewOf(entry: AssignmentEntry): EndpointView {
  return { id: entry.i, address: entry.a, port: entry.p, ...(entry.z !== undefined ? { zone: entry.z } : {}), health: entry.h, labels: { ...(entry.l ?? {}) } };
}

export const sameEntry = (a: AssignmentEntry | undefined, b: AssignmentEntry | undefined): boolean =>
  a === b || (a !== undefined && b !== undefined && canonicalJson(a) === canonicalJson(b));

/**
 * AssignmentDigest sums what an assignment holds: how many endpoints, two independent 32-bit
 * hashes of each summed (so the sum is the same in any order, and moves by one entry's hash
 * when one entry changes), and the JSON bytes its endpoints render to. The served version is
 * made of it (assignmentVersion): a writer that changes one entry can tell the new version
 * by adding the difference, without reading the others. Sums stay below 2^53 (2^21 entries of
 * under 2^32), so they are exact as JavaScript and DynamoDB numbers.
 */
export interface AssignmentDigest {
  readonly count: number;
  readonly sum1: number;
  readonly sum2: number;
  readonly bytes: number;
}

export const emptyDigest: AssignmentDigest = { count: 0, sum1: 0, sum2: 0, bytes: 0 };

export function entryDigest(entry: AssignmentEntry | undefined): AssignmentDigest {
  if (!entry) return emptyDigest;
  const hash = createHash('sha256').update(canonicalJson(entry)).digest();
  // One comma between rendered endpoints: the sum of these is the size of their lb_endpoints.
  return { count: 1, sum1: hash.readUInt32BE(0), sum2: hash.readUInt32BE(4), bytes: Buffer.byteLength(JSON.stringify(lbEndpoint(viewOf(entry)))) + 1 };
}

export const addDigest = (a: AssignmentDigest, b: AssignmentDigest): AssignmentDigest => ({
  count: a.count + b.count,
  sum1: a.sum1 + b.sum1,
  sum2: a.sum2 + b.sum2,
  bytes: a.bytes + b.bytes,
});

export const subtractDigest = (a: AssignmentDigest, b: AssignmentDigest): AssignmentDigest => ({
  count: a.count - b.count,
  sum1: a.sum1 - b.sum1,
  sum2: a.sum2 - b.sum2,
  bytes: a.bytes - b.bytes,
});

export const digestOf = (entries: readonly AssignmentEntry[]): AssignmentDigest => entries.map(entryDigest).reduce(addDigest, emptyDigest);

/**
 * assignmentVersion is the served version of an assignment with this digest: a hash of the
 * service and the digest, so the same endpoints give the same version in any process, and a
 * writer that knows the new digest knows the version without rendering the whole assignment.
 */
export function assignmentVersion(service: string, digest: AssignmentDigest): string {
  return contentVersion({ service, count: digest.count, sum1: digest.sum1, sum2: digest.sum2 });
}

/** shardIndexOf is the shard an endpoint lives in: FNV-1a of its id, modulo the shard count. */
export function shardIndexOf(id: string, shards: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    hash ^= id.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % Math.max(1, shards);
}

/** sortEntries orders a shard's entries by id, so equal shards are stored byte for byte alike. */
export const sortEntries = (entries: readonly AssignmentEntry[]): AssignmentEntry[] =>
  [...entries].sort((a, b) => (a.i < b.i ? -1 : a.i > b.i ? 1 : 0));

/** withEntry is a shard's entries with one endpoint's entry replaced, added, or (undefined) dropped. */
export function withEntry(entries: readonly AssignmentEntry[], id: string, entry: AssignmentEntry | undefined): AssignmentEntry[] {
  const others = entries.filter((e) => e.i !== id);
  return sortEntries(entry ? [...others, entry] : others);
}

/** assembleAssignment renders the assignment the shards hold: the same resource clusterLoadAssignment renders from the endpoints. */
export function assembleAssignment(service: string, shards: readonly (readonly AssignmentEntry[])[]): EnvoyResource {
  return clusterLoadAssignment(service, shards.flat().map(viewOf));
}

/**
 * planShards splits entries into the fewest shards (at least `minShards`) of which each `fits`,
 * starting from an estimate that fills shards about half (so endpoints can come and go before
 * one overflows), and growing the count while one does not fit. A shard of one entry that does
 * not fit is left as it is (an endpoint with very many labels): its writes cost more units.
 */
export function planShards(
  entries: readonly AssignmentEntry[],
  entryBytes: (entries: readonly AssignmentEntry[]) => number,
  budgetBytes: number,
  minShards = 1,
): AssignmentEntry[][] {
  const sample = entries.slice(0, 64);
  const perEntry = sample.length > 0 ? entryBytes(sample) / sample.length : 0;
  let count = Math.max(minShards, 1, Math.ceil((entries.length * perEntry) / (budgetBytes / 2)));
  for (let round = 0; ; round++) {
    const shards: AssignmentEntry[][] = Array.from({ length: count }, () => []);
    for (const entry of entries) shards[shardIndexOf(entry.i, count)]!.push(entry);
    const sorted = shards.map(sortEntries);
    const overflow = sorted.some((s) => s.length > 1 && entryBytes(s) > budgetBytes);
    if (!overflow || round >= 20) return sorted;
    count = Math.ceil(count * 1.5);
  }
}
