import { AwsRequestError, AwsRequestOptions, awsSender } from '../../lib/aws-request';
import type { SqsSendMessageApi } from './sqs';

/**
 * sqsSendMessage is the functions' one SQS call, SendMessage, as a signed request in SQS's JSON
 * 1.0 protocol (`X-Amz-Target: AmazonSQS.SendMessage`) on functions/lib/aws-request.ts. Errors
 * are AwsRequestErrors named by SQS's error type (`QueueDoesNotExist`).
 * test/functions/lean-lifecycle-clients.test.ts compares it with the SDK's client on the same answers.
 */
export function sqsSendMessage(options: AwsRequestOptions): SqsSendMessageApi {
  const send = awsSender('sqs', options, (status, text) => {
    let answer: Record<string, unknown> = {};
    try {
      answer = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // not JSON
    }
    const type = String(answer.__type ?? (status >= 500 ? 'ServiceUnavailable' : `Http${status}`)).replace(/^.*#/, '');
    return new AwsRequestError(type, status, String(answer.message ?? answer.Message ?? `SQS answered ${status}`));
  });
  return {
    async sendMessage(input) {
      const text = await send({ 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.SendMessage' }, JSON.stringify(input));
      return JSON.parse(text) as unknown;
    },
  };
}
