// A real proxyless gRPC *server* (@grpc/grpc-js-xds XdsServer) in its own process: it serves
// `/test.Who/Who` (answering with its id, argv[2]) on the address argv[3] (IP:port) exactly as
// the Listener the control plane sends it says (mTLS, RBAC per route). The bootstrap comes from
// GRPC_XDS_BOOTSTRAP_CONFIG. With RBAC_PER_ROUTE_SHIM=1 it first works around a bug of
// @grpc/grpc-js-xds 1.14.1 (see below). It prints `{"serving":<port>}` once the Listener and its routes
// arrived and it serves, and shuts down when stdin closes.
'use strict';
const grpc = require('@grpc/grpc-js');
const xds = require('@grpc/grpc-js-xds');
xds.register(); // registers the HTTP filters (router, RBAC) and the resolver
const { whoService } = require('./who-service.cjs');

// grpc-js-xds 1.14.1 looks a per-route override up in its filter registry by the override's own
// type URL (RBACPerRoute), while the RBAC filter registers only under RBAC's: every RBACPerRoute
// is dropped, and the listener's own rules apply (ours deny everything: it fails closed). The
// shim registers RBACPerRoute's type URL, parsing the override as the RBAC message it wraps
// (RBACPerRoute's field 2, `rbac`) with the library's own parser, so the override applies as gRFC A41 says.
if (process.env.RBAC_PER_ROUTE_SHIM === '1') {
  const filters = require('@grpc/grpc-js-xds/build/src/http-filter');
  const rbacUrl = 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC';
  const rbacField = (bytes) => {
    if (bytes[0] !== 0x12) return Buffer.alloc(0); // field 2, length-delimited
    let length = 0;
    let i = 1;
    for (let shift = 0; ; shift += 7, i++) {
      length |= (bytes[i] & 0x7f) << shift;
      if ((bytes[i] & 0x80) === 0) break;
    }
    return bytes.subarray(i + 1, i + 1 + length);
  };
  filters.registerHttpFilter('type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBACPerRoute', {
    parseTopLevelFilterConfig: () => null,
    parseOverrideFilterConfig: (any) => filters.parseTopLevelFilterConfig({ type_url: rbacUrl, value: rbacField(any.value) }, false),
  });
}

const id = process.argv[2];
const address = process.argv[3];
const server = new xds.XdsServer();
server.addService(whoService, { Who: (_call, callback) => callback(null, Buffer.from(id)) });
server.bindAsync(address, new xds.XdsServerCredentials(grpc.ServerCredentials.createInsecure()), (err, port) => {
  if (err) {
    process.stderr.write(`bind failed: ${err.message}\n`);
    process.exit(1);
  }
  process.stdout.write(`${JSON.stringify({ serving: port })}\n`);
});
process.stdin.on('end', () => {
  server.forceShutdown();
  process.exit(0);
});
process.stdin.resume();
