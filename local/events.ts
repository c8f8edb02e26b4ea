import type { EventBridgeEvent } from 'aws-lambda';
import { HttpError, HttpResponse, parseJsonBody } from '../shared/api/http';
import { LifecycleEventError } from '../shared/lifecycle/envelope';
import { LifecycleOutcome, validateLifecycleEvent } from '../shared/lifecycle/handle';

/**
 * postEvents validates every event before applying any, so a malformed batch changes
 * nothing (400). Valid events are then applied one by one, as EventBridge delivers them: an
 * event that cannot be applied (an instance EC2 does not know, say) changes nothing itself
 * and is reported. One event: its answer (422 when it failed). A batch: 200 when every
 * event applied, else 207 with each event's own status, so nothing is applied unreported.
 */
export async function postEvents(
  body: string,
  bodyLimit: number,
  apply: (event: EventBridgeEvent<string, unknown>) => Promise<LifecycleOutcome>,
): Promise<HttpResponse> {
  const parsed = parseJsonBody(body, bodyLimit);
  const events = Array.isArray(parsed) ? parsed : [parsed];
  if (events.length === 0) throw new HttpError(400, 'no events: POST one EventBridge event or a non-empty array of them');
  const problems: string[] = [];
  for (const raw of events) {
    try {
      validateLifecycleEvent(raw);
    } catch (err) {
      if (err instanceof LifecycleEventError) problems.push(err.message);
      else throw err;
    }
  }
  if (problems.length > 0) return { status: 400, body: { error: 'rejected events; none were applied', problems } };
  const results: ({ status: 200 } & LifecycleOutcome | { status: 422; eventId: string; error: string })[] = [];
  for (const raw of events) {
    try {
      results.push({ status: 200, ...(await apply(raw as EventBridgeEvent<string, unknown>)) });
    } catch (err) {
      // In AWS the event would be retried and then dead-lettered; locally the caller sees why.
      if (!(err instanceof LifecycleEventError)) throw err;
      results.push({ status: 422, eventId: err.eventId, error: err.message });
    }
  }
  const failed = results.filter((r) => r.status !== 200);
  if (!Array.isArray(parsed)) {
    const [only] = results;
    return only!.status === 200 ? { status: 200, body: { results } } : { status: 422, body: { error: (only as { error: string }).error, eventId: only!.eventId } };
  }
  if (failed.length === 0) return { status: 200, body: { results } };
  return { status: 207, body: { error: `${failed.length} of ${results.length} events could not be applied; the others were`, results } };
}
