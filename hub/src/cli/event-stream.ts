/**
 * The hub's live events (`GET /v1/events`, server-sent events) for CLI commands that follow something as it happens
 * (`fedfleet rollouts watch`). Parses the text/event-stream format of the HTML Living Standard §9.2.6 ("Interpreting
 * an event stream"): records end with a blank line, `event:` names them, `data:` lines join with a newline, lines
 * starting with `:` are comments (the hub's keepalives), and CR, LF or CRLF end a line.
 */
import type { HubClient } from './hub-client.js';

export interface StreamedEvent {
  name: string;
  /** The record's data parsed as JSON (the hub sends one JSON value per record). */
  data: unknown;
}

/** Records of an event stream as they arrive; ends when the stream does (the hub closed it, or `signal` aborted). */
export async function* readEventStream(body: ReadableStream<Uint8Array>): AsyncGenerator<StreamedEvent> {
  const decoder = new TextDecoder();
  let buffered = '';
  let name = '';
  let data: string[] = [];
  /** The records completed by the whole lines of `buffered`; a CR at its very end may be half of a CRLF and waits. */
  function* drain(): Generator<StreamedEvent> {
    const lines = buffered.split(/\r\n|\r(?!$)|\n/);
    buffered = lines.pop()!;
    for (const line of lines) {
      if (line === '') {
        // [§9.2.6] dispatch: an unnamed record is a `message`; a record without data is not dispatched.
        if (data.length > 0) yield { name: name || 'message', data: parseData(data.join('\n')) };
        name = '';
        data = [];
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + (line[colon + 1] === ' ' ? 2 : 1));
      if (field === 'event') name = value;
      else if (field === 'data') data.push(value);
    }
  }
  const reader = body.getReader();
  try {
    for (;;) {
      // Reading fails only when the connection does (aborted, reset, the hub stopped): that ends the stream, and the
      // caller decides whether to reconnect.
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true as const }));
      if (done) {
        // A CR that ends the stream ends its line; a record without its blank line is discarded [§9.2.6].
        if (buffered.endsWith('\r')) buffered = `${buffered.slice(0, -1)}\n`;
        yield* drain();
        return;
      }
      buffered += decoder.decode(value, { stream: true });
      yield* drain();
    }
  } finally {
    reader.releaseLock();
  }
}

function parseData(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * Subscribes to the named hub events. Resolves once the hub accepted the subscription, so that what the caller
 * fetches afterwards cannot miss an event that happened in between.
 */
export async function subscribeToEvents(client: HubClient, names: readonly string[], signal: AbortSignal): Promise<AsyncGenerator<StreamedEvent>> {
  const body = await client.stream(`/v1/events?types=${encodeURIComponent(names.join(','))}`, signal);
  return readEventStream(body);
}
