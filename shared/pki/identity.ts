import { ValidationError } from '../errors';

/**
 * A mesh's name is its SPIFFE trust domain: lowercase letters, digits, '.', '-' and '_'
 * (SPIFFE-ID spec §2.1). Capped at 64 characters because it is also the certificates'
 * organizationName, whose X.509 upper bound is 64 (RFC 5280 ub-organization-name).
 */
const TRUST_DOMAIN = /^[a-z0-9]([a-z0-9._-]{0,62}[a-z0-9])?$/;

/** defaultMeshName is the trust domain when the deployment sets none (env MESH_NAME). */
export const defaultMeshName = 'mesh.local';

/** parseMeshName checks a configured mesh name; the error says what a valid one looks like. */
export function parseMeshName(raw: string): string {
  if (!TRUST_DOMAIN.test(raw)) {
    throw new ValidationError('mesh name', [
      { path: 'MESH_NAME', message: 'must be a SPIFFE trust domain: 1-64 lowercase letters, digits, ".", "-" or "_", alphanumeric at both ends' },
    ]);
  }
  return raw;
}

/**
 * spiffeId is the identity a service's certificate proves, `spiffe://<mesh>/service/<name>`:
 * callers pin it when they verify the peer, so it must be derived the same way everywhere.
 */
export const spiffeId = (mesh: string, service: string) => `spiffe://${mesh}/service/${service}`;

/**
 * pushTierIdentityName is the name in the push tier's own certificate
 * (`spiffe://<mesh>/service/_xds`). A service name cannot start with '_', so no node of the
 * mesh is ever issued this identity, and a node can pin it when it verifies the server.
 */
export const pushTierIdentityName = '_xds';
