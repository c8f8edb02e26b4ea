import { createHmac, timingSafeEqual } from 'node:crypto';
import { XdsRefusal } from './refusal';

/**
 * Who is polling. In AWS the front door (a function URL with AWS_IAM auth) has verified the
 * SigV4 signature, and the handler gets the caller's ARN: the instance's or task's role. The
 * local runner can use per-service bearer tokens instead, so the same binding is testable.
 */
export type Principal =
  | { readonly kind: 'iam'; readonly arn: string }
  | { readonly kind: 'service-token'; readonly service: string }
  /** A mesh certificate the push tier verified in the TLS handshake (server/identity.ts). */
  | { readonly kind: 'certificate'; readonly service: string };

/**
 * How the xDS endpoint authenticates: IAM in AWS (REST tier), mesh certificates (`mtls`, the
 * push tier's streams); tokens or nothing on the local runner.
 */
export type AuthMode = 'iam' | 'mtls' | 'token' | 'none';

/**
 * IamRole is a role as it can be compared across its ARN forms: partition, account and name.
 * The partition counts: `aws`, `aws-cn` and `aws-us-gov` are separate identity systems whose
 * account numbers are not coordinated, so a role in one never stands for a role in another.
 */
export interface IamRole {
  readonly partition: string;
  readonly account: string;
  readonly name: string;
}

/**
 * iamRoleOf reads the role out of a role ARN (`arn:aws:iam::123:role/path/name`) or of the
 * ARN STS gives a session of it (`arn:aws:sts::123:assumed-role/name/session`). An assumed-role
 * ARN drops the role's path, so roles are compared by partition, account and name.
 */
export function iamRoleOf(arn: string): IamRole | undefined {
  const assumed = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([\w+=,.@-]{1,64})\/[\w+=,.@-]{2,64}$/.exec(arn);
  if (assumed) return { partition: assumed[1]!, account: assumed[2]!, name: assumed[3]! };
  const role = /^arn:(aws[a-z-]*):iam::(\d{12}):role\/(?:[\w+=,.@/-]*\/)?([\w+=,.@-]{1,64})$/.exec(arn);
  if (role) return { partition: role[1]!, account: role[2]!, name: role[3]! };
  return undefined;
}

/**
 * authorizeNode decides whether a principal may fetch the configuration (and secrets) of a
 * service. A node of `orders` gets `orders`' resources and nothing else: `unauthenticated` when
 * nobody is authenticated, `refused` when the caller is bound to another service.
 */
export function authorizeNode(
  mode: AuthMode,
  principal: Principal | undefined,
  service: string,
  boundRoleArns: readonly string[],
): void {
  if (mode === 'none') return;
  if (!principal) throw new XdsRefusal('unauthenticated', 'the request is not authenticated');
  if (mode === 'token' || mode === 'mtls') {
    const kind = mode === 'token' ? 'service-token' : 'certificate';
    if (principal.kind !== kind || principal.service !== service) {
      throw new XdsRefusal('refused', `the caller is not allowed to fetch the configuration of "${service}"`);
    }
    return;
  }
  const caller = principal.kind === 'iam' ? iamRoleOf(principal.arn) : undefined;
  const allowed =
    caller !== undefined &&
    boundRoleArns.some((arn) => {
      const role = iamRoleOf(arn);
      return role !== undefined && role.partition === caller.partition && role.account === caller.account && role.name === caller.name;
    });
  if (!allowed) throw new XdsRefusal('refused', `the caller is not allowed to fetch the configuration of "${service}"`);
}

/**
 * ServiceTokens issues and checks the local runner's per-service bearer tokens:
 * `<service>.<HMAC-SHA256(secret, service)>`. The secret is made at start and never leaves the
 * process; a token says only which service it is for.
 */
export class ServiceTokens {
  constructor(private readonly secret: Buffer) {}

  issue(service: string): string {
    return `${service}.${this.mac(service)}`;
  }

  /** verify returns the principal a bearer token stands for, or undefined when it is not genuine. */
  verify(authorization: string | undefined): Principal | undefined {
    const match = /^Bearer ([a-z0-9-]{1,63})\.([A-Za-z0-9_-]{43})$/.exec(authorization ?? '');
    if (!match) return undefined;
    const [, service, mac] = match as unknown as [string, string, string];
    const expected = Buffer.from(this.mac(service));
    const given = Buffer.from(mac);
    return given.length === expected.length && timingSafeEqual(given, expected) ? { kind: 'service-token', service } : undefined;
  }

  private mac(service: string): string {
    return createHmac('sha256', this.secret).update(service).digest('base64url');
  }
}
