import { clusterLoadAssignment } from '../../../shared/render/endpoint';
import { endpoint } from './fixtures';

const claType = 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment';
const at = (address: string) => ({ address: { socket_address: { address, port_value: 15000 } } });

describe('ClusterLoadAssignment', () => {
  it('groups endpoints by zone, sorted, with their health, weight and labels', () => {
    const cla = clusterLoadAssignment('orders', [
      endpoint('orders', 'task-3', { zone: 'eu-west-1b', health: 'draining', address: '10.0.2.3', labels: { revision: '13' } }),
      endpoint('orders', 'task-1', { zone: 'eu-west-1a', address: '10.0.1.1', labels: { revision: '12', weight: '4' } }),
      endpoint('orders', 'task-2', { zone: 'eu-west-1b', health: 'unhealthy', address: '10.0.2.2' }),
      endpoint('orders', 'task-0', { address: '10.0.0.9' }),
    ]);
    expect(cla).toEqual({
      '@type': claType,
      cluster_name: 'orders',
      endpoints: [
        { lb_endpoints: [{ endpoint: at('10.0.0.9'), health_status: 'HEALTHY', load_balancing_weight: 1 }] },
        {
          locality: { zone: 'eu-west-1a' },
          lb_endpoints: [
            {
              endpoint: at('10.0.1.1'),
              health_status: 'HEALTHY',
              load_balancing_weight: 4,
              metadata: { filter_metadata: { 'envoy.lb': { revision: '12', weight: '4' } } },
            },
          ],
        },
        {
          locality: { zone: 'eu-west-1b' },
          lb_endpoints: [
            { endpoint: at('10.0.2.2'), health_status: 'UNHEALTHY', load_balancing_weight: 1 },
            {
              endpoint: at('10.0.2.3'),
              health_status: 'DRAINING',
              load_balancing_weight: 1,
              metadata: { filter_metadata: { 'envoy.lb': { revision: '13' } } },
            },
          ],
        },
      ],
    });
  });

  it.each([
    ['1', 1],
    ['128', 128],
    ['129', 1],
    ['0', 1],
    ['-3', 1],
    ['2.5', 1],
    ['heavy', 1],
  ])('reads the weight label %s as %i', (label, weight) => {
    const cla = clusterLoadAssignment('orders', [endpoint('orders', 'task-1', { labels: { weight: label } })]);
    const [locality] = cla.endpoints as { lb_endpoints: { load_balancing_weight: number }[] }[];
    expect(locality!.lb_endpoints[0]!.load_balancing_weight).toBe(weight);
  });

  it('marks every draining endpoint DRAINING and keeps it listed', () => {
    const eps = Array.from({ length: 6 }, (_, i) =>
      endpoint('orders', `task-${i}`, { zone: `z${i % 2}`, health: i % 3 === 0 ? 'draining' : 'healthy' }),
    );
    const cla = clusterLoadAssignment('orders', eps);
    const statuses = (cla.endpoints as { lb_endpoints: { health_status: string }[] }[]).flatMap((l) => l.lb_endpoints.map((e) => e.health_status));
    expect(statuses.filter((s) => s === 'DRAINING')).toHaveLength(2);
    expect(statuses).toHaveLength(6);
  });

  it('is the same whatever order the endpoints arrive in', () => {
    const eps = Array.from({ length: 20 }, (_, i) => endpoint('orders', `task-${i}`, { zone: `z${i % 3}` }));
    expect(JSON.stringify(clusterLoadAssignment('orders', [...eps].reverse()))).toBe(JSON.stringify(clusterLoadAssignment('orders', eps)));
  });
});
