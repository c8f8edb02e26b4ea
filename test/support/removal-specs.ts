/**
 * The specs the make-before-break tests change between (test/shared/xds/removals.test.ts on the
 * REST tier, test/server/removals.test.ts on the push tier): `orders` depending on whichever
 * services a step names, each on its own local port.
 */
export const ledger = { name: 'ledger', inboundPort: 15000, appPort: 8080, protocol: 'grpc' };

export const orders = (...deps: string[]) => ({
  name: 'orders',
  inboundPort: 15000,
  appPort: 8080,
  protocol: 'http',
  dependencies: deps.map((service, i) => ({ service, localPort: 9001 + i })),
});
