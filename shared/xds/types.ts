import { XdsTypeName, isXdsTypeName } from '../envoy/resources';

/**
 * Envoy's REST client POSTs to the path of the type's `Fetch*` RPC, e.g.
 * `/v3/discovery:clusters`.
 */
export const discoveryPathPrefix = '/v3/discovery:';

/** typeNameFromPath returns the type a REST discovery path asks for, or undefined. */
export function typeNameFromPath(path: string): XdsTypeName | undefined {
  if (!path.startsWith(discoveryPathPrefix)) return undefined;
  const name = path.slice(discoveryPathPrefix.length);
  return isXdsTypeName(name) ? name : undefined;
}
