import type { ServiceSpec } from '../model/spec';
import { mtlsEnabledOf } from '../model/service-terms';
import { pushTierIdentityName, spiffeId } from '../pki/identity';
import { names } from './names';
import { servicePolicy } from './policy';
import { RenderSettings } from './settings';

const httpRbacType = 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC';
const networkRbacType = 'type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC';

/**
 * Who may call a service, as Envoy RBAC on its inbound listener. The caller is identified by
 * the URI SAN of the client certificate the mTLS handshake verified (`authenticated.principal_name`
 * reads the URI SAN first), so RBAC is only rendered where mTLS is on.
 */

/** AllowedCallers is a service's resolved allow-list: any mesh service, or exactly these (sorted). */
export type AllowedCallers = { readonly any: true } | { readonly any: false; readonly services: readonly string[] };

/**
 * allowedCallers resolves the allow-list: the spec's explicit `inbound.allowedCallers`, else
 * the services that depend on this one (`callers`, the strict mesh default). Undefined when
 * mTLS is off: without a verified certificate there is no identity to match.
 */
export function allowedCallers(spec: ServiceSpec, callers: readonly string[]): AllowedCallers | undefined {
  if (!mtlsEnabledOf(spec)) return undefined;
  const declared = spec.inbound?.allowedCallers;
  if (declared?.includes('*')) return { any: true };
  return { any: false, services: [...new Set(declared ?? callers)].sort() };
}

/** rbacRules is one ALLOW policy over the callers' identities; no callers means no policy, which denies everything. */
export function rbacRules(allowed: AllowedCallers, settings: RenderSettings): Record<string, unknown> {
  const principals = allowed.any
    ? // The trust bundle already limits peers to the mesh CA; the prefix limits them to service
      // identities, less the push tier's own (`_xds`): it is a server, never a caller.
      [
        {
          and_ids: {
            ids: [
              { authenticated: { principal_name: { prefix: `spiffe://${settings.meshName}/service/` } } },
              { not_id: { authenticated: { principal_name: { exact: spiffeId(settings.meshName, pushTierIdentityName) } } } },
            ],
          },
        },
      ]
    : allowed.services.map((s) => ({ authenticated: { principal_name: { exact: spiffeId(settings.meshName, s) } } }));
  // rbac.proto: with action ALLOW, "allows the request if and only if there is a policy that
  // matches", so an empty policy map denies every request (a Policy needs at least one principal).
  const policies = principals.length === 0 ? {} : { [names.allowedCallersPolicy]: { permissions: [{ any: true }], principals } };
  return { action: 'ALLOW', policies };
}

/** httpRbacFilter is the HTTP filter that answers 403 to a caller not on the allow-list; stats under `http.<prefix>.rbac.`. */
export function httpRbacFilter(allowed: AllowedCallers, settings: RenderSettings): Record<string, unknown> {
  return {
    name: 'envoy.filters.http.rbac',
    typed_config: { '@type': httpRbacType, rules: rbacRules(allowed, settings) },
  };
}

/**
 * networkRbacFilter closes a TCP connection from a caller not on the allow-list. Envoy checks
 * it when the first bytes arrive from the caller; its stats are `<statsPrefix>.rbac.allowed|denied`.
 */
export function networkRbacFilter(spec: ServiceSpec, allowed: AllowedCallers, settings: RenderSettings): Record<string, unknown> {
  return {
    name: 'envoy.filters.network.rbac',
    typed_config: { '@type': networkRbacType, stat_prefix: servicePolicy(spec).statsPrefix, rules: rbacRules(allowed, settings) },
  };
}
