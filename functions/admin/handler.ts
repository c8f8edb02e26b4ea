import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { handleAdminRequest } from '../../shared/api/admin';
import { isMeshPagePath, meshPageAsset, MeshPageFiles } from '../../shared/api/mesh-page';
import { CertificateIssuer } from '../../shared/state/certificates';
import { ServiceTokens } from '../../shared/xds/authorization';
import { Runtime } from '../lib/runtime';
import { toHttpRequest, toLambdaResult } from '../lib/http-adapter';
import { createLogger, telemetry } from '../lib/telemetry';

export interface AdminExtras {
  /** Reads the mesh page's static files (functions/admin/page-files.ts): from beside the bundle in Lambda, from the source tree locally. */
  readonly pageFiles: MeshPageFiles;
  /** Issues certificates for declared services (mTLS); loaded once per container. */
  readonly certificates?: () => Promise<CertificateIssuer>;
  /** The local runner's per-service xDS tokens. */
  readonly tokens?: ServiceTokens;
  /** Where generated bootstraps point (the xDS function URL), and how they sign. */
  readonly bootstrap?: Parameters<typeof handleAdminRequest>[0]['bootstrap'];
}

/** createAdminHandler wires the management API (service specs, nodes, bootstraps) and the mesh page to a Lambda function URL. */
export function createAdminHandler(runtime: Runtime, extras: AdminExtras) {
  const logger = createLogger('admin');
  const handle = async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    if (isMeshPagePath(event.rawPath)) {
      const page = meshPageAsset(event.requestContext.http.method.toUpperCase(), event.rawPath, extras.pageFiles);
      return { statusCode: page.status, headers: { ...page.headers }, body: page.text };
    }
    const certificates = extras.certificates ? await extras.certificates() : undefined;
    const response = await handleAdminRequest(
      {
        store: runtime.store,
        settings: runtime.config.render,
        rebuilds: runtime.store,
        ...(certificates ? { certificates } : {}),
        ...(extras.tokens ? { tokens: extras.tokens } : {}),
        ...(extras.bootstrap ? { bootstrap: extras.bootstrap } : {}),
      },
      toHttpRequest(event),
    );
    if (response.status >= 500) logger.error('admin request failed', { path: event.rawPath, status: response.status });
    return toLambdaResult(response);
  };
  return middy(handle).use(telemetry(logger));
}

/**
 * readPushTier reads where the push tier listens (PUSH_TIER_HOST, the load balancer's DNS
 * name, and PUSH_TIER_PORT, default 443), set by the ControlPlane when it has one: ADS
 * bootstraps (`?tier=grpc`) then point at it. A malformed port fails the cold start.
 */
export function readPushTier(env: Readonly<Record<string, string | undefined>>): { readonly host: string; readonly port: number } | undefined {
  const host = env.PUSH_TIER_HOST;
  if (!host) return undefined;
  const port = Number(env.PUSH_TIER_PORT ?? '443');
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`PUSH_TIER_PORT must be a port number, got "${env.PUSH_TIER_PORT}"`);
  return { host, port };
}
