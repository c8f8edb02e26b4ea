import { XdsTypeName, isXdsTypeName } from '../envoy/resources';
import { DiscoveryDeps, PollSummary, XdsAnswer, discover } from '../xds/discovery';
import { Principal } from '../xds/authorization';
import { RefusalKind, XdsRefusal } from '../xds/refusal';
import { parseDiscoveryRequest, xdsRequestOf } from '../xds/request';
import { HttpError, HttpRequest, HttpResponse, errorResponse, jsonResponse, parseJsonBody } from './http';

/**
 * The REST transport of xDS (`POST /v3/discovery:<type>`, the path of the type's `Fetch*` RPC):
 * it reads the HTTP request into the core's terms, asks the core (shared/xds/discovery.ts),
 * and maps its answer to a status: 200 with a DiscoveryResponse, 304, or the refusal's status.
 */

/** Envoy's node carries every compiled-in extension: several KB, rarely more than 64 KB. */
export const discoveryBodyLimitBytes = 1024 * 1024;

export const discoveryPathPrefix = '/v3/discovery:';

/** typeNameFromPath returns the type a REST discovery path asks for, or undefined. */
export function typeNameFromPath(path: string): XdsTypeName | undefined {
  if (!path.startsWith(discoveryPathPrefix)) return undefined;
  const name = path.slice(discoveryPathPrefix.length);
  return isXdsTypeName(name) ? name : undefined;
}

/** refusalStatus is the HTTP status of each kind of refusal. */
export const refusalStatus: Readonly<Record<RefusalKind, number>> = {
  'bad-request': 400,
  unauthenticated: 401,
  refused: 403,
  'not-found': 404,
  unavailable: 503,
};

export interface DiscoveryAnswer extends HttpResponse {
  readonly poll?: PollSummary;
}

/**
 * handleDiscovery answers one REST xDS poll. A path that names no type is a 404, a method
 * other than POST a 405, a body that is not a DiscoveryRequest a 400 (413 over the limit);
 * the rest is the core's answer. An unavailable answer tells the caller to retry in a second.
 */
export async function handleDiscovery(deps: DiscoveryDeps, req: HttpRequest, principal?: Principal): Promise<DiscoveryAnswer> {
  try {
    const type = typeNameFromPath(req.path);
    if (!type) {
      throw new HttpError(404, `no discovery service at ${req.path}; use /v3/discovery:<listeners|routes|clusters|endpoints|secrets>`);
    }
    if (req.method !== 'POST') throw new HttpError(405, `${req.method} is not allowed; Envoy's REST xDS uses POST`);
    const wire = parseDiscoveryRequest(parseJsonBody(req.body, discoveryBodyLimitBytes));
    return toHttp(await discover(deps, xdsRequestOf(type, wire), principal));
  } catch (err) {
    if (err instanceof XdsRefusal) return refusalResponse(err);
    return errorResponse(err);
  }
}

function toHttp(answer: XdsAnswer): DiscoveryAnswer {
  switch (answer.kind) {
    case 'refusal':
      return refusalResponse(answer.refusal);
    case 'not-modified':
      return { status: 304, poll: answer.poll };
    case 'response':
      return {
        ...jsonResponse(200, {
          version_info: answer.versionInfo,
          resources: answer.resources,
          type_url: answer.typeUrl,
          nonce: answer.nonce,
        }),
        poll: answer.poll,
      };
  }
}

/** refusalResponse is a refusal as HTTP: its status and a JSON body naming the problem. */
export function refusalResponse(refusal: XdsRefusal): HttpResponse {
  const status = refusalStatus[refusal.kind];
  const body = { error: refusal.message, ...(refusal.details ? { details: refusal.details } : {}) };
  return status === 503 ? { status, headers: { 'retry-after': '1' }, body } : jsonResponse(status, body);
}
