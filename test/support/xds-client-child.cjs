// A real proxyless gRPC client (@grpc/grpc-js-xds) in its own process, driven over stdin:
// each line `call <n>` (or `call <n> <header>=<value>`, sending that metadata with each call)
// makes n unary calls to `xds:///<target>` one after another and prints
// one JSON line: how many answers came from each server id, and how many calls failed.
// The bootstrap comes from GRPC_XDS_BOOTSTRAP_CONFIG; the target is argv[2], each call's
// deadline argv[3] (ms, default 5000; calls wait for the channel within it). It exits when
// stdin closes, after closing its channel.
'use strict';
const grpc = require('@grpc/grpc-js');
require('@grpc/grpc-js-xds').register();
const readline = require('node:readline');

const target = process.argv[2];
const deadlineMs = Number(process.argv[3] ?? 5000);
const { whoService } = require('./who-service.cjs');

const Client = grpc.makeGenericClientConstructor(whoService, 'Who');
// XDS_CLIENT_CREDENTIALS=xds: TLS where the cluster says so (gRFC A29), plaintext otherwise.
const credentials =
  process.env.XDS_CLIENT_CREDENTIALS === 'xds' ? new (require('@grpc/grpc-js-xds').XdsChannelCredentials)(grpc.credentials.createInsecure()) : grpc.credentials.createInsecure();
const client = new Client(`xds:///${target}`, credentials);

function call(metadata) {
  return new Promise((resolve) => {
    client.Who(Buffer.alloc(0), metadata, { deadline: Date.now() + deadlineMs, waitForReady: true }, (err, reply) =>
      resolve(err ? { error: `${err.code} ${err.details}` } : reply && reply.length > 0 ? { server: reply.toString("utf8") } : { error: `empty reply ${JSON.stringify(reply)}` }),
    );
  });
}

const lines = readline.createInterface({ input: process.stdin });
let queue = Promise.resolve();
lines.on('line', (line) => {
  const match = /^call (\d+)(?: ([^=\s]+)=(\S+))?$/.exec(line.trim());
  if (!match) return;
  const metadata = new grpc.Metadata();
  if (match[2]) metadata.set(match[2], match[3]);
  queue = queue.then(async () => {
    const counts = {};
    let failed = 0;
    let lastError;
    for (let i = 0; i < Number(match[1]); i++) {
      const r = await call(metadata);
      if (r.server) counts[r.server] = (counts[r.server] ?? 0) + 1;
      else {
        failed++;
        lastError = r.error;
      }
    }
    process.stdout.write(`${JSON.stringify({ counts, failed, lastError })}\n`);
  });
});
lines.on('close', () => {
  void queue.then(() => {
    client.close();
    process.exit(0);
  });
});
