import { Faults } from '../model/spec-traffic';
import { duration, fractionalPercent } from './policy';

/**
 * Fault injection (Envoy's fault HTTP filter, which gRPC clients implement too, A33): on the
 * caller's side of one dependency, hold a share of requests for a fixed delay, answer a share
 * with an error. The filter sits in that dependency's own HTTP connection manager, so it
 * touches no other traffic.
 */

const faultType = 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault';
export const faultFilterName = 'envoy.filters.http.fault';

/** faultFilter is the HTTP filter entry that injects the declared faults. */
export function faultFilter(faults: Faults): Record<string, unknown> {
  return { name: faultFilterName, typed_config: httpFault(faults) };
}

/**
 * faultFilterWithoutFaults is the filter entry for a connection manager that serves several
 * dependencies (transparent mode): it injects nothing by itself, and each dependency's virtual
 * host carries its faults (faultPerRoute), which Envoy's filter prefers to its own settings.
 */
export function faultFilterWithoutFaults(): Record<string, unknown> {
  return { name: faultFilterName, typed_config: { '@type': faultType } };
}

/** faultPerRoute is a virtual host's or route's `typed_per_filter_config` with the declared faults. */
export function faultPerRoute(faults: Faults): Record<string, unknown> {
  return { [faultFilterName]: httpFault(faults) };
}

/** httpFault is the HTTPFault message of the declared faults. */
function httpFault(faults: Faults): Record<string, unknown> {
  const { delay, abort } = faults;
  return {
    '@type': faultType,
    ...(delay ? { delay: { fixed_delay: duration(delay.fixedDelayMs), percentage: fractionalPercent(delay.percent) } } : {}),
    ...(abort
      ? {
          abort: {
            ...(abort.grpcStatus !== undefined ? { grpc_status: abort.grpcStatus } : { http_status: abort.httpStatus }),
            percentage: fractionalPercent(abort.percent),
          },
        }
      : {}),
  };
}
