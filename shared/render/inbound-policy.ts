import { EnvoyResource } from '../envoy/resources';
import { AllowedCallers, httpRbacFilter, rbacRules } from './rbac';
import { RenderSettings } from './settings';

/**
 * Who may call an HTTP service, kept out of its inbound listener. Envoy drains a listener's
 * connections whenever the listener changes, and the allow-list changes whenever a caller is
 * added or removed; so the listener carries an RBAC filter whose own rules never change (they
 * deny everything), and the allow-list rides on the inbound route configuration (RDS) as the
 * filter's per-route override (`RBACPerRoute`), which Envoy applies without touching listeners.
 *
 * TCP services keep their allow-list in the listener: the network RBAC filter has no per-route
 * form, and discovering it on its own (ECDS) needs an xDS type this control plane does not
 * serve. A caller change on a TCP service therefore still drains its inbound listener.
 */

const rbacFilterName = 'envoy.filters.http.rbac';
const rbacPerRouteType = 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBACPerRoute';

/** nobody is the allow-list that admits no caller: what the listener's own rules say when no route overrides them. */
const nobody: AllowedCallers = { any: false, services: [] };

/**
 * inboundRbacListenerFilter is the RBAC HTTP filter of an inbound listener: its rules deny
 * every request, so a route without the allow-list (none today) fails closed; they are the same
 * for every service and every caller set, so they never change the listener.
 */
export function inboundRbacListenerFilter(settings: RenderSettings): Record<string, unknown> {
  return httpRbacFilter(nobody, settings);
}

/** callerPolicyPerFilterConfig is the allow-list as the RBAC filter's per-route override. */
export function callerPolicyPerFilterConfig(allowed: AllowedCallers, settings: RenderSettings): Record<string, unknown> {
  return { [rbacFilterName]: { '@type': rbacPerRouteType, rbac: { rules: rbacRules(allowed, settings) } } };
}

/**
 * withCallerPolicy puts the allow-list on every virtual host of the inbound route
 * configuration, where it applies to each of its routes. Listeners that share the route
 * configuration but have no RBAC filter (the external listener, the plaintext chain of a
 * permissive listener) ignore it.
 */
export function withCallerPolicy(route: EnvoyResource, allowed: AllowedCallers, settings: RenderSettings): EnvoyResource {
  const perFilter = callerPolicyPerFilterConfig(allowed, settings);
  const hosts = (route.virtual_hosts as Record<string, unknown>[] | undefined) ?? [];
  return {
    ...route,
    virtual_hosts: hosts.map((h) => ({
      ...h,
      typed_per_filter_config: { ...((h.typed_per_filter_config as Record<string, unknown> | undefined) ?? {}), ...perFilter },
    })),
  };
}
