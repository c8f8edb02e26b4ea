import { removeService, declareService } from '../state/catalog';
import { MeshStore } from '../store/mesh-store';
import { RenderSettings } from '../render/settings';
import { serviceName } from '../model/spec';
import { HttpError, HttpRequest, HttpResponse, errorResponse, jsonResponse, parseJsonBody } from './http';
import { nodesReport } from './nodes';

/** The management API's body limit: a spec with hundreds of dependencies fits well under it. */
export const adminBodyLimitBytes = 256 * 1024;

export interface AdminApiDeps {
  readonly store: MeshStore;
  readonly settings: RenderSettings;
  readonly now?: () => Date;
}

/**
 * handleAdminRequest serves the management API: declare, read and delete service specs, and
 * see the fleet's nodes. Every client mistake is a 4xx naming the problem and writes nothing.
 */
export async function handleAdminRequest(deps: AdminApiDeps, req: HttpRequest): Promise<HttpResponse> {
  try {
    return await route(deps, req);
  } catch (err) {
    return errorResponse(err);
  }
}

async function route(deps: AdminApiDeps, req: HttpRequest): Promise<HttpResponse> {
  const segments = req.path.split('/').filter(Boolean);
  if (segments[0] === 'services' && segments.length === 1) {
    allow(req, ['GET']);
    const records = await deps.store.listServices();
    return jsonResponse(200, { services: records });
  }
  if (segments[0] === 'services' && segments.length === 2) {
    const name = decodeSegment(segments[1]!);
    allow(req, ['GET', 'PUT', 'DELETE']);
    if (!serviceName.safeParse(name).success) {
      throw new HttpError(400, `"${name}" is not a valid service name: it must be a DNS label`);
    }
    if (req.method === 'GET') {
      const record = await deps.store.getService(name);
      if (!record) throw new HttpError(404, `service "${name}" is not declared`);
      return jsonResponse(200, record);
    }
    if (req.method === 'PUT') {
      const body = parseJsonBody(req.body, adminBodyLimitBytes);
      const result = await declareService(deps.store, body, deps.settings, { expectedName: name });
      return jsonResponse(result.created ? 201 : 200, { ...result.record, rendered: result.rendered });
    }
    const removed = await removeService(deps.store, name);
    return jsonResponse(200, { deleted: removed.spec.name, revision: removed.revision });
  }
  if (segments[0] === 'nodes' && segments.length === 1) {
    allow(req, ['GET']);
    return jsonResponse(200, await nodesReport(deps.store, deps.now?.() ?? new Date()));
  }
  throw new HttpError(404, `no route for ${req.method} ${req.path}`);
}

function allow(req: HttpRequest, methods: string[]): void {
  if (!methods.includes(req.method)) {
    throw new HttpError(405, `${req.method} is not allowed on ${req.path}; use ${methods.join(', ')}`);
  }
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, `path segment "${segment}" is not valid percent-encoding`);
  }
}
