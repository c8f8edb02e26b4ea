import { catalogPk, keys, nodeStatusPartitionPrefix } from '../../../shared/store/layout';

/**
 * The xds function may write only where the partition key begins with the node-status prefix
 * (infra/iam.ts, nodeStatusWrites: IAM's dynamodb:LeadingKeys sees only the partition key).
 * That holds only while node status is the one kind of item under that prefix.
 */
describe('the node-status partitions', () => {
  const otherKeys: [string, { pk: string; sk: string }][] = [
    ['a service spec', keys.service('NODES')],
    ['an ECS alias', keys.ecsAlias('orders')],
    ['a dependent', keys.dependent('payments', 'orders')],
    ['an endpoint', keys.endpoint('payments', 'i-0abc')],
    ['an EDS assignment', keys.endpointAssignment('payments')],
    ['a snapshot', keys.snapshot('payments')],
    ['secrets', keys.secrets('payments')],
    ['the CA', keys.certificateAuthority()],
    ['the data key', keys.dataKey()],
  ];

  it('hold every node status', () => {
    expect(keys.nodeStatus('payments', 'i-0abc').pk.startsWith(nodeStatusPartitionPrefix)).toBe(true);
  });

  it.each(otherKeys)('never hold %s', (_, key) => {
    expect(key.pk.startsWith(nodeStatusPartitionPrefix)).toBe(false);
    expect(key.pk === catalogPk || key.pk.startsWith('SVC#')).toBe(true);
  });
});
