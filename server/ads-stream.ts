import { XdsTypeName } from '../shared/envoy/resources';
import { DiscoveryRequest } from '../shared/xds/request';
import { XdsStream } from './xds-stream';

/** What a state-of-the-world stream says back, in the core's terms: the server encodes it. */
export interface StreamResponse {
  readonly version_info: string;
  readonly resources: readonly Record<string, unknown>[];
  readonly type_url: string;
  readonly nonce: string;
}

interface TypeState {
  names: readonly string[];
  /** The version_info the client last reported (what it has applied; '' before its first). */
  applied: string;
  /** What we last sent, and the names it answered: the same version is never sent twice. */
  sentVersion?: string;
  sentNames?: string;
  /** The nonce of a response not yet ACKed or NACKed: nothing more of this type is sent until it is. */
  pendingNonce?: string;
  /** The client's error_detail of its last NACK, passed to the core once. */
  errorDetail?: { code?: number; message?: string };
}

/**
 * AdsStream is the state of the world protocol of one `StreamAggregatedResources` stream: per
 * type what it subscribes, what it applied and what is in flight. The core is asked with the
 * version the client has applied, so versions, hold-backs and NACK records are the REST tier's.
 *
 * Rules of the protocol kept here: a request whose nonce is not that of the last response of
 * its type is stale and ignored; while a response is un-ACKed no newer one of its type is
 * sent (it is sent after the ACK or NACK); a NACKed version is not sent again; a version
 * already sent for the same names is not resent.
 */
export class AdsStream extends XdsStream<DiscoveryRequest, StreamResponse> {
  private readonly types = new Map<XdsTypeName, TypeState>();

  subscribed(): ReadonlyMap<XdsTypeName, readonly string[]> {
    return new Map([...this.types].map(([t, s]) => [t, s.names]));
  }

  protected has(type: XdsTypeName): boolean {
    return this.types.has(type);
  }

  protected async handle(type: XdsTypeName, request: DiscoveryRequest): Promise<void> {
    const state = this.types.get(type) ?? { names: [], applied: '' };
    this.types.set(type, state);
    const nonce = request.response_nonce ?? '';
    if (state.pendingNonce !== undefined) {
      if (nonce !== state.pendingNonce) return; // stale: it answers an older response
      state.pendingNonce = undefined;
      if (request.error_detail) state.errorDetail = request.error_detail;
    }
    state.applied = request.version_info ?? '';
    state.names = [...new Set(request.resource_names ?? [])].sort();
    // An ACK may release another type (listeners wait for their clusters): look at all of them.
    await this.evaluateAll(type);
  }

  protected async evaluate(type: XdsTypeName): Promise<void> {
    const state = this.types.get(type)!;
    if (state.pendingNonce !== undefined) return; // sent again after its ACK or NACK
    const errorDetail = state.errorDetail;
    state.errorDetail = undefined;
    const answer = await this.ask(type, state.names, state.applied, errorDetail);
    if (answer?.kind !== 'response') return;
    const namesKey = state.names.join('\n');
    if (answer.versionInfo === state.sentVersion && namesKey === state.sentNames) return;
    const nonce = this.nextNonce(answer.nonce);
    state.pendingNonce = nonce;
    state.sentVersion = answer.versionInfo;
    state.sentNames = namesKey;
    this.io.send({ version_info: answer.versionInfo, resources: answer.resources, type_url: answer.typeUrl, nonce });
  }
}
