import { parseArgs } from 'node:util';
import { startLocalControlPlane } from './server';
import { RouteDelivery, defaultRenderSettings, routeDeliveries } from '../shared/render/settings';
import { parseObservability } from '../functions/lib/render-config';
import { fileCertificateSource, parseGatewayCertificateFlags } from './gateway-certificates';

/**
 * `npm start`: the control plane on this machine, on embedded DynamoDB (in memory unless
 * --data-dir is given), serving REST xDS, lifecycle events and the management API.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      'grpc-port': { type: 'string' },
      host: { type: 'string' },
      'data-dir': { type: 'string' },
      auth: { type: 'string' },
      routes: { type: 'string' },
      observability: { type: 'string' },
      'gateway-certificate': { type: 'string', multiple: true },
      'proxyless-mtls': { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(
      'usage: npm start -- [--port 18000] [--grpc-port 18001] [--host 127.0.0.1] [--data-dir ./.data] [--auth none|token] [--routes rds|inline] [--observability JSON] [--gateway-certificate <secret arn>=<chain.pem>,<key.pem> ...] [--proxyless-mtls] [--verbose]',
    );
    return;
  }
  process.env.POWERTOOLS_LOG_LEVEL ??= values.verbose ? 'INFO' : 'WARN';
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  // The SDK warns that it will need Node 22 from 2027; Lambdas run 22, the local runner may run 20.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const rawPort = values.port ?? process.env.PORT ?? '18000';
  const port = Number(rawPort);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`--port must be a port number, got "${rawPort}"`);
    process.exit(2);
  }
  const rawGrpcPort = values['grpc-port'] ?? process.env.GRPC_PORT ?? '18001';
  const grpcPort = Number(rawGrpcPort);
  if (!Number.isInteger(grpcPort) || grpcPort < 0 || grpcPort > 65535) {
    console.error(`--grpc-port must be a port number, got "${rawGrpcPort}"`);
    process.exit(2);
  }
  const auth = values.auth ?? 'none';
  if (auth !== 'none' && auth !== 'token') {
    console.error(`--auth must be none or token, got "${auth}"`);
    process.exit(2);
  }
  const routeDelivery = values.routes ?? 'rds';
  if (!(routeDeliveries as readonly string[]).includes(routeDelivery)) {
    console.error(`--routes must be ${routeDeliveries.join(' or ')}, got "${routeDelivery}"`);
    process.exit(2);
  }
  // The mesh-wide observability default, as ControlPlaneProps.observability sets it in AWS.
  const rawObservability = values.observability ?? process.env.MESH_OBSERVABILITY;
  let observability;
  try {
    observability = rawObservability ? parseObservability(rawObservability) : undefined;
  } catch (err) {
    console.error(`--observability: ${(err as Error).message}`);
    process.exit(2);
  }
  // The gateway TLS certificates Secrets Manager holds in AWS, as PEM files by secret ARN.
  let gatewayCertificates;
  try {
    gatewayCertificates = fileCertificateSource(parseGatewayCertificateFlags(values['gateway-certificate'] ?? []));
  } catch (err) {
    console.error((err as Error).message);
    process.exit(2);
  }
  const cp = await startLocalControlPlane({
    gatewayCertificates,
    port,
    grpcPort,
    host: values.host,
    dataDir: values['data-dir'],
    auth,
    config: { render: { ...defaultRenderSettings, routeDelivery: routeDelivery as RouteDelivery, ...(observability ? { observability } : {}), ...(values['proxyless-mtls'] ? { proxylessMtls: true } : {}) } },
  });
  const store = values['data-dir'] ? `embedded DynamoDB in ${values['data-dir']}` : 'embedded DynamoDB in memory';
  const authLine =
    auth === 'token'
      ? `The management API (everything but /v3/) needs the admin token: -H "Authorization: Bearer ${cp.adminToken}"
xDS polls need "Authorization: Bearer <token>" of their service: POST /services/{name}/token (with the admin token),
or GET /bootstrap/{service}?node=<id>, whose bootstrap carries the node's token; ADS streams carry it as "authorization" metadata`
      : 'xDS polls are not authenticated (--auth token binds each caller to its service, as IAM does in AWS)';
  console.log(`Envoy control plane listening on ${cp.url} (${store})
ADS over gRPC (the push tier: Envoys with api_type GRPC, proxyless gRPC clients) on ${values.host ?? '127.0.0.1'}:${cp.grpc?.port}; an Envoy's ADS bootstrap: GET /bootstrap/{service}?node=<id>&tier=grpc
${authLine}
The mesh page: ${cp.url}/mesh · the command line: npx meshctl --help

Try:
  curl -s -X PUT ${cp.url}/services/payments -d '{"name":"payments","inboundPort":15000,"appPort":8080,"protocol":"http"}'
  curl -s -X PUT ${cp.url}/services/orders -d '{"name":"orders","inboundPort":15000,"appPort":8080,"protocol":"http","dependencies":[{"service":"payments","localPort":9001}]}'
  curl -s ${cp.url}/services
  curl -s -X POST ${cp.url}/v3/discovery:clusters -d '{"node":{"id":"orders-1","cluster":"orders"}}'
See README.md for events, endpoints and the Envoy bootstrap.`);
  const stop = async () => {
    await cp.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
