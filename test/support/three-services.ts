/**
 * threeServices is the small mesh the local end-to-end tests declare: orders (HTTP) calls
 * payments (HTTP) and ledger (gRPC), and ledger calls payments. In dependency order.
 */
export const threeServices = {
  payments: { name: 'payments', inboundPort: 15000, appPort: 8080, protocol: 'http' },
  ledger: { name: 'ledger', inboundPort: 15001, appPort: 8081, protocol: 'grpc', dependencies: [{ service: 'payments', localPort: 9001 }] },
  orders: {
    name: 'orders',
    inboundPort: 15002,
    appPort: 8082,
    protocol: 'http',
    dependencies: [
      { service: 'payments', localPort: 9001 },
      { service: 'ledger', localPort: 9002 },
    ],
  },
} as const;
