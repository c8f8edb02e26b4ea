// The test service real gRPC servers and the xDS client child speak: `/test.Who/Who` answers
// with the server's id. Bytes in, bytes out, so no proto is needed. CommonJS, so the child
// process (plain node) and the TypeScript tests share it.
'use strict';
const passthrough = (b) => b;
exports.whoService = {
  Who: {
    path: '/test.Who/Who',
    requestStream: false,
    responseStream: false,
    requestSerialize: passthrough,
    requestDeserialize: passthrough,
    responseSerialize: passthrough,
    responseDeserialize: passthrough,
  },
};
