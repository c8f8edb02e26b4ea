import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { envoyBootstrap } from '../shared/bootstrap/envoy-bootstrap';
import { defaultRenderSettings } from '../shared/render/settings';
import { typeUrls, XdsTypeName } from '../shared/envoy/resources';
import { contentVersion } from '../shared/envoy/version';

/**
 * The size of a REST poll as Envoy 1.36 sends it. Envoy's REST subscription copies the whole
 * local node into every DiscoveryRequest (http_subscription_impl.cc: `request_.mutable_node()->
 * CopyFrom(local_info.node())`), and at start-up the server adds to that node one `extensions`
 * entry per registered (category, factory) pair with its config type names (server.cc), plus its
 * user agent and build version. So every poll carries the list of every compiled-in extension.
 * The list is bench/data/envoy-extensions.tsv, transcribed from Envoy's
 * source/extensions/extensions_metadata.yaml; the request is the JSON Envoy's REST client POSTs
 * (proto field names, defaults omitted). Measured here, not timed: pure computation.
 */

/** Extensions in Envoy's list that a Linux build of the official image does not register. */
const notInLinuxImage = new Set([
  'envoy.network.dns_resolver.apple', // macOS/iOS only
  'envoy.filters.network.envoy_mobile_http_connection_manager', // Envoy Mobile only
  'envoy.wasm.runtime.wamr', // not built by default
  'envoy.wasm.runtime.wasmtime', // not built by default
]);

export interface NodeExtension {
  readonly name: string;
  readonly category: string;
  readonly type_urls?: readonly string[];
}

/** envoyNodeExtensions is node.extensions as Envoy fills it: one entry per category of each extension, sorted type names. */
export function envoyNodeExtensions(): NodeExtension[] {
  const lines = readFileSync(join(__dirname, 'data', 'envoy-extensions.tsv'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'));
  const out: NodeExtension[] = [];
  for (const line of lines) {
    const [name, categories, types] = line.split('\t') as [string, string, string | undefined];
    if (notInLinuxImage.has(name)) continue;
    const typeUrls = (types ?? '').split(',').filter(Boolean).sort();
    for (const category of categories.split(',')) {
      out.push({ name, category, ...(typeUrls.length > 0 ? { type_urls: typeUrls } : {}) });
    }
  }
  return out;
}

/** The node an Envoy of the generated bootstrap sends: the bootstrap's node plus what Envoy adds at start. */
export function envoyRequestNode(): Record<string, unknown> {
  const bootstrap = envoyBootstrap(
    {
      service: 'orders-service',
      // An ECS task id (32 hex digits) and a zone, as the sidecar writes them.
      nodeId: '0f1e2d3c4b5a69788796a5b4c3d2e1f0',
      zone: 'us-east-1a',
      controlPlaneUrl: 'https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws',
      signing: { region: 'us-east-1', serviceName: 'lambda' },
    },
    defaultRenderSettings,
  );
  return {
    ...(bootstrap.node as Record<string, unknown>),
    user_agent_name: 'envoy',
    user_agent_build_version: {
      version: { major_number: 1, minor_number: 36, patch: 2 },
      metadata: {
        'revision.sha': '0123456789abcdef0123456789abcdef01234567',
        'revision.status': 'Clean',
        'build.type': 'RELEASE',
        'ssl.version': 'BoringSSL',
      },
    },
    extensions: envoyNodeExtensions(),
    client_features: ['envoy.lb.does_not_support_overprovisioning', 'envoy.lrs.supports_send_all_clusters'],
  };
}

/** discoveryRequestBody is the JSON body of one steady-state poll (version_info set: the node has applied an update). */
export function discoveryRequestBody(type: XdsTypeName, node: Record<string, unknown>, resourceNames: readonly string[] = []): string {
  return JSON.stringify({
    version_info: contentVersion([type]),
    node,
    ...(resourceNames.length > 0 ? { resource_names: resourceNames } : {}),
    type_url: typeUrls[type],
  });
}

/**
 * Bytes a poll costs on the wire besides its body, on HTTP/1.1 (the bootstrap's xDS cluster) in
 * TLS. Request headers: the request line, Host (the function URL host), content-type,
 * content-length, and SigV4's x-amz-date, x-amz-content-sha256 (64 hex), authorization (~230
 * bytes) and x-amz-security-token (a role session token, about 1,000 to 1,300 bytes): about 1,700
 * bytes. A 304 answer: status line and the function URL's headers (date, x-amzn-requestid, ...),
 * about 300 bytes. TLS records add about 30 bytes each way. TCP/IP headers and the TLS handshake of
 * a new connection are left out (connections are kept alive).
 */
export const wireOverhead = { requestHeaderBytes: 1700, response304Bytes: 300, tlsRecordBytes: 30 } as const;

export interface PollSizes {
  readonly extensions: number;
  readonly nodeBytes: number;
  /** Body of a wildcard CDS poll and of an EDS poll for one cluster. */
  readonly cdsBodyBytes: number;
  readonly edsBodyBytes: number;
  /** One steady-state poll (EDS) on the wire, request and 304 answer together. */
  readonly pollWireBytes: number;
  /** The same poll if the node carried no extension list (what the bench's minimal node sends). */
  readonly minimalPollWireBytes: number;
}

export function pollSizes(): PollSizes {
  const node = envoyRequestNode();
  const { extensions, ...minimal } = node as { extensions: unknown[] };
  const eds = discoveryRequestBody('endpoints', node, ['payments-service']);
  const wire = (body: string) =>
    Buffer.byteLength(body) + wireOverhead.requestHeaderBytes + wireOverhead.response304Bytes + 2 * wireOverhead.tlsRecordBytes;
  return {
    extensions: extensions.length,
    nodeBytes: Buffer.byteLength(JSON.stringify(node)),
    cdsBodyBytes: Buffer.byteLength(discoveryRequestBody('clusters', node)),
    edsBodyBytes: Buffer.byteLength(eds),
    pollWireBytes: wire(eds),
    minimalPollWireBytes: wire(discoveryRequestBody('endpoints', minimal, ['payments-service'])),
  };
}
