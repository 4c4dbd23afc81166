/**
 * Reading the rest of a refused request body before the connection closes. When the hub refuses a request before
 * reading all of its body (413: the body is over the route's limit) fastify closes the connection after the reply,
 * since the client may still be sending. Closing a TCP socket with unread bytes in its receive buffer makes the
 * kernel send RST instead of FIN (RFC 1122 §4.2.2.13), and an RST makes the client's kernel discard data it had
 * not read yet — the 413 and its error body — so the client sees ECONNRESET or EPIPE instead of the answer.
 * Discarding the rest of the body first lets the close be a clean FIN. Bounded in bytes and time: a client that
 * sends more, or too slowly, is cut off as before.
 */
import type { IncomingMessage } from 'node:http';
import type { Clock } from '../clock.js';

export interface DrainLimits {
  /** Most body bytes read and discarded. */
  maxBytes: number;
  /** Longest wait for the end of the body. */
  timeoutMs: number;
  clock: Clock;
}

/** The largest body any route accepts (validation sets, 128 MiB): draining more than that is serving an abuser. */
export const DRAIN_MAX_BYTES = 128 * 1024 * 1024;
export const DRAIN_TIMEOUT_MS = 30_000;

/** Whether the whole request (body included) has been received. */
export function bodyFullyRead(raw: IncomingMessage): boolean {
  return raw.complete || raw.readableEnded;
}

/**
 * Reads and discards what is left of `raw`'s body. Resolves `true` when the body ended, `false` when a limit was
 * reached or the connection failed first; never rejects.
 */
export function drainRequestBody(raw: IncomingMessage, limits: DrainLimits): Promise<boolean> {
  if (bodyFullyRead(raw)) return Promise.resolve(true);
  if (raw.destroyed) return Promise.resolve(false);
  const announcedBytes = Number(raw.headers['content-length']);
  if (announcedBytes > limits.maxBytes) return Promise.resolve(false);
  return new Promise((resolve) => {
    let bytes = 0;
    const finish = (drained: boolean) => {
      limits.clock.clearTimer(timer);
      raw.off('data', onData).off('end', onEnd).off('error', onFailure).off('close', onClose);
      resolve(drained);
    };
    const onData = (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > limits.maxBytes) finish(false);
    };
    const onEnd = () => finish(true);
    const onFailure = () => finish(false);
    const onClose = () => finish(bodyFullyRead(raw));
    const timer = limits.clock.setTimeout(() => finish(false), limits.timeoutMs);
    raw.on('data', onData).once('end', onEnd).once('error', onFailure).once('close', onClose);
    raw.resume();
  });
}
