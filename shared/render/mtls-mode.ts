import { ServiceSpec } from '../model/spec';
import { mtlsModeOf } from '../model/service-terms';
import { EnvoyResource, typeUrls } from '../envoy/resources';
import { ListenerOptions, inboundListener, payloadFilter } from './listener';
import { names } from './names';
import { servicePolicy } from './policy';
import { RenderSettings } from './settings';

/**
 * Permissive mTLS (Istio's PERMISSIVE): while a live mesh turns mTLS on, a service accepts
 * both mTLS and plaintext on its inbound port. The TLS inspector peeks at the first bytes of
 * each connection, and the listener picks a filter chain by transport protocol: "tls" gets the
 * strict chain (client certificate required, the caller allow-list enforced), "raw_buffer" the
 * plaintext one. A plaintext connection carries no identity, so its chain has no allow-list
 * (as with mTLS off); it keeps a JWT check where one is declared. Its stats are under
 * `<statsPrefix>_plaintext`, so `http.inbound_plaintext.downstream_rq_total` counts exactly
 * the requests that still arrive in plaintext.
 */

const tlsInspectorType = 'type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector';

/** plaintextStatPrefix is where a permissive listener counts plaintext traffic. */
export const plaintextStatPrefix = (statsPrefix: string) => `${statsPrefix}_plaintext`;

/**
 * permissiveInboundListener has two filter chains on the inbound port: mTLS (with `secure`,
 * the strict options) and plaintext (with `plaintext`: no transport socket, no allow-list).
 * A client that sends nothing first (a server-first TCP protocol) goes to the plaintext chain
 * once the inspector gives up (listener_filters_timeout, Envoy's 15 s).
 */
export function permissiveInboundListener(
  spec: ServiceSpec,
  settings: RenderSettings,
  secure: ListenerOptions,
  plaintext: Pick<ListenerOptions, 'httpFilters'>,
): EnvoyResource {
  const prefix = servicePolicy(spec).statsPrefix;
  return {
    '@type': typeUrls.listeners,
    name: names.inboundListener,
    address: { socket_address: { address: '0.0.0.0', port_value: spec.inboundPort } },
    listener_filters: [{ name: 'envoy.filters.listener.tls_inspector', typed_config: { '@type': tlsInspectorType } }],
    continue_on_listener_filters_timeout: true,
    filter_chains: [
      {
        name: 'mtls',
        filter_chain_match: { transport_protocol: 'tls' },
        filters: [...(secure.networkFilters ?? []), payloadFilter(spec, prefix, settings, secure)],
        ...(secure.transportSocket ? { transport_socket: secure.transportSocket } : {}),
      },
      {
        name: 'plaintext',
        filter_chain_match: { transport_protocol: 'raw_buffer' },
        filters: [payloadFilter(spec, plaintextStatPrefix(prefix), settings, plaintext)],
      },
    ],
  };
}

/** inboundListenerFor is the service's inbound listener in its mTLS mode: one chain (strict, off) or two (permissive). */
export function inboundListenerFor(
  spec: ServiceSpec,
  settings: RenderSettings,
  secure: ListenerOptions,
  plaintext: Pick<ListenerOptions, 'httpFilters'>,
): EnvoyResource {
  return mtlsModeOf(spec) === 'permissive' ? permissiveInboundListener(spec, settings, secure, plaintext) : inboundListener(spec, settings, secure);
}
