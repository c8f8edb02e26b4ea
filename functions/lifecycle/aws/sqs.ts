import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DrainCompletion, DrainScheduler } from '../../../shared/lifecycle/ports';

/** maxDelaySeconds is SQS's cap on DelaySeconds, hence the spec's cap on drainSeconds. */
export const maxDelaySeconds = 900;

/**
 * SqsDrainScheduler defers a drain's completion with a delayed SQS message; the
 * lifecycle-complete function consumes it. The queue's own retries and dead-letter queue
 * make the completion as durable as the event that started it.
 */
export class SqsDrainScheduler implements DrainScheduler {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async schedule(completion: DrainCompletion, delaySeconds: number): Promise<void> {
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: JSON.stringify(completion),
        DelaySeconds: Math.max(0, Math.min(maxDelaySeconds, Math.round(delaySeconds))),
      }),
    );
  }
}
