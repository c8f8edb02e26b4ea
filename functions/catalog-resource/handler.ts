import middy from '@middy/core';
import type { CloudFormationCustomResourceEvent, CloudFormationCustomResourceResponse } from 'aws-lambda';
import { NotFoundError } from '../../shared/errors';
import { serviceName } from '../../shared/model/spec';
import { RenderSettings } from '../../shared/render/settings';
import { declareService, removeService } from '../../shared/state/catalog';
import { CertificateIssuer } from '../../shared/state/certificates';
import { CatalogStore } from '../../shared/state/catalog';
import { CertificateRepository } from '../../shared/store/repositories';
import { createLogger, telemetry } from '../lib/telemetry';

export interface CatalogResourceDeps {
  readonly store: CatalogStore & CertificateRepository;
  readonly settings: RenderSettings;
  /** Issues each declared service its certificate (mTLS), as the management API does; loaded once per container. */
  readonly certificates?: () => Promise<CertificateIssuer>;
  /** Delivers the answer to CloudFormation's pre-signed URL; replaced in tests only to point at a local server. */
  readonly respond?: (url: string, response: CloudFormationCustomResourceResponse) => Promise<void>;
}

/** The properties a MeshService resource carries (CloudFormation passes every value as a string). */
export interface MeshServiceProperties {
  /** The spec as JSON: a string survives CloudFormation unchanged, where numbers would become strings. */
  readonly Spec: string;
}

/**
 * CloudFormation caps the whole response at 4096 bytes; the reason is the part that can grow
 * (one problem per field), so it is cut to leave room for the ids.
 */
const maxReasonLength = 2048;

/**
 * createCatalogResourceHandler serves the MeshService custom resource. Create and Update go
 * through `declareService` (and issue the service's certificate), Delete through
 * `removeService`: the same validation and writes as the management API, so a rejected spec
 * fails the deployment with the message the API gives.
 * The physical id is the service name: renaming a service is a replacement, and CloudFormation
 * deletes the old name once the new one is declared.
 */
export function createCatalogResourceHandler(deps: CatalogResourceDeps) {
  const logger = createLogger('catalog-resource');
  const respond = deps.respond ?? putResponse;

  const apply = async (event: CloudFormationCustomResourceEvent): Promise<{ physicalId: string; data?: Record<string, string> }> => {
    if (event.RequestType === 'Delete') {
      const name = event.PhysicalResourceId;
      // A create that failed leaves no service behind: nothing to remove under an id that is no service name.
      if (!serviceName.safeParse(name).success) return { physicalId: name };
      try {
        await removeService(deps.store, name, deps.settings);
      } catch (err) {
        // Already gone (removed through the API, or never declared): the goal of a delete is met.
        if (!(err instanceof NotFoundError)) throw err;
      }
      return { physicalId: name };
    }
    const spec = parseSpecProperty(event.ResourceProperties as unknown as MeshServiceProperties);
    // As in the management API: the spec is the commit point, then the certificate (re-issued
    // at once when the change revoked roles).
    const issuer = deps.certificates ? await deps.certificates() : undefined;
    const result = await declareService(deps.store, spec, deps.settings, issuer ? { certificates: { issuer, store: deps.store } } : {});
    return {
      physicalId: result.record.spec.name,
      data: { Name: result.record.spec.name, Revision: String(result.record.revision) },
    };
  };

  const handle = async (event: CloudFormationCustomResourceEvent): Promise<CloudFormationCustomResourceResponse> => {
    const base = {
      StackId: event.StackId,
      RequestId: event.RequestId,
      LogicalResourceId: event.LogicalResourceId,
    };
    let response: CloudFormationCustomResourceResponse;
    try {
      const { physicalId, data } = await apply(event);
      response = { ...base, Status: 'SUCCESS', PhysicalResourceId: physicalId, ...(data ? { Data: data } : {}) };
      logger.info('mesh service applied', { requestType: event.RequestType, service: physicalId });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      logger.error('mesh service failed', { requestType: event.RequestType, error: err as Error });
      response = {
        ...base,
        Status: 'FAILED',
        Reason: message.length > maxReasonLength ? `${message.slice(0, maxReasonLength - 1)}…` : message,
        // On a failed create CloudFormation needs some id; the logical id names no service.
        PhysicalResourceId: 'PhysicalResourceId' in event ? event.PhysicalResourceId : event.LogicalResourceId,
      };
    }
    await respond(event.ResponseURL, response);
    return response;
  };
  return middy(handle).use(telemetry(logger));
}

/** parseSpecProperty reads the spec JSON the MeshService construct wrote. */
function parseSpecProperty(properties: MeshServiceProperties): unknown {
  if (typeof properties.Spec !== 'string') throw new Error('the MeshService resource has no Spec property');
  try {
    return JSON.parse(properties.Spec);
  } catch (err) {
    throw new Error(`the MeshService resource's Spec is not JSON: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * putResponse answers CloudFormation: a PUT of the response to the pre-signed S3 URL. The
 * content type is empty because the URL was signed without one.
 */
export async function putResponse(url: string, response: CloudFormationCustomResourceResponse): Promise<void> {
  const body = JSON.stringify(response);
  const res = await fetch(url, { method: 'PUT', body, headers: { 'content-type': '' } });
  if (!res.ok) throw new Error(`CloudFormation response upload failed with HTTP ${res.status}`);
}
