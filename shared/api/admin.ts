import { removeService, declareService } from '../state/catalog';
import { Repositories } from '../store/repositories';
import { RenderSettings } from '../render/settings';
import { serviceName } from '../model/spec';
import { HttpError, HttpRequest, HttpResponse, errorResponse, jsonResponse, parseJsonBody } from './http';
import { nodesReport } from './nodes';
import { endpointsReport } from './endpoints';
import { serviceConfig } from './config-view';
import { BootstrapOptions, envoyBootstrap } from '../bootstrap/envoy-bootstrap';
import { localClusterName, localServiceCluster } from '../render/cluster';
import { bootstrapTelemetry } from '../render/stats';
import { CertificateIssuer } from '../state/certificates';
import { ServiceTokens } from '../xds/authorization';
import { RebuildRepository } from '../store/rebuilds';
import { rebuildReport, startRebuild } from './rebuild';

/** The management API's body limit: a spec with hundreds of dependencies fits well under it. */
export const adminBodyLimitBytes = 256 * 1024;

export interface AdminApiDeps {
  readonly store: Repositories;
  readonly settings: RenderSettings;
  /**
   * What generated bootstraps point at. Without a URL (the local runner), the bootstrap points
   * at the host the request came to, over plain HTTP. ADS bootstraps (`?tier=grpc`) point at
   * `adsPort` on the host the request came to (the local runner's `--grpc-port`); without it and
   * without `pushTier`, there is no push tier to point at.
   * In AWS, `pushTier` (the push tier's load balancer) makes them mutual TLS to it, with SDS
   * from the signed front door at `controlPlaneUrl` (envoy-bootstrap.ts, BootstrapOptions.pushTier).
   */
  readonly bootstrap?: Pick<BootstrapOptions, 'signing' | 'ldsRefreshDelay' | 'cdsRefreshDelay' | 'pushTier'> & {
    readonly controlPlaneUrl?: string;
    readonly adsPort?: number;
  };
  /** Issues each declared service its certificate (mTLS); without it, no certificates are issued here. */
  readonly certificates?: CertificateIssuer;
  /** The local runner's per-service xDS tokens (`POST /services/{name}/token`); absent in AWS, which uses IAM. */
  readonly tokens?: ServiceTokens;
  /** Where the fleet rebuild stands (`GET /rebuild`) and where an operator asks for one (`POST /rebuild`). */
  readonly rebuilds?: RebuildRepository;
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
      const [record, rollouts] = await Promise.all([deps.store.getService(name), deps.store.listRollouts()]);
      if (!record) throw new HttpError(404, `service "${name}" is not declared`);
      // Rollouts it declares, and rollouts of its traffic declared by its callers: their steps and decisions.
      const its = rollouts.map((r) => r.state).filter((r) => r.owner === name || r.service === name);
      return jsonResponse(200, { ...record, ...(its.length > 0 ? { rollouts: its } : {}) });
    }
    if (req.method === 'PUT') {
      const body = parseJsonBody(req.body, adminBodyLimitBytes);
      // The spec is the commit point, then the certificate (re-issued at once when roles were
      // revoked); one missing after a crash is issued by the next declare or the scheduled
      // renewal, and SDS answers 503 (retry) until then.
      const result = await declareService(deps.store, body, deps.settings, {
        expectedName: name,
        ...(deps.certificates ? { certificates: { issuer: deps.certificates, store: deps.store } } : {}),
      });
      return jsonResponse(result.created ? 201 : 200, { ...result.record, rendered: result.rendered });
    }
    const removed = await removeService(deps.store, name, deps.settings);
    return jsonResponse(200, { deleted: removed.spec.name, revision: removed.revision });
  }
  if (segments[0] === 'services' && segments.length === 3 && segments[2] === 'token') {
    allow(req, ['POST']);
    const name = decodeSegment(segments[1]!);
    if (!deps.tokens) throw new HttpError(404, 'xDS tokens are not used here: callers authenticate with IAM');
    if (!serviceName.safeParse(name).success || !(await deps.store.getService(name))) {
      throw new HttpError(404, `service "${name}" is not declared`);
    }
    return jsonResponse(200, { service: name, token: deps.tokens.issue(name) });
  }
  if ((segments[0] === 'nodes' || segments[0] === 'endpoints') && segments.length === 1) {
    allow(req, ['GET']);
    const only = req.query.service;
    if (only !== undefined && !serviceName.safeParse(only).success) {
      throw new HttpError(400, `"${only}" is not a valid service name: it must be a DNS label`);
    }
    if (only !== undefined && !(await deps.store.getService(only))) throw new HttpError(404, `service "${only}" is not declared`);
    return jsonResponse(200, segments[0] === 'nodes' ? await nodesReport(deps.store, only) : await endpointsReport(deps.store, only));
  }
  if (segments[0] === 'config' && segments.length === 2) {
    allow(req, ['GET']);
    const name = decodeSegment(segments[1]!);
    if (!serviceName.safeParse(name).success) throw new HttpError(400, `"${name}" is not a valid service name: it must be a DNS label`);
    return jsonResponse(200, await serviceConfig(deps.store, name, req.query.type));
  }
  if (segments[0] === 'rebuild' && segments.length === 1) {
    allow(req, ['GET', 'POST']);
    if (!deps.rebuilds) throw new HttpError(404, 'no fleet rebuild here');
    if (req.method === 'GET') return jsonResponse(200, await rebuildReport(deps.rebuilds, deps.settings));
    // Accepted: the rebuild function's next tick (a minute at most; the local runner: at once) starts it.
    return jsonResponse(202, await startRebuild(deps.rebuilds, deps.settings, (deps.now ?? (() => new Date()))()));
  }
  if (segments[0] === 'bootstrap' && segments.length === 2) {
    allow(req, ['GET']);
    return jsonResponse(200, await bootstrapFor(deps, req, decodeSegment(segments[1]!)));
  }
  throw new HttpError(404, `no route for ${req.method} ${req.path}`);
}

