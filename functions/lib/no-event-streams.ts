/**
 * What the bundles have in place of `@smithy/core/event-streams` (infra/mesh-function.ts
 * aliases it here). The SDK's protocols load that module only to serialise or read an event
 * stream, which no operation the functions call has (DynamoDB, KMS, EC2, ECS, Auto Scaling and
 * SQS operations are plain requests and responses); it is 14 KB of every bundle otherwise. An
 * operation that did stream would fail here with this message, never silently.
 */
function refuse(): never {
  throw new Error('event streams are not bundled in the control-plane functions (infra/mesh-function.ts, lambdaAliases)');
}

export class EventStreamSerde {
  constructor() {
    refuse();
  }
}

export const eventStreamSerdeProvider = (): never => refuse();
