/** A tiny JSON client for the local control plane, so tests read as requests and answers. */
export interface Answer {
  readonly status: number;
  readonly body: unknown;
  readonly text: string;
}

export async function request(
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown | string,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  const res = await fetch(baseUrl + path, {
    method,
    body: payload,
    headers: { ...(payload !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
  });
  const text = await res.text();
  return { status: res.status, body: parseOrText(text), text };
}

function parseOrText(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
