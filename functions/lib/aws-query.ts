import { AwsRequestError, AwsRequestOptions, awsSender } from './aws-request';
import { XmlElement, child, parseXml, textOf } from './xml';

/**
 * querySender posts one action of an AWS Query API (EC2, Auto Scaling: a form-encoded POST with
 * `Action` and `Version`) on functions/lib/aws-request.ts and returns the parsed XML answer;
 * errors are AwsRequestErrors named by the service's error code.
 */
export function querySender(service: string, version: string, options: AwsRequestOptions): (action: string, params: readonly (readonly [string, string])[]) => Promise<XmlElement> {
  const send = awsSender(service, options, queryErrorOf);
  return async (action, params) => {
    const form = new URLSearchParams({ Action: action, Version: version });
    for (const [name, value] of params) form.append(name, value);
    return parseXml(await send({ 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, form.toString()));
  };
}

/**
 * queryErrorOf reads a Query API error document: EC2's (`<Response><Errors><Error><Code>`) or
 * the others' (`<ErrorResponse><Error><Code>`), or names the status when the answer is not XML
 * (a load balancer's or proxy's).
 */
export function queryErrorOf(status: number, text: string): AwsRequestError {
  let code: string | undefined;
  let message: string | undefined;
  let requestId: string | undefined;
  try {
    const doc = parseXml(text);
    const error = child(doc, 'Error') ?? child(child(doc, 'Errors'), 'Error');
    code = textOf(error, 'Code');
    message = textOf(error, 'Message');
    requestId = textOf(doc, 'RequestID') ?? textOf(doc, 'RequestId');
  } catch {
    // not XML
  }
  return new AwsRequestError(code ?? (status >= 500 ? 'ServiceUnavailable' : `Http${status}`), status, message ?? `answered ${status}`, requestId);
}
