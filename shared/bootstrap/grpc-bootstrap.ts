import { names, proxylessServerListenerTemplate } from '../render/names';

/**
 * The bootstrap of a proxyless gRPC node (gRFC A27, A29, A36): the JSON gRPC reads from the file
 * named by `GRPC_XDS_BOOTSTRAP` (or inline from `GRPC_XDS_BOOTSTRAP_CONFIG`). It names the push
 * tier's ADS stream, the node (`node.cluster` is its mesh service, as for an Envoy), the template
 * an `XdsServer` names its Listener by, and, for proxyless mTLS (RenderSettings.proxylessMtls),
 * the certificate provider instance every rendered TLS context names.
 */

/**
 * CertificateFiles are where the node's PEM files are: its certificate chain and private key,
 * and the mesh trust bundle. gRPC's `file_watcher` plugin re-reads them every `refreshInterval`,
 * so a renewed certificate is new files, never new xDS resources.
 */
export interface CertificateFiles {
  readonly certificateFile: string;
  readonly privateKeyFile: string;
  readonly caCertificateFile: string;
  /** A protobuf Duration string. @default '600s' */
  readonly refreshInterval?: string;
}

export interface GrpcBootstrapOptions {
  /** The push tier's gRPC address, `host:port`. */
  readonly serverUri: string;
  /** How the node's channel to the push tier is secured (the bootstrap's `channel_creds`). @default [{ type: 'insecure' }] */
  readonly channelCreds?: readonly Record<string, unknown>[];
  readonly service: string;
  readonly nodeId: string;
  readonly zone?: string;
  /** With proxyless mTLS: the files behind names.proxylessCertificateProvider. */
  readonly certificates?: CertificateFiles;
}

/** grpcBootstrap is a proxyless node's bootstrap, with `mesh.proxyless` metadata so it is served the proxyless forms whatever its user agent. */
export function grpcBootstrap(o: GrpcBootstrapOptions): Record<string, unknown> {
  return {
    xds_servers: [{ server_uri: o.serverUri, channel_creds: o.channelCreds ?? [{ type: 'insecure' }], server_features: ['xds_v3'] }],
    // grpc-js 1.14 insists on a locality in the node, even an empty one.
    node: { id: o.nodeId, cluster: o.service, locality: o.zone ? { zone: o.zone } : {}, metadata: { 'mesh.proxyless': true } },
    server_listener_resource_name_template: proxylessServerListenerTemplate,
    ...(o.certificates
      ? {
          certificate_providers: {
            [names.proxylessCertificateProvider]: {
              plugin_name: 'file_watcher',
              config: {
                certificate_file: o.certificates.certificateFile,
                private_key_file: o.certificates.privateKeyFile,
                ca_certificate_file: o.certificates.caCertificateFile,
                refresh_interval: o.certificates.refreshInterval ?? '600s',
              },
            },
          },
        }
      : {}),
  };
}
