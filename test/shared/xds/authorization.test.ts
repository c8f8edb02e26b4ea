import { authorizeNode, iamRoleOf } from '../../../shared/xds/authorization';
import { XdsRefusal } from '../../../shared/xds/refusal';

const bound = (partition: string) => `arn:${partition}:iam::111122223333:role/mesh/payments-node`;
const session = (partition: string) => `arn:${partition}:sts::111122223333:assumed-role/payments-node/i-0abc`;
const partitions = ['aws', 'aws-cn', 'aws-us-gov', 'aws-iso', 'aws-iso-b'];

describe('iamRoleOf', () => {
  it.each(partitions)('reads the partition of a role and of its session in %s', (partition) => {
    const expected = { partition, account: '111122223333', name: 'payments-node' };
    expect(iamRoleOf(bound(partition))).toEqual(expected);
    expect(iamRoleOf(session(partition))).toEqual(expected);
  });
});

describe('authorizeNode across partitions', () => {
  // Every pair of partitions: the same account number and role name match only within one.
  const cases = partitions.flatMap((boundIn) => partitions.map((callerIn) => ({ boundIn, callerIn, allowed: boundIn === callerIn })));

  it.each(cases)('a session in $callerIn of a role bound in $boundIn is allowed: $allowed', ({ boundIn, callerIn, allowed }) => {
    const authorize = () => authorizeNode('iam', { kind: 'iam', arn: session(callerIn) }, 'payments', [bound(boundIn)]);
    if (allowed) expect(authorize).not.toThrow();
    else expect(authorize).toThrow(XdsRefusal);
  });

  it('allows a caller whose partition matches one of several bound roles', () => {
    expect(() => authorizeNode('iam', { kind: 'iam', arn: session('aws-cn') }, 'payments', [bound('aws'), bound('aws-cn')])).not.toThrow();
  });
});
