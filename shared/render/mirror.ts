import { Mirror } from '../model/spec-traffic';
import { names } from './names';
import { fractionalPercent } from './policy';

/**
 * Request mirroring: a share of a dependency's requests is copied to another dependency's
 * cluster, fire and forget (Envoy drops the answers, and adds "-shadow" to the copy's host).
 * The target is a dependency of the caller too (the spec requires it), so its cluster is
 * there and its allow-list admits the caller. Proxyless gRPC clients do not mirror: their
 * forms leave it out.
 */

/** requestMirror is the RouteAction fields that mirror, or nothing. */
export function requestMirror(mirror: Mirror | undefined): Record<string, unknown> {
  if (!mirror) return {};
  return {
    request_mirror_policies: [{ cluster: names.serviceCluster(mirror.service), runtime_fraction: { default_value: fractionalPercent(mirror.percent) } }],
  };
}
