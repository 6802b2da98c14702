// Plain-fetch helpers for tests that talk to the fake GitHub directly.

export interface CallResult {
  status: number;
  headers: Headers;
  /** Parsed JSON, the text when not JSON, undefined when empty. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read GitHub's JSON by field, as a client would
  body: any;
}

/** One REST request; `body` is sent as JSON. */
export async function call(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<CallResult> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { accept: "application/vnd.github+json", authorization: "token test-token", ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  let parsed: unknown = undefined;
  if (text !== "") {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

/** One GraphQL request (POST /graphql). */
export function graphql(base: string, query: string, variables: Record<string, unknown> = {}): Promise<CallResult> {
  return call(base, "POST", "/graphql", { query, variables });
}

/** `key` of every element of a JSON array (`pluck(res.body, "name")`). */
export function pluck(list: unknown, key: string): unknown[] {
  if (!Array.isArray(list)) throw new Error(`expected an array, got ${JSON.stringify(list)}`);
  return list.map((item: Record<string, unknown>) => item[key]);
}
