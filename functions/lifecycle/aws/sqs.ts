import { DrainCompletion, DrainScheduler } from '../../../shared/lifecycle/ports';
import { LaunchReadiness, ReadinessScheduler } from '../../../shared/lifecycle/readiness';

/**
 * SqsSendMessageApi is the one SQS call the functions make. In the bundles it is the signed JSON
 * request of sqs-send-message.ts (the SDK's SQS client is about 24 KB of each bundle); tests
 * adapt the SDK's client to it (test/support/sdk-lifecycle.ts) and mock that at the SDK boundary.
 */
export interface SqsSendMessageApi {
  sendMessage(input: { QueueUrl: string; MessageBody: string; DelaySeconds?: number }): Promise<unknown>;
}

/** maxDelaySeconds is SQS's cap on DelaySeconds, hence the spec's cap on drainSeconds. */
export const maxDelaySeconds = 900;

/**
 * SqsDrainScheduler defers a drain's completion with a delayed SQS message; the
 * lifecycle-complete function consumes it. The queue's own retries and dead-letter queue
 * make the completion as durable as the event that started it.
 */
export class SqsDrainScheduler implements DrainScheduler, ReadinessScheduler {
  constructor(
    private readonly sqs: SqsSendMessageApi,
    private readonly queueUrl: string,
  ) {}

  async schedule(completion: DrainCompletion, delaySeconds: number): Promise<void> {
    await this.send(completion, delaySeconds);
  }

  /** scheduleCheck puts a launch readiness check on the same queue; lifecycle-complete tells the two apart by `kind`. */
  async scheduleCheck(check: LaunchReadiness, delaySeconds: number): Promise<void> {
    await this.send(check, delaySeconds);
  }

  private async send(message: DrainCompletion | LaunchReadiness, delaySeconds: number): Promise<void> {
    await this.sqs.sendMessage({
      QueueUrl: this.queueUrl,
      MessageBody: JSON.stringify(message),
      DelaySeconds: Math.max(0, Math.min(maxDelaySeconds, Math.round(delaySeconds))),
    });
  }
}