const nodeIdPattern = /^[A-Za-z0-9._:-]{1,128}$/;
const zonePattern = /^[a-z0-9-]{1,64}$/;

/**
 * bootstrapFor renders the Envoy bootstrap of one node of a declared service
 * (`?node=<id>&zone=<az>&tier=rest|grpc`): REST polls, or one ADS stream to the push tier.
 */
async function bootstrapFor(deps: AdminApiDeps, req: HttpRequest, service: string): Promise<Record<string, unknown>> {
  const tier = req.query.tier ?? 'rest';
  if (tier !== 'rest' && tier !== 'grpc') throw new HttpError(400, `query parameter "tier" must be rest or grpc, got "${tier}"`);
  const record = await deps.store.getService(service);
  if (!record) throw new HttpError(404, `service "${service}" is not declared`);
  const nodeId = req.query.node;
  if (!nodeId || !nodeIdPattern.test(nodeId)) {
    throw new HttpError(400, 'query parameter "node" is required: the Envoy\'s unique id (letters, digits, ".", "_", ":", "-"; up to 128)');
  }
  const zone = req.query.zone;
  if (zone !== undefined && !zonePattern.test(zone)) throw new HttpError(400, `query parameter "zone" is not an availability zone: "${zone}"`);
  // With a push tier in AWS, the ADS bootstrap keeps the front door (for SDS) beside the stream.
  const pushTier = tier === 'grpc' ? deps.bootstrap?.pushTier : undefined;
  const controlPlaneUrl = tier === 'grpc' && !pushTier ? adsUrl(deps, req) : restUrl(deps, req);
  const { adsPort: _port, pushTier: _push, signing, ...common } = deps.bootstrap ?? {};
  return envoyBootstrap(
    {
      ...common,
      // gRPC carries no SigV4: the stream itself is mutual TLS; only the REST tier's polls are signed.
      ...(signing && (tier === 'rest' || pushTier) ? { signing } : {}),
      ...(pushTier ? { pushTier } : {}),
      tier,
      service,
      nodeId,
      ...(zone ? { zone } : {}),
      controlPlaneUrl,
      // Under the local `--auth token`, the node proves its service with that service's token.
      ...(deps.tokens ? { bearerToken: deps.tokens.issue(service) } : {}),
      ...(localClusterName(record.spec) ? { localCluster: localServiceCluster(record.spec, deps.settings) } : {}),
      telemetry: bootstrapTelemetry(record.spec, deps.settings),
    },
    deps.settings,
  );
}

function restUrl(deps: AdminApiDeps, req: HttpRequest): string {
  const host = req.headers.host;
  const url = deps.bootstrap?.controlPlaneUrl ?? (host ? `http://${host}` : undefined);
  if (!url) throw new HttpError(400, 'no control plane URL is configured and the request has no Host header');
  return url;
}

function adsUrl(deps: AdminApiDeps, req: HttpRequest): string {
  const port = deps.bootstrap?.adsPort;
  if (port === undefined) throw new HttpError(404, 'this control plane has no push tier (ADS over gRPC) to point a bootstrap at; use tier=rest');
  const host = req.headers.host;
  if (!host) throw new HttpError(400, 'the request has no Host header to point the ADS bootstrap at');
  let hostname: string;
  try {
    hostname = new URL(`http://${host}`).hostname;
  } catch {
    throw new HttpError(400, `the Host header "${host.slice(0, 200)}" is not a host`);
  }
  return `http://${hostname}:${port}`;
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
