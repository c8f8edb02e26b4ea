import { buildNodeWorld, NodeWorldResult } from '../../../shared/model/node-world';
import { ServiceSpec } from '../../../shared/model/spec';
import { spec } from '../render/fixtures';

const payments = spec({ name: 'payments' });
const ledger = spec({ name: 'ledger', protocol: 'grpc' });
const orders = spec({ name: 'orders', dependencies: [{ service: 'payments', localPort: 9001 }] });
const billing = spec({ name: 'billing', dependencies: [{ service: 'payments', localPort: 9001 }, { service: 'ledger', localPort: 9002 }] });
const formerCaller = spec({ name: 'former' }); // listed in the index, but no longer calls payments

const catalog = (...specs: ServiceSpec[]) => new Map(specs.map((s) => [s.name, s]));

describe('buildNodeWorld', () => {
  it.each<[string, ServiceSpec, Map<string, ServiceSpec>, string[], NodeWorldResult]>([
    ['a service with no dependencies and no callers', payments, catalog(payments), [], { world: { spec: payments, dependencies: new Map(), callers: [] } }],
    [
      'a service with its dependencies',
      billing,
      catalog(billing, payments, ledger),
      [],
      { world: { spec: billing, dependencies: catalog(payments, ledger), callers: [] } },
    ],
    [
      'the callers whose specs still declare the service, sorted and once each',
      payments,
      catalog(payments, orders, billing),
      ['orders', 'billing', 'orders'],
      { world: { spec: payments, dependencies: new Map(), callers: ['billing', 'orders'] } },
    ],
    [
      'no caller the index lists but whose spec no longer declares the service',
      payments,
      catalog(payments, orders, formerCaller),
      ['former', 'orders'],
      { world: { spec: payments, dependencies: new Map(), callers: ['orders'] } },
    ],
    ['no caller whose spec is gone', payments, catalog(payments), ['orders'], { world: { spec: payments, dependencies: new Map(), callers: [] } }],
    ['the dependencies that are missing, and no world', billing, catalog(billing, payments), [], { missingDependencies: ['ledger'] }],
  ])('builds %s', (_what, service, specs, listed, expected) => {
    expect(buildNodeWorld(service, specs, listed)).toEqual(expected);
  });
});
