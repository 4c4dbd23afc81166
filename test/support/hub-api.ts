/** A small admin client of the hub's HTTP API for benchmarks, demos and end-to-end tests. */

/** An API error with the hub's stable code (`HUB_ERR_*`) and HTTP status. */
export class HubApiError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
  ) {
    super(`${code} (HTTP ${status}): ${message}`);
    this.name = 'HubApiError';
  }
}

export class HubApi {
  constructor(
    readonly baseUrl: string,
    private readonly adminToken: string,
  ) {}

  /** JSON request; resolves with the parsed body (undefined for 204). */
  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.send(method, path, body);
    if (response.status === 204) return undefined as T;
    return (await response.json()) as T;
  }

  /** GET returning raw bytes (e.g. a model artifact). */
  async bytes(path: string): Promise<Uint8Array> {
    const response = await this.send('GET', path);
    return new Uint8Array(await response.arrayBuffer());
  }

  /** GET returning the parsed body and a response header (e.g. `x-total-count`). */
  async withHeader<T>(path: string, header: string): Promise<{ body: T; header: string | null }> {
    const response = await this.send('GET', path);
    return { body: (await response.json()) as T, header: response.headers.get(header) };
  }

  private async send(method: string, path: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.adminToken}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    if (!response.ok) {
      const text = await response.text();
      let code = 'HTTP_ERROR';
      let message = text;
      try {
        const parsed = JSON.parse(text) as { error?: { code?: string; message?: string } };
        code = parsed.error?.code ?? code;
        message = parsed.error?.message ?? text;
      } catch {
        // Not JSON: keep the text.
      }
      throw new HubApiError(code, response.status, `${method} ${path}: ${message}`);
    }
    return response;
  }
}
