import { Endpoint, EndpointChange } from '../model/endpoint';
import { StoredEndpoint } from '../store/records';

/**
 * A Repair is one write the reconciler makes to bring the table in line with what AWS shows.
 * `add`, `update` and `remove` come from an observation and are ordered like events (the
 * store drops them if newer state is there). `drain` and `expire` concern endpoints AWS no
 * longer shows; they are compare-and-set on the state the reconciler read, and keep its
 * ordering key, so any newer event still wins over them.
 */
export type Repair =
  | { readonly kind: 'add' | 'update' | 'remove'; readonly change: EndpointChange }
  | {
      readonly kind: 'drain' | 'expire';
      readonly change: EndpointChange;
      readonly expected: { readonly orderingKey: number; readonly health: Endpoint['health'] };
    };

export interface PlanInput {
  readonly stored: readonly StoredEndpoint[];
  /**
   * What AWS shows, by endpoint id: the change it means, or undefined for an instance that
   * is there but not an endpoint (still starting).
   */
  readonly observed: ReadonlyMap<string, EndpointChange | undefined>;
  /** Whether an endpoint id belongs to what was fully listed (so its absence means it vanished). */
  readonly covers: (endpointId: string) => boolean;
  readonly runId: string;
  readonly now: Date;
  /** Stored state younger than this may be news the listing has not caught up with: never vanished. */
  readonly settleMs: number;
  /** How long a vanished endpoint drains before it is removed. */
  readonly drainMs: number;
}

/**
 * planRepairs diffs one service's stored endpoints against AWS's view. The rules:
 * - an observed endpoint that is missing, or differs from the stored one, is written with the
 *   observation's ordering key (a task's `version`, an instance's observation time), so state
 *   that an event wrote later is never overwritten;
 * - a stored live endpoint that AWS no longer shows (in what was listed in full), and whose
 *   state is older than the settle time, vanished: first it drains; once it has drained for
 *   the drain period (counted from when it started draining, by event or by a previous run)
 *   it is removed, leaving a tombstone.
 * Nothing else is touched: tombstones stay, and endpoints outside the listing's scope stay.
 */
export function planRepairs(input: PlanInput): Repair[] {
  const repairs: Repair[] = [];
  const stored = new Map(input.stored.map((s) => [s.id, s]));
  for (const [id, change] of [...input.observed].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (!change) continue;
    const repair = repairOfObservation(stored.get(id), change);
    if (repair) repairs.push(repair);
  }
  for (const s of input.stored) {
    if (s.removed || input.observed.has(s.id) || !input.covers(s.id)) continue;
    const age = input.now.getTime() - Date.parse(s.endpoint.source.eventTime);
    if (!(age >= input.settleMs)) continue;
    const expected = { orderingKey: s.orderingKey, health: s.endpoint.health };
    const source: Endpoint['source'] = {
      kind: 'reconciler',
      eventId: input.runId,
      eventTime: input.now.toISOString(),
      orderingKey: s.orderingKey,
    };
    if (s.endpoint.health !== 'draining') {
      repairs.push({ kind: 'drain', expected, change: { kind: 'upsert', endpoint: { ...s.endpoint, health: 'draining', source } } });
    } else if (age >= input.drainMs) {
      repairs.push({ kind: 'expire', expected, change: { kind: 'remove', service: s.service, id: s.id, source } });
    }
  }
  return repairs;
}

function repairOfObservation(stored: StoredEndpoint | undefined, change: EndpointChange): Repair | undefined {
  const key = change.kind === 'upsert' ? change.endpoint.source.orderingKey : change.source.orderingKey;
  if (change.kind === 'remove') {
    return stored && !stored.removed && stored.orderingKey < key ? { kind: 'remove', change } : undefined;
  }
  if (!stored) return { kind: 'add', change };
  if (stored.removed) return stored.orderingKey < key ? { kind: 'add', change } : undefined;
  if (sameEndpoint(stored.endpoint, change.endpoint)) return undefined;
  return stored.orderingKey < key ? { kind: 'update', change } : undefined;
}

/** sameEndpoint compares what Envoy sees of an endpoint (not where the state came from). */
export function sameEndpoint(a: Endpoint, b: Endpoint): boolean {
  return (
    a.address === b.address &&
    a.port === b.port &&
    a.zone === b.zone &&
    a.health === b.health &&
    JSON.stringify(sortedEntries(a.labels)) === JSON.stringify(sortedEntries(b.labels))
  );
}

const sortedEntries = (labels: Record<string, string>) => Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1));
